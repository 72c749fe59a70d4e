// What spec.serviceAccountTokens and a SenderDomain's spec.serviceAccounts become in the relay
// config, validated by the relay's own schema (the contract), and the refusals naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { senderDomainKind } from '../../../operator/api/kinds.ts';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import { renderRelayConfig } from '../../../operator/render/relay-config.ts';
import type { IssuerKeysResult } from '../../../operator/render/relay-token-auth.ts';
import { validateRelayConfig } from '../../../relay/config/validate.ts';
import { namespace, servedRelay } from './fixtures.ts';

const keys = [{ kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'sXch', e: 'AQAB' }] as const;
const issuer: IssuerKeysResult = {
  ok: true,
  value: { issuer: 'https://kubernetes.default.svc.cluster.local', keys },
};

const relay = servedRelay('outbound', {
  listeners: [{ name: 'submission', port: 587 }],
  tls: { secretRef: { name: 'outbound-tls' } },
  serviceAccountTokens: {},
});

function domain(name: string, spec: Record<string, unknown>, inNamespace = namespace): SenderDomain {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name, namespace: inNamespace, uid: `uid-${name}`, generation: 1 },
    spec: withDefaults(senderDomainKind.spec, { relays: ['outbound'], ...spec }) as SenderDomain['spec'],
  };
}

const render = (issuerKeys: IssuerKeysResult | undefined, domains: SenderDomain[] = [], spec = relay) =>
  renderRelayConfig({
    relay: spec,
    domains: domains.map((senderDomain) => ({ senderDomain, keys: [] })),
    clusterDomain: 'cluster.local',
    issuer: issuerKeys,
  });

test('tokens only: the relay takes OAUTHBEARER with the default audience and the issuer keys, no users file', () => {
  const rendered = render(issuer);
  assert.deepEqual(rendered.errors, []);
  assert.deepEqual(rendered.config.tokenAuth, {
    issuer: 'https://kubernetes.default.svc.cluster.local',
    audiences: ['mailfleet.dev/smtp'],
    keys,
    clockSkewSeconds: 30,
    maxTokenLifetimeSeconds: 3600,
    unknownKeyRereadSeconds: 30,
  });
  assert.equal(rendered.config.auth, undefined);
  const validated = validateRelayConfig(rendered.config, 'rendered');
  assert.deepEqual(validated.ok ? [] : validated.errors, []);
});

test('a SenderDomain grants its own namespace by default, others only by name', () => {
  const rendered = render(issuer, [
    domain('own', { domain: 'a.example' }),
    domain('named', {
      domain: 'b.example',
      serviceAccounts: [{ name: 'billing', namespace: 'team-b' }, { name: 'web' }],
    }),
    domain('none', { domain: 'c.example', serviceAccounts: [] }),
  ]);
  assert.deepEqual(
    rendered.config.policy.senderDomains.map((entry) => [entry.domain, entry.serviceAccounts]),
    [
      ['a.example', [{ namespace }]],
      [
        'b.example',
        [
          { namespace: 'team-b', name: 'billing' },
          { namespace, name: 'web' },
        ],
      ],
      ['c.example', []],
    ],
  );
  assert.ok(validateRelayConfig(rendered.config, 'rendered').ok);
});

test('without serviceAccountTokens no grant is rendered (the relay would refuse grants without tokenAuth)', () => {
  const passwords = servedRelay('outbound', {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'outbound-tls' } },
    auth: { usersSecretRef: { name: 'outbound-smtp-users' } },
  });
  const rendered = render(undefined, [domain('own', { domain: 'a.example' })], passwords);
  assert.equal(rendered.config.tokenAuth, undefined);
  assert.equal(rendered.config.policy.senderDomains[0]?.serviceAccounts, undefined);
});

test('keys not known: nothing is applied, the error names the field and why', () => {
  const rendered = render({ ok: false, problem: 'reading /openid/v1/jwks failed: 403' });
  assert.deepEqual(rendered.errors, [
    "spec.serviceAccountTokens: the cluster's ServiceAccount issuer keys are not known: reading /openid/v1/jwks failed: 403",
  ]);
});

test("the issuer itself as the audience is refused (the API server's own audience)", () => {
  const apiAudience = servedRelay('outbound', {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'outbound-tls' } },
    serviceAccountTokens: { audience: 'https://kubernetes.default.svc.cluster.local' },
  });
  assert.match(render(issuer, [], apiAudience).errors.join('\n'), /^spec\.serviceAccountTokens\.audience: /);
});

test("spec.limits.ratePerNamespace becomes the relay's per-namespace bucket", () => {
  const limited = servedRelay('outbound', {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'outbound-tls' } },
    serviceAccountTokens: {},
    limits: { ratePerNamespace: { messages: 600, period: '1h' } },
  });
  const rendered = render(issuer, [], limited);
  assert.deepEqual(rendered.config.policy.rateLimits.perNamespace, { perMinute: 10, burst: 600 });
  assert.ok(validateRelayConfig(rendered.config, 'rendered').ok);
});
