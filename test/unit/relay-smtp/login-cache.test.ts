// The recent-login cache: only the same password within the TTL takes the fast path, failures are
// never kept, a reloaded users table starts empty, and the size is bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { LoginCache, maxCachedLogins } from '../../../relay/smtp/login-cache.ts';
import { loginCacheOf, parseUsersFile, verifyPassword, type UserTable } from '../../../relay/smtp/users.ts';

function table(password: string): UserTable {
  const parsed = parseUsersFile(`app:${bcrypt.hashSync(password, 4)}\n`, 'users');
  assert.ok(parsed.ok);
  return parsed.users;
}

test('a hit needs the same user, the same password and an unexpired entry', () => {
  const cache = new LoginCache();
  cache.store('app', 'secret', 1_000, 60_000);
  assert.equal(cache.hit('app', 'secret', 2_000), true);
  assert.equal(cache.hit('app', 'Secret', 2_000), false, 'another password');
  assert.equal(cache.hit('ops', 'secret', 2_000), false, 'another user');
  assert.equal(cache.hit('app', 'secret', 61_000), false, 'expired');
  assert.equal(cache.size, 0, 'an expired entry is dropped');
  cache.store('app', 'secret', 1_000, 0);
  assert.equal(cache.size, 0, 'a TTL of 0 keeps nothing');
});

test('bounded: the oldest entry goes first', () => {
  const cache = new LoginCache();
  for (let n = 0; n <= maxCachedLogins; n++) cache.store(`user${n}`, 'pw', 0, 60_000);
  assert.equal(cache.size, maxCachedLogins);
  assert.equal(cache.hit('user0', 'pw', 1), false);
  assert.equal(cache.hit(`user${maxCachedLogins}`, 'pw', 1), true);
});

test('verifyPassword: a success is remembered, a failure never; a reloaded table forgets', async () => {
  const users = table('right');
  const cache = { ttlMs: 60_000, now: 1_000 };
  assert.equal(await verifyPassword(users, 'app', 'wrong', cache), false);
  assert.equal(loginCacheOf(users).size, 0, 'a failure is not remembered');
  assert.equal(await verifyPassword(users, 'app', 'right', cache), true);
  assert.equal(loginCacheOf(users).hit('app', 'right', 2_000), true, 'the success is');
  assert.equal(await verifyPassword(users, 'app', 'wrong', cache), false, 'a wrong password still fails');
  assert.equal(await verifyPassword(users, 'nobody', 'right', cache), false);
  const reloaded = table('changed');
  assert.equal(
    await verifyPassword(reloaded, 'app', 'right', cache),
    false,
    'the old password is gone with the reload',
  );
  assert.equal(await verifyPassword(users, 'app', 'right'), true, 'without a cache: the hash, as before');
});

test('logins that arrive together with the same name and password share one check of the hash', async () => {
  const cache = new LoginCache();
  let checks = 0;
  let finish: (matches: boolean) => void = () => undefined;
  const check = (): Promise<boolean> => {
    checks += 1;
    return new Promise((resolve) => {
      finish = resolve;
    });
  };
  const together = Array.from({ length: 20 }, () => cache.once('app', 'secret', check));
  const otherPassword = cache.once('app', 'other', () => Promise.resolve(false));
  assert.equal(checks, 1, 'twenty logins, one check');
  finish(true);
  assert.deepEqual(
    await Promise.all(together),
    Array.from({ length: 20 }, () => true),
  );
  assert.equal(await otherPassword, false, 'another password has its own check');
  const again = cache.once('app', 'secret', check);
  finish(false);
  assert.equal(await again, false);
  assert.equal(checks, 2, 'a settled check is not kept: the next login checks again');
});

test('verifyPassword: twenty concurrent logins all get the answer of the shared check', async () => {
  const users = table('right');
  const cache = { ttlMs: 60_000, now: 1_000 };
  const right = await Promise.all(
    Array.from({ length: 20 }, () => verifyPassword(users, 'app', 'right', cache)),
  );
  assert.ok(right.every(Boolean));
  const wrong = await Promise.all(
    Array.from({ length: 20 }, () => verifyPassword(users, 'app', 'wrong', cache)),
  );
  assert.ok(wrong.every((matches) => !matches));
});
