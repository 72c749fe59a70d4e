// Argon2 hashes as the `argon2` CLI (Debian's reference implementation) prints them verify with
// Node's crypto.argon2 (fresh CLI hashes: test/integration/relay-smtp/argon2-reference.test.ts);
// malformed or too costly ones are refused without echoing the text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePasswordHash, passwordMatches } from '../../../relay/smtp/password-hash.ts';

// Printed by: echo -n 'pa55' | argon2 saltsaltsalt -id -m 12 -t 2 -p 1 -e
const referenceArgon2id =
  '$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$2zTjaxVrTkRXKP92jBkoyH2Yit42LnM0yz7E6fKpFRQ';

test('an argon2id PHC string from the reference implementation verifies', async () => {
  const hash = parsePasswordHash(referenceArgon2id);
  assert.ok(!('problem' in hash));
  assert.equal(await passwordMatches('pa55', hash), true);
  assert.equal(await passwordMatches('pa56', hash), false);
});

const refused: [string, string, RegExp][] = [
  ['plaintext', 'hunter2', /plaintext is refused/],
  ['argon2 version 16', referenceArgon2id.replace('v=19', 'v=16'), /plaintext is refused/],
  ['too much memory', referenceArgon2id.replace('m=4096', 'm=4194304'), /cost is above/],
  ['zero passes', referenceArgon2id.replace('t=2', 't=0'), /out of range/],
];
for (const [name, text, pattern] of refused) {
  test(`password hash: ${name} is refused`, () => {
    const hash = parsePasswordHash(text);
    assert.ok('problem' in hash);
    assert.match(hash.problem, pattern);
    assert.ok(!hash.problem.includes(text));
  });
}
