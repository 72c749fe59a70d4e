import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../../operator/kube/backoff.ts';
import { WorkQueue, type ProcessOutcome } from '../../../operator/kube/workqueue.ts';
import { FakeClock, settle } from './fake-clock.ts';

/** A process function whose calls the test finishes by hand. */
function manualProcess() {
  const calls: { key: string; finish: (error?: Error) => void }[] = [];
  const process = (key: string) =>
    new Promise<undefined>((resolve, reject) => {
      calls.push({
        key,
        finish: (error) => {
          if (error) reject(error);
          else resolve(undefined);
        },
      });
    });
  return { calls, process };
}

function makeQueue(clock: FakeClock, concurrency = 1) {
  const outcomes: [string, ProcessOutcome][] = [];
  const queue = new WorkQueue({
    clock,
    concurrency,
    backoff: { baseMs: 100, capMs: 1_000 },
    onProcessed: (key, outcome) => outcomes.push([key, outcome]),
  });
  return { queue, outcomes };
}

test('backoff doubles from the base and stops at the cap', () => {
  const policy = { baseMs: 100, capMs: 1_000 };
  const table: [number, number][] = [
    [0, 0],
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [50, 1_000],
    [5_000, 1_000],
  ];
  for (const [failures, expected] of table)
    assert.equal(backoffDelay(policy, failures), expected, `${failures}`);
});

test('a key added several times while queued is processed once', async () => {
  const clock = new FakeClock();
  const { queue } = makeQueue(clock);
  const { calls, process } = manualProcess();
  queue.add('ns/a');
  queue.add('ns/a');
  queue.add('ns/b');
  queue.add('ns/a');
  assert.equal(queue.depth, 2);
  queue.start(process);
  await settle();
  assert.deepEqual(
    calls.map((call) => call.key),
    ['ns/a'],
  );
  calls[0]?.finish();
  await settle();
  calls[1]?.finish();
  await settle();
  assert.deepEqual(
    calls.map((call) => call.key),
    ['ns/a', 'ns/b'],
  );
  assert.equal(queue.depth, 0);
});

test('a key re-added while being processed runs again afterwards, never twice at once', async () => {
  const clock = new FakeClock();
  const { queue } = makeQueue(clock, 4);
  const { calls, process } = manualProcess();
  queue.start(process);
  queue.add('ns/a');
  await settle();
  queue.add('ns/a');
  queue.add('ns/a');
  await settle();
  assert.equal(calls.length, 1, 'the second add waits for the first run to finish');
  assert.equal(queue.processingCount, 1);
  calls[0]?.finish();
  await settle();
  assert.equal(calls.length, 2);
  calls[1]?.finish();
  await settle();
  assert.equal(calls.length, 2, 'the two adds during processing gave one more run');
});

test('no more than `concurrency` keys are processed at once', async () => {
  const clock = new FakeClock();
  const { queue } = makeQueue(clock, 2);
  const { calls, process } = manualProcess();
  for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
  queue.start(process);
  await settle();
  assert.equal(queue.processingCount, 2);
  assert.equal(calls.length, 2);
  calls[0]?.finish();
  await settle();
  assert.equal(calls.length, 3);
  assert.equal(queue.processingCount, 2);
  for (const call of calls.slice(1)) call.finish();
  await settle();
  for (const call of calls.slice(3)) call.finish();
  await settle();
  assert.deepEqual(
    calls.map((call) => call.key),
    ['a', 'b', 'c', 'd', 'e'],
  );
  assert.equal(queue.processingCount, 0);
});

test('a failing key is retried after an exponential, capped backoff and forgotten on success', async () => {
  const clock = new FakeClock();
  const { queue, outcomes } = makeQueue(clock);
  const { calls, process } = manualProcess();
  queue.start(process);
  queue.add('ns/a');
  await settle();
  const expectedDelays = [100, 200, 400, 800, 1_000, 1_000];
  for (const [attempt, delay] of expectedDelays.entries()) {
    calls[attempt]?.finish(new Error('apiserver said no'));
    await settle();
    assert.equal(queue.failures('ns/a'), attempt + 1);
    await clock.advance(delay - 1);
    assert.equal(calls.length, attempt + 1, `attempt ${attempt + 2} waits the full ${delay} ms`);
    await clock.advance(1);
    assert.equal(calls.length, attempt + 2, `attempt ${attempt + 2} runs after ${delay} ms`);
  }
  calls.at(-1)?.finish();
  await settle();
  assert.equal(queue.failures('ns/a'), 0);
  assert.deepEqual(outcomes.at(-1), ['ns/a', 'success']);
  await clock.advance(10_000);
  assert.equal(calls.length, expectedDelays.length + 1, 'a forgotten key is not retried');
});

test('requeueAfter brings a key back after the delay; the earliest of several delays wins', async () => {
  const clock = new FakeClock();
  const { queue, outcomes } = makeQueue(clock);
  const seen: string[] = [];
  queue.start((key) => {
    seen.push(key);
    return Promise.resolve(seen.length === 1 ? { requeueAfterMs: 5_000 } : undefined);
  });
  queue.add('ns/a');
  await settle();
  queue.addAfter('ns/a', 2_000);
  await clock.advance(1_999);
  assert.equal(seen.length, 1);
  await clock.advance(1);
  assert.equal(seen.length, 2);
  await clock.advance(10_000);
  assert.equal(seen.length, 2, 'the later 5 s requeue was superseded by the earlier one');
  assert.deepEqual(
    outcomes.map(([, outcome]) => outcome),
    ['requeue', 'success'],
  );
});

test('resync adds every key periodically', async () => {
  const clock = new FakeClock();
  const { queue } = makeQueue(clock, 3);
  const seen: string[] = [];
  queue.start((key) => {
    seen.push(key);
    return Promise.resolve(undefined);
  });
  queue.resyncEvery(60_000, () => ['ns/a', 'ns/b']);
  await clock.advance(59_999);
  assert.deepEqual(seen, []);
  await clock.advance(1);
  assert.deepEqual(seen, ['ns/a', 'ns/b']);
  await clock.advance(60_000);
  assert.deepEqual(seen, ['ns/a', 'ns/b', 'ns/a', 'ns/b']);
});

test('shutdown drops waiting keys, cancels timers and waits for keys in progress', async () => {
  const clock = new FakeClock();
  const { queue } = makeQueue(clock);
  const { calls, process } = manualProcess();
  queue.start(process);
  queue.add('ns/a');
  queue.add('ns/b');
  queue.addAfter('ns/c', 1_000);
  queue.resyncEvery(1_000, () => ['ns/d']);
  await settle();
  let stopped = false;
  const shutDown = queue.shutDown().then(() => {
    stopped = true;
  });
  await settle();
  assert.equal(stopped, false, 'shutdown waits for ns/a');
  assert.equal(clock.pendingTimers, 0);
  calls[0]?.finish();
  await shutDown;
  assert.equal(stopped, true);
  queue.add('ns/e');
  await clock.advance(5_000);
  assert.deepEqual(
    calls.map((call) => call.key),
    ['ns/a'],
  );
});

test('a concurrency that is not a positive integer is refused with the value', () => {
  for (const concurrency of [0, -1, 1.5]) {
    assert.throws(
      () => new WorkQueue({ clock: new FakeClock(), concurrency, backoff: { baseMs: 1, capMs: 1 } }),
      new RegExp(`concurrency must be a positive integer, got ${concurrency}`),
    );
  }
});
