// mailauth and its dependencies cost the relay some 15–40 MiB once loaded (docs/performance.md):
// loading the relay's delivery and signing modules must not load any of it; the first signature
// does. Its own process (node --test runs each file in one), so no other test loaded it first.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import '../../../relay/delivery/service.ts';
import { signMessage } from '../../../relay/dkim/sign.ts';

const loadedFromMailauth = (): string[] =>
  Object.keys(createRequire(import.meta.url).cache).filter((path) =>
    path.includes('/node_modules/mailauth/'),
  );

test('mailauth is loaded by the first signature, not by importing the relay', async () => {
  assert.deepEqual(loadedFromMailauth(), [], 'nothing of mailauth is loaded before a signature');
  const privateKeyPem = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const result = await signMessage(
    new Map([['lazy.test', [{ selector: 'ed', algorithm: 'ed25519-sha256', privateKeyPem }]]]),
    'lazy.test',
    () => Readable.from([Buffer.from('From: <a@lazy.test>\r\nSubject: s\r\n\r\nbody\r\n')]),
    new Date('2026-12-05T00:00:00Z'),
  );
  assert.deepEqual(result.errors, []);
  assert.ok(
    loadedFromMailauth().some((path) => path.endsWith('/lib/tools.js')),
    'the signature loaded mailauth',
  );
});
