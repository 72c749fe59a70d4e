// Case 38: the API server's answers about a scraper are remembered for a short time on the clock
// the test moves (allowed 60 s, refused 10 s), per token and path; no token is never reviewed; a
// failed review is not remembered; the oldest answer goes first when the cache is full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsAccessCache } from '../../../operator/metrics-access-cache.ts';
import type { MetricsAccess } from '../../../operator/metrics-auth.ts';
import { FakeClock } from './fake-clock.ts';

const allowed: MetricsAccess = { allowed: true, user: 'prometheus' };
const refused: MetricsAccess = { allowed: false, status: 403, reason: 'no role' };

/** A cache over a review that answers from `answers` by token and counts what it was asked. */
function cacheWith(answers: Record<string, MetricsAccess | Error>, maxEntries?: number) {
  const clock = new FakeClock();
  const asked: string[] = [];
  const cache = new MetricsAccessCache({
    clock,
    review: (authorization) => {
      asked.push(authorization);
      const answer = answers[authorization.replace('Bearer ', '')];
      if (answer === undefined || answer instanceof Error) return Promise.reject(answer ?? new Error('?'));
      return Promise.resolve(answer);
    },
    ...(maxEntries === undefined ? {} : { maxEntries }),
  });
  return { clock, asked, cache };
}

test('case 38: an allowed scraper is reviewed once a minute, a refused one every 10 s', async () => {
  const { clock, asked, cache } = cacheWith({ good: allowed, bad: refused });
  assert.deepEqual(await cache.access('Bearer good', '/metrics'), allowed);
  assert.deepEqual(await cache.access('Bearer bad', '/metrics'), refused);
  await clock.advance(9_999);
  await cache.access('Bearer good', '/metrics');
  await cache.access('Bearer bad', '/metrics');
  assert.deepEqual(asked, ['Bearer good', 'Bearer bad']);
  await clock.advance(1);
  await cache.access('Bearer bad', '/metrics');
  assert.deepEqual(asked, ['Bearer good', 'Bearer bad', 'Bearer bad'], 'refusal expired after 10 s');
  await clock.advance(50_000);
  await cache.access('Bearer good', '/metrics');
  assert.equal(asked.length, 4, 'allowance expired after 60 s');
});

test('case 38: no token is refused without a review; a failed review is not remembered', async () => {
  const { asked, cache } = cacheWith({ flaky: new Error('apiserver unreachable') });
  assert.deepEqual(await cache.access(undefined, '/metrics'), {
    allowed: false,
    status: 401,
    reason: 'no bearer token',
  });
  assert.equal((await cache.access('Basic x', '/metrics')).allowed, false);
  assert.deepEqual(asked, []);
  await assert.rejects(cache.access('Bearer flaky', '/metrics'));
  await assert.rejects(cache.access('Bearer flaky', '/metrics'));
  assert.equal(asked.length, 2);
});

test('case 38: answers are per path, and the oldest leaves a full cache first', async () => {
  const { asked, cache } = cacheWith({ a: allowed, b: allowed, c: allowed }, 2);
  await cache.access('Bearer a', '/metrics');
  await cache.access('Bearer a', '/other');
  assert.equal(asked.length, 2, 'another path is another question');
  await cache.access('Bearer b', '/metrics');
  await cache.access('Bearer a', '/metrics');
  assert.equal(asked.length, 4, 'a on /metrics was the oldest and was evicted');
});
