// Case 30: the decoy an unknown user name is checked against has the algorithm and cost of the
// users file's hashes (the timing itself: test/integration/relay-smtp/auth-timing.test.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { decoyHash } from '../../../relay/smtp/decoy-hash.ts';
import { parsePasswordHash, passwordMatches, type PasswordHash } from '../../../relay/smtp/password-hash.ts';

function parsed(text: string): PasswordHash {
  const hash = parsePasswordHash(text);
  if ('problem' in hash) throw new Error(hash.problem);
  return hash;
}

// Printed by: echo -n 'pa55' | argon2 saltsaltsalt -id -m 12 -t 2 -p 1 -e
const argon2id = parsed(
  '$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$2zTjaxVrTkRXKP92jBkoyH2Yit42LnM0yz7E6fKpFRQ',
);
const cost05 = parsed(bcrypt.hashSync('pa55', 5));
// Only its shape matters here, so the cost-5 hash is relabelled rather than spending 250 ms on a real one.
const cost12 = parsed(cost05.kind === 'bcrypt' ? cost05.hash.replace('$2b$05$', '$2y$12$') : '');

/** What the decoy looks like, without its random salt and digest. */
function shape(hash: PasswordHash): string {
  if (hash.kind === 'bcrypt') return hash.hash.slice(0, 7);
  const { algorithm, memoryKiB, passes, parallelism, salt, tag } = hash.parameters;
  return `${algorithm} m=${memoryKiB} t=${passes} p=${parallelism} salt=${salt.length} tag=${tag.length}`;
}

const cases: [string, PasswordHash[], string][] = [
  ['an empty users file', [], '$2b$10$'],
  ['bcrypt cost 12 ($2y$, as htpasswd -B writes it)', [cost12], '$2y$12$'],
  ['bcrypt cost 5', [cost05], '$2b$05$'],
  ['argon2id', [argon2id], 'argon2id m=4096 t=2 p=1 salt=12 tag=32'],
  ['mixed: the most common shape', [cost05, argon2id, cost12, cost12], '$2y$12$'],
  ['mixed, a tie: the first in file order', [argon2id, cost05], 'argon2id m=4096 t=2 p=1 salt=12 tag=32'],
];

for (const [name, hashes, expected] of cases) {
  test(`case 30: the decoy for ${name} is ${expected}`, async () => {
    const decoy = decoyHash(hashes, randomBytes);
    assert.equal(shape(decoy), expected);
    if (decoy.kind === 'bcrypt')
      assert.ok(!('problem' in parsePasswordHash(decoy.hash)), 'a valid bcrypt hash');
    assert.equal(await passwordMatches('pa55', decoy), false, 'the decoy matches no password');
  });
}

test('case 30: each decoy has its own random salt', () => {
  const first = decoyHash([cost05], randomBytes);
  const second = decoyHash([cost05], randomBytes);
  assert.notDeepEqual(first, second);
});
