// A message held in memory is signed from its header section and a body hash computed with native
// searches (relay/dkim/relaxed-body.ts, prepared-signer.ts); one streamed from the spool goes
// through mailauth's own byte-by-byte canonicalization. Both must sign every message alike: both
// algorithms are deterministic, so the DKIM-Signature lines are compared byte for byte, over
// bodies made of the whitespace relaxed canonicalization rewrites. dkimpy checks the fast path's
// signatures in test/integration/relay-delivery/dkim.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { splitAndHashRelaxed } from '../../../relay/dkim/relaxed-body.ts';
import { signMessage } from '../../../relay/dkim/sign.ts';
import { rsaAndEd25519Keys } from '../../support/dkim-test-keys.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const keys = rsaAndEd25519Keys();
const keyring = new Map([['signer.test', keys]]);
const signTime = new Date('2026-12-05T00:00:00Z');
const header = 'From: <a@signer.test>\r\nTo: <b@x.test>\r\nSubject:  spaced\t out \r\n';

async function bothPaths(message: Buffer): Promise<{ inMemory: string; streamed: string }> {
  const inMemory = await signMessage(keyring, 'signer.test', message, signTime);
  const streamed = await signMessage(keyring, 'signer.test', () => Readable.from([message]), signTime);
  assert.deepEqual(inMemory.errors, []);
  assert.deepEqual(streamed.errors, []);
  assert.equal(inMemory.signed.length, 2);
  return { inMemory: inMemory.signatures, streamed: streamed.signatures };
}

test('table: bodies at the edges of relaxed canonicalization sign alike on both paths', async () => {
  const bodies = [
    '',
    '\r\n',
    '\r\n\r\n\r\n',
    'no line end',
    'no line end, trailing blanks \t ',
    'line\r\n',
    'line\r\n\r\n\r\n',
    'a  b\t\tc \r\n',
    '\tstarts with a tab\r\n',
    ' \r\n \r\n',
    'ends in blanks\r\n \t\r\n\r\n',
    'dots\r\n.\r\n..\r\n',
    'eight-bit \u00e9\u00ff  bytes\r\n',
    `${' '.repeat(5000)}x\r\n`,
  ];
  for (const body of bodies) {
    const message = Buffer.from(`${header}\r\n${body}`, 'latin1');
    assert.ok(splitAndHashRelaxed(message), `${JSON.stringify(body)} takes the fast path`);
    const { inMemory, streamed } = await bothPaths(message);
    assert.equal(inMemory, streamed, JSON.stringify(body));
  }
});

test('seeded random bodies of words, spaces, tabs and empty lines sign alike on both paths', async () => {
  const random = seededRandom(20261205);
  const pieces = ['word', ' ', '  ', '\t', ' \t ', '\r\n', '\r\n\r\n', '.', '\u00e9'];
  for (let round = 0; round < 40; round++) {
    let body = '';
    const length = random.int(0, 400);
    for (let index = 0; index < length; index++) body += random.pick(pieces);
    const message = Buffer.from(`${header}\r\n${body}`, 'latin1');
    const { inMemory, streamed } = await bothPaths(message);
    assert.equal(inMemory, streamed, `round ${String(round)}: ${JSON.stringify(body)}`);
  }
});

test('a bare line ending or no end of the header section leaves the message to mailauth, signed alike', async () => {
  const unusual = [
    `${header}\r\nbare LF\nin the body\r\n`,
    `${header}\r\nbare CR\rin the body\r\n`,
    'From: <a@signer.test>\r\nSubject: no body, no empty line\r\n',
    'From: <a@signer.test>\nSubject: LF only\n\nbody\n',
  ];
  for (const text of unusual) {
    const message = Buffer.from(text, 'latin1');
    assert.equal(splitAndHashRelaxed(message), undefined, JSON.stringify(text));
    const { inMemory, streamed } = await bothPaths(message);
    assert.equal(inMemory, streamed, JSON.stringify(text));
  }
});

test('the body hash is the relaxed one of RFC 6376 3.4.4 (its own worked example)', () => {
  // RFC 6376 section 3.4.5: " C \r\nD \t E\r\n\r\n\r\n" canonicalizes to " C\r\nD E\r\n".
  const message = Buffer.from('A: X\r\n\r\n C \r\nD \t E\r\n\r\n\r\n', 'latin1');
  const expected = Buffer.from(' C\r\nD E\r\n', 'latin1');
  assert.equal(
    splitAndHashRelaxed(message)?.bodyHash,
    createHash('sha256').update(expected).digest('base64'),
  );
  // An empty body hashes as nothing at all under relaxed canonicalization (RFC 6376 errata 3133).
  assert.equal(
    splitAndHashRelaxed(Buffer.from('A: X\r\n\r\n\r\n', 'latin1'))?.bodyHash,
    createHash('sha256').update('').digest('base64'),
  );
});
