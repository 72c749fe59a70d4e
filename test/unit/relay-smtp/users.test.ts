import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseUsersFile, verifyPassword } from '../../../relay/smtp/users.ts';

const hash = bcrypt.hashSync('s3cret', 4);

test('bcrypt lines load; comments and blank lines are skipped', async () => {
  const result = parseUsersFile(`# users\n\nalice:${hash}\r\n`, '/secrets/users');
  assert.ok(result.ok);
  assert.equal(await verifyPassword(result.users, 'alice', 's3cret'), true);
  assert.equal(await verifyPassword(result.users, 'alice', 'wrong'), false);
  assert.equal(await verifyPassword(result.users, 'mallory', 's3cret'), false);
});

const refused: [string, string, RegExp][] = [
  [
    'plaintext password',
    'alice:hunter2',
    /\/secrets\/users:1: user "alice": .*bcrypt hash.*plaintext is refused/,
  ],
  ['missing password', 'alice', /\/secrets\/users:1: user "alice": .*bcrypt/],
  ['duplicate user', `alice:${hash}\nalice:${hash}`, /\/secrets\/users:2: user "alice" is listed twice/],
  ['bad name', `a b:${hash}`, /\/secrets\/users:1: the user name/],
];

for (const [name, text, pattern] of refused) {
  test(`users file: ${name} is refused with a clear error`, () => {
    const result = parseUsersFile(text, '/secrets/users');
    assert.ok(!result.ok);
    assert.match(result.errors.join('\n'), pattern);
    assert.doesNotMatch(result.errors.join('\n'), /hunter2/, 'the secret is never echoed');
  });
}
