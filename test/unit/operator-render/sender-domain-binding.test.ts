import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import {
  dkimActiveSelectorAnnotation,
  dkimDnsSelector,
  signingKeys,
  type SecretObject,
} from '../../../operator/render/sender-domain-binding.ts';

function domain(
  overrides: {
    labels?: Record<string, string>;
    relays?: string[];
    dkim?: Partial<SenderDomain['spec']['dkim']>;
    namespace?: string;
  } = {},
): SenderDomain {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name: 'example', namespace: overrides.namespace ?? 'mail', labels: overrides.labels ?? {} },
    spec: {
      domain: 'example.com',
      relays: overrides.relays ?? [],
      dkim: { enabled: true, selector: 'mf', algorithms: ['RSA2048', 'Ed25519'], ...overrides.dkim },
      spf: { enabled: true, all: 'Fail' },
      dmarc: { enabled: true, policy: 'None', percentage: 100, alignment: 'Relaxed' },
      dnsVerification: { enabled: false, interval: '1h' },
    },
  };
}

const cases: {
  name: string;
  domain: SenderDomain;
  secret: SecretObject | undefined;
  expected: ReturnType<typeof signingKeys>;
}[] = [
  {
    name: 'DKIM off: no keys',
    domain: domain({ dkim: { enabled: false } }),
    secret: undefined,
    expected: { ok: true, keys: [] },
  },
  {
    name: 'generated Secret missing',
    domain: domain(),
    secret: undefined,
    expected: {
      ok: false,
      reason: 'SecretNotFound',
      message: 'Secret mail/example-dkim (DKIM keys of example.com) not found',
    },
  },
  {
    name: 'generated Secret without the active selector',
    domain: domain(),
    secret: { metadata: { name: 'example-dkim' }, data: {} },
    expected: {
      ok: false,
      reason: 'SecretKeyMissing',
      message: `Secret mail/example-dkim has no ${dkimActiveSelectorAnnotation} annotation: no selector signs yet`,
    },
  },
  {
    name: 'generated Secret: the active selector signs with every algorithm',
    domain: domain(),
    secret: {
      metadata: { name: 'example-dkim', annotations: { [dkimActiveSelectorAnnotation]: 'mf-2' } },
      data: { 'mf-1.rsa.pem': 'x', 'mf-2.rsa.pem': 'x', 'mf-2.ed25519.pem': 'x' },
    },
    expected: {
      ok: true,
      keys: [
        {
          selector: 'mf-2-rsa',
          algorithm: 'rsa-sha256',
          secretName: 'example-dkim',
          secretKey: 'mf-2.rsa.pem',
        },
        {
          selector: 'mf-2-ed25519',
          algorithm: 'ed25519-sha256',
          secretName: 'example-dkim',
          secretKey: 'mf-2.ed25519.pem',
        },
      ],
    },
  },
  {
    name: 'own Secret lacking the Ed25519 key names it',
    domain: domain({
      dkim: { privateKeySecretRef: { name: 'mine', rsaKey: 'rsa.pem', ed25519Key: 'ed.pem' } },
    }),
    secret: { metadata: { name: 'mine' }, data: { 'rsa.pem': 'x' } },
    expected: {
      ok: false,
      reason: 'SecretKeyMissing',
      message: 'Secret mail/mine has no key "ed.pem" (the Ed25519 private key for selector mf)',
    },
  },
];

for (const { name, domain: sd, secret, expected } of cases) {
  test(`signingKeys: ${name}`, () => {
    assert.deepEqual(signingKeys(sd, secret), expected);
  });
}

test('one algorithm signs under the selector itself; two get a selector each', () => {
  assert.equal(dkimDnsSelector('mf-3', 'RSA2048', ['RSA2048']), 'mf-3');
  assert.equal(dkimDnsSelector('mf-3', 'Ed25519', ['Ed25519']), 'mf-3');
  assert.equal(dkimDnsSelector('mf-3', 'RSA2048', ['RSA2048', 'Ed25519']), 'mf-3-rsa');
  assert.equal(dkimDnsSelector('mf-3', 'Ed25519', ['RSA2048', 'Ed25519']), 'mf-3-ed25519');
});
