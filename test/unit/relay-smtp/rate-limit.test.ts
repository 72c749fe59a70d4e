import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBuckets } from '../../../relay/smtp/rate-limit.ts';

test('a bucket allows its burst, then refills at the sustained rate', () => {
  const buckets = new TokenBuckets({ perMinute: 60, burst: 3 });
  const taken = [0, 0, 0, 0].map(() => buckets.take('10.0.0.1', 0));
  assert.deepEqual(taken, [true, true, true, false]);
  assert.equal(buckets.take('10.0.0.1', 999), false, 'not a whole token after 999 ms at 1/s');
  assert.equal(buckets.take('10.0.0.1', 1000), true);
  assert.equal(buckets.take('10.0.0.2', 1000), true, 'keys are independent');
});

test('refill never exceeds the burst', () => {
  const buckets = new TokenBuckets({ perMinute: 600, burst: 2 });
  buckets.take('k', 0);
  const later = [0, 0, 0].map(() => buckets.take('k', 3_600_000));
  assert.deepEqual(later, [true, true, false]);
});

test('peek does not consume', () => {
  const buckets = new TokenBuckets({ perMinute: 1, burst: 1 });
  assert.equal(buckets.peek('k', 0), true);
  assert.equal(buckets.peek('k', 0), true);
  assert.equal(buckets.take('k', 0), true);
  assert.equal(buckets.peek('k', 0), false);
});

test('spent counts the tokens taken and not yet refilled', () => {
  const buckets = new TokenBuckets({ perMinute: 60, burst: 5 });
  assert.equal(buckets.spent('k', 0), 0);
  buckets.take('k', 0);
  buckets.take('k', 0);
  assert.equal(buckets.spent('k', 0), 2);
  assert.equal(buckets.spent('k', 500), 1.5, 'half a token back after 500 ms at 1/s');
  assert.equal(buckets.spent('k', 60_000), 0);
});

test('memory stays bounded under many keys', () => {
  const buckets = new TokenBuckets({ perMinute: 60, burst: 1 }, 100);
  for (let i = 0; i < 10_000; i++) buckets.take(`k${i}`, i);
  assert.equal(buckets.take('k9999', 9999), false, 'a recent key keeps its state');
});
