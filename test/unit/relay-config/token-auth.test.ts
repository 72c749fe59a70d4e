// The tokenAuth section and SenderDomain ServiceAccount grants: defaults, and every mistake named by its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateRelayConfig } from '../../../relay/config/validate.ts';

const rsaKey = { kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'sXch', e: 'AQAB' };
const withTokens = {
  hostname: 'relay.example.com',
  listeners: [{ name: 'submission', port: 587, mode: 'submission' }],
  tls: { certificates: [{ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' }] },
  tokenAuth: { issuer: 'https://kubernetes.default.svc', audiences: ['mailfleet.dev/smtp'], keys: [rsaKey] },
  policy: { senderDomains: [{ domain: 'a.example', serviceAccounts: [{ namespace: 'team-a' }] }] },
};

test('tokenAuth alone makes a submission listener valid, with bounded defaults', () => {
  const result = validateRelayConfig(withTokens, 'relay.yaml');
  assert.ok(result.ok, JSON.stringify(result));
  const { clockSkewSeconds, maxTokenLifetimeSeconds, unknownKeyRereadSeconds } =
    result.config.tokenAuth ?? {};
  assert.deepEqual([clockSkewSeconds, maxTokenLifetimeSeconds, unknownKeyRereadSeconds], [30, 3600, 30]);
});

const invalid: { name: string; change: (config: typeof withTokens) => unknown; error: RegExp }[] = [
  {
    name: 'a private key member is refused',
    change: (config) => ({
      ...config,
      tokenAuth: { ...config.tokenAuth, keys: [{ ...rsaKey, d: 'secret' }] },
    }),
    error: /\/tokenAuth\/keys\/0: must NOT have additional properties \(unknown field "d"\)/,
  },
  {
    name: 'an RSA key without its modulus',
    change: (config) => ({
      ...config,
      tokenAuth: { ...config.tokenAuth, keys: [{ ...rsaKey, n: undefined }] },
    }),
    error: /\/tokenAuth\/keys\/0: a RSA key needs n/,
  },
  {
    name: 'a key id listed twice',
    change: (config) => ({ ...config, tokenAuth: { ...config.tokenAuth, keys: [rsaKey, rsaKey] } }),
    error: /\/tokenAuth\/keys\/1\/kid: "k1" is listed twice/,
  },
  {
    name: 'a symmetric algorithm',
    change: (config) => ({
      ...config,
      tokenAuth: { ...config.tokenAuth, keys: [{ ...rsaKey, alg: 'HS256' }] },
    }),
    error: /\/tokenAuth\/keys\/0\/alg: must be equal to one of the allowed values/,
  },
  {
    name: 'an unbounded lifetime',
    change: (config) => ({
      ...config,
      tokenAuth: { ...config.tokenAuth, maxTokenLifetimeSeconds: 31536000 },
    }),
    error: /\/tokenAuth\/maxTokenLifetimeSeconds: must be <= 86400/,
  },
  {
    name: 'tokens without TLS',
    change: (config) => ({
      ...config,
      tls: undefined,
      listeners: [{ name: 'smtp', port: 25, mode: 'relay' }],
    }),
    error: /\/tokenAuth: AUTH is only offered over TLS/,
  },
  {
    name: 'ServiceAccounts granted without tokenAuth',
    change: (config) => ({
      ...config,
      tokenAuth: undefined,
      listeners: [{ name: 'smtp', port: 25, mode: 'relay' }],
    }),
    error:
      /\/policy\/senderDomains\/0\/serviceAccounts: ServiceAccounts are listed but \/tokenAuth is not configured/,
  },
  {
    name: 'a grant naming no valid namespace',
    change: (config) => ({
      ...config,
      policy: { senderDomains: [{ domain: 'a.example', serviceAccounts: [{ namespace: 'Team A' }] }] },
    }),
    error: /\/policy\/senderDomains\/0\/serviceAccounts\/0\/namespace: must be a Kubernetes namespace name/,
  },
];

for (const { name, change, error } of invalid) {
  test(`invalid: ${name}`, () => {
    const result = validateRelayConfig(change(structuredClone(withTokens)), 'relay.yaml');
    assert.ok(!result.ok);
    assert.match(result.errors.join('\n'), error);
  });
}
