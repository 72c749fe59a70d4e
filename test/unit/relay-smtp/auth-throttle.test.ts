// Case 29: AUTH failures are counted per client address and per (address, user), never per user
// alone; replies to failures are slowed as the address keeps failing, then the address is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authRefusal,
  clientKey,
  failureDelayMs,
  recordAuthFailure,
  type AuthFailureBuckets,
} from '../../../relay/smtp/auth-throttle.ts';
import { TokenBuckets } from '../../../relay/smtp/rate-limit.ts';

const delays: [number, number][] = [
  [0, 0],
  [1, 0],
  [2, 250],
  [3, 500],
  [4, 1000],
  [5, 2000],
  [6, 4000],
  [7, 4000],
  [1000, 4000],
];
for (const [earlier, expected] of delays) {
  test(`case 29: after ${earlier} earlier failures the reply waits ${expected} ms`, () => {
    assert.equal(failureDelayMs(earlier), expected);
  });
}

const keys: [string, string][] = [
  ['192.0.2.7', '192.0.2.7'],
  ['::ffff:192.0.2.7', '192.0.2.7'],
  ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
  ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
  ['2001:0db8:0001:0002:aaaa::1', '2001:db8:1:2::/64'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['::ffff:0:192.0.2.7', '0:0:0:0::/64'],
];
for (const [address, expected] of keys) {
  test(`case 29: failures from ${address} are counted as ${expected}`, () => {
    assert.equal(clientKey(address), expected);
  });
}

function buckets(addressBurst: number, addressUserBurst: number): AuthFailureBuckets {
  return {
    perAddress: new TokenBuckets({ perMinute: 1, burst: addressBurst }),
    perAddressUser: new TokenBuckets({ perMinute: 1, burst: addressUserBurst }),
  };
}

test('case 29: failures for a user from one address never refuse that user from another', () => {
  const limits = buckets(100, 3);
  for (let i = 0; i < 3; i++) recordAuthFailure(limits, '192.0.2.1', 'alice', 0);
  assert.equal(authRefusal(limits, '192.0.2.1', 'alice', 0), 'auth_user');
  assert.equal(authRefusal(limits, '192.0.2.2', 'alice', 0), undefined, 'alice elsewhere');
  assert.equal(authRefusal(limits, '192.0.2.1', 'bob', 0), undefined, 'bob from the same address');
  assert.equal(authRefusal(limits, '192.0.2.1', 'alice', 3 * 60_000), undefined, 'the bucket refills');
});

test('case 29: an address that keeps failing is slowed, then refused for every user', () => {
  const limits = buckets(6, 100);
  const waits = ['a', 'b', 'c', 'd', 'e', 'f'].map((user) => recordAuthFailure(limits, '192.0.2.1', user, 0));
  assert.deepEqual(waits, [0, 0, 250, 500, 1000, 2000]);
  assert.equal(authRefusal(limits, '192.0.2.1', 'alice', 0), 'auth_ip');
  assert.equal(authRefusal(limits, '192.0.2.2', 'alice', 0), undefined);
  assert.equal(recordAuthFailure(limits, '192.0.2.2', 'alice', 0), 0, 'another address is not slowed');
});

test('case 29: the slowing fades as the address stops failing', () => {
  const limits = buckets(10, 100);
  for (let i = 0; i < 4; i++) recordAuthFailure(limits, '192.0.2.1', 'alice', 0);
  assert.equal(recordAuthFailure(limits, '192.0.2.1', 'alice', 0), 1000);
  // At 1 a minute, three of the five failures are forgotten after three minutes.
  assert.equal(recordAuthFailure(limits, '192.0.2.1', 'alice', 3 * 60_000 + 1), 250);
  assert.equal(recordAuthFailure(limits, '192.0.2.1', 'alice', 60 * 60_000), 0);
});

test('case 29: an IPv6 client cannot escape by moving within its /64', () => {
  const limits = buckets(3, 100);
  for (let i = 1; i <= 3; i++) recordAuthFailure(limits, `2001:db8::${i}`, 'alice', 0);
  assert.equal(authRefusal(limits, '2001:db8::ffff', 'alice', 0), 'auth_ip');
  assert.equal(
    authRefusal(limits, '2001:db8:0:1::1', 'alice', 0),
    undefined,
    'the next /64 is another client',
  );
});
