import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import type { SecretObject } from '../../../operator/render/sender-domain-binding.ts';
import { ownDkimKeys } from '../../../operator/render/sender-domain-dkim-own.ts';
import {
  dkimKeyProblem,
  dkimPublicKeyRecord,
  encodeSecretValue,
  generateDkimKey,
  generateDkimKeyAsync,
} from '../../../operator/render/sender-domain-dkim-keys.ts';
import { signAndVerify } from './dkim-check.ts';
import { senderDomain } from './fixtures.ts';

const rsaPem = generateDkimKey('RSA2048');
const edPem = generateDkimKey('Ed25519');

test('generated keys are PKCS#8 PEM of the right type and size', () => {
  assert.match(rsaPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(edPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(dkimKeyProblem(rsaPem, 'RSA2048'), undefined);
  assert.equal(dkimKeyProblem(edPem, 'Ed25519'), undefined);
  assert.equal(dkimKeyProblem(rsaPem, 'Ed25519'), 'is rsa, expected ed25519');
  assert.equal(dkimKeyProblem(edPem, 'RSA2048'), 'is ed25519, expected rsa');
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  });
  assert.equal(
    dkimKeyProblem(small.toString(), 'RSA2048'),
    'RSA key has 1024 bits, at least 2048 are required',
  );
  assert.match(dkimKeyProblem('garbage', 'RSA2048') ?? '', /^not a PEM private key/);
});

test('keys made off the event loop are as good: PKCS#8 PEM, right type and size, each new', async () => {
  const [rsa, otherRsa, ed] = await Promise.all([
    generateDkimKeyAsync('RSA2048'),
    generateDkimKeyAsync('RSA2048'),
    generateDkimKeyAsync('Ed25519'),
  ]);
  assert.match(rsa, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(dkimKeyProblem(rsa, 'RSA2048'), undefined);
  assert.equal(dkimKeyProblem(ed, 'Ed25519'), undefined);
  assert.notEqual(rsa, otherRsa);
});

test('the published records have the RFC 6376 / RFC 8463 form', () => {
  const rsa = dkimPublicKeyRecord(rsaPem, 'RSA2048');
  assert.match(rsa, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
  assert.equal(Buffer.from(rsa.split('p=')[1] ?? '', 'base64').length, 294, 'SPKI DER of a 2048-bit key');
  const ed = dkimPublicKeyRecord(edPem, 'Ed25519');
  assert.match(ed, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(ed.split('p=')[1] ?? '', 'base64').length, 32, 'the raw Ed25519 key');
});

test('a message signed with each key verifies with its record, and not with another key', async () => {
  for (const [algorithm, pem, relayAlgorithm] of [
    ['RSA2048', rsaPem, 'rsa-sha256'],
    ['Ed25519', edPem, 'ed25519-sha256'],
  ] as const) {
    const txt = new Map([['s1._domainkey.example.com', [dkimPublicKeyRecord(pem, algorithm)]]]);
    const key = { selector: 's1', algorithm: relayAlgorithm, privateKeyPem: pem } as const;
    assert.deepEqual(await signAndVerify({ domain: 'example.com', keys: [key], txt }), ['pass'], algorithm);
    const other = { ...key, privateKeyPem: generateDkimKey(algorithm) };
    assert.deepEqual(
      await signAndVerify({ domain: 'example.com', keys: [other], txt }),
      ['fail'],
      `${algorithm}: other key`,
    );
  }
});

function ownKeySecret(data: Record<string, string>): SecretObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'billing-dkim', namespace: 'mail' }, data };
}

test('own keys: the Secret, each key and its type are checked, naming the Secret, key and field', () => {
  const domain = senderDomain({
    dkim: {
      selector: 's2025',
      algorithms: ['RSA2048', 'Ed25519'],
      privateKeySecretRef: { name: 'billing-dkim', rsaKey: 'rsa.pem', ed25519Key: 'ed.pem' },
    },
  });
  const cases: { name: string; secret: SecretObject | undefined; reason?: string; message?: RegExp }[] = [
    {
      name: 'missing Secret',
      secret: undefined,
      reason: 'SecretNotFound',
      message: /^Secret mail\/billing-dkim \(spec\.dkim\.privateKeySecretRef\.name\) not found/,
    },
    {
      name: 'missing key',
      secret: ownKeySecret({ 'rsa.pem': encodeSecretValue(rsaPem) }),
      reason: 'SecretKeyMissing',
      message:
        /^Secret mail\/billing-dkim has no key "ed\.pem" \(spec\.dkim\.privateKeySecretRef\.ed25519Key\): the Ed25519 private key of selector s2025$/,
    },
    {
      name: 'wrong key type',
      secret: ownKeySecret({ 'rsa.pem': encodeSecretValue(edPem), 'ed.pem': encodeSecretValue(edPem) }),
      reason: 'KeyInvalid',
      message:
        /^Secret mail\/billing-dkim key "rsa\.pem" \(spec\.dkim\.privateKeySecretRef\.rsaKey\) cannot sign as RSA2048: is ed25519, expected rsa$/,
    },
    {
      name: 'not PEM',
      secret: ownKeySecret({ 'rsa.pem': encodeSecretValue(rsaPem), 'ed.pem': encodeSecretValue('hello') }),
      reason: 'KeyInvalid',
      message: /key "ed\.pem" .* cannot sign as Ed25519: not a PEM private key/,
    },
    {
      name: 'valid',
      secret: ownKeySecret({ 'rsa.pem': encodeSecretValue(rsaPem), 'ed.pem': encodeSecretValue(edPem) }),
    },
  ];
  for (const { name, secret, reason, message } of cases) {
    const result = ownDkimKeys(domain, secret);
    if (reason === undefined) {
      assert.ok(result.ok, name);
      assert.deepEqual(result.published, [
        {
          selector: 's2025',
          role: 'active',
          keys: [
            { algorithm: 'RSA2048', privateKeyPem: rsaPem },
            { algorithm: 'Ed25519', privateKeyPem: edPem },
          ],
        },
      ]);
    } else {
      assert.ok(!result.ok, name);
      assert.equal(result.reason, reason, name);
      assert.match(result.message, message ?? /./, name);
    }
  }
});
