// relay/dkim/key-objects.ts leans on a private internal of mailauth (its signer takes getPrivateKey
// from lib/tools.js at load): these tests fail, saying so, when an upgrade of mailauth moves it.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { keyObjectsMade } from '../../../relay/dkim/key-objects.ts';
import { signMessage } from '../../../relay/dkim/sign.ts';
import { rsaAndEd25519Keys } from '../../support/dkim-test-keys.ts';

const keys = rsaAndEd25519Keys();
const message = 'From: <a@signer.test>\r\nTo: <b@x.test>\r\nSubject: memo\r\n\r\nbody\r\n';

async function sign(): Promise<string> {
  const result = await signMessage(
    new Map([['signer.test', keys]]),
    'signer.test',
    () => Readable.from([Buffer.from(message)]),
    new Date('2026-12-05T00:00:00Z'),
  );
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.signed, [{ algorithm: 'rsa-sha256' }, { algorithm: 'ed25519-sha256' }]);
  return result.signatures;
}

test('each DKIM key becomes one key object, reused by every later signature', async () => {
  const before = keyObjectsMade();
  const first = await sign();
  assert.equal(
    keyObjectsMade() - before,
    keys.length,
    "mailauth's signer no longer takes getPrivateKey from lib/tools.js (an upgrade?): relay/dkim/key-objects.ts is bypassed and every signature parses its key again",
  );
  const second = await sign();
  assert.equal(keyObjectsMade() - before, keys.length, 'the second message reused both key objects');
  // Both signature algorithms are deterministic: the same key, time and message sign alike.
  assert.equal(second, first);
});
