import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { DkimAlgorithm } from '../../../relay/config/dkim-schema.ts';
import { keyProblem } from '../../../relay/dkim/keys.ts';
import { signMessage } from '../../../relay/dkim/sign.ts';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsa2048 = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const rsa1024 = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
const ed25519 = pem(generateKeyPairSync('ed25519').privateKey);

test('keyProblem accepts RSA-2048 and Ed25519 for their algorithms only', () => {
  const table: readonly [string, string, DkimAlgorithm, RegExp | undefined][] = [
    ['rsa 2048', rsa2048, 'rsa-sha256', undefined],
    ['ed25519', ed25519, 'ed25519-sha256', undefined],
    ['rsa 1024', rsa1024, 'rsa-sha256', /1024 bits, at least 2048/],
    ['ed25519 as rsa', ed25519, 'rsa-sha256', /is ed25519, expected rsa/],
    ['rsa as ed25519', rsa2048, 'ed25519-sha256', /is rsa, expected ed25519/],
    ['garbage', 'not a key', 'rsa-sha256', /not a PEM private key/],
  ];
  for (const [name, key, algorithm, problem] of table) {
    const found = keyProblem(key, algorithm);
    if (problem === undefined) assert.equal(found, undefined, name);
    else assert.match(found ?? '', problem, name);
  }
});

test('signMessage signs with every key of the sender domain, and with none for other domains', async () => {
  const keyring = new Map([
    [
      'signer.test',
      [
        { selector: 'a', algorithm: 'rsa-sha256' as const, privateKeyPem: rsa2048 },
        { selector: 'b', algorithm: 'ed25519-sha256' as const, privateKeyPem: ed25519 },
      ],
    ],
  ]);
  const message = () => Readable.from([Buffer.from('From: <x@signer.test>\r\nSubject: s\r\n\r\nbody\r\n')]);
  const signed = await signMessage(keyring, 'Signer.Test', message, new Date(0));
  assert.equal(signed.signatures.match(/^DKIM-Signature:/gm)?.length, 2);
  assert.doesNotMatch(signed.signatures.replaceAll('\r\n', ''), /\n/, 'CRLF line endings only');
  assert.deepEqual(signed.signed, [{ algorithm: 'rsa-sha256' }, { algorithm: 'ed25519-sha256' }]);
  const unsigned = await signMessage(keyring, 'other.test', message, new Date(0));
  assert.deepEqual(unsigned, { signatures: '', signed: [], errors: [] });
});
