import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readWatchEvents, WatchInactiveError, type WatchEvent } from '../../../operator/kube/watch-stream.ts';
import { FakeClock, settle } from './fake-clock.ts';

/** A byte stream the test feeds by hand. */
function manualStream() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const state = { cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  const encoder = new TextEncoder();
  return {
    stream,
    state,
    push: (text: string) => controller?.enqueue(encoder.encode(text)),
    end: () => controller?.close(),
    fail: (error: Error) => controller?.error(error),
  };
}

const event = (type: WatchEvent['type'], name: string) =>
  JSON.stringify({ type, object: { metadata: { name } } });

test('events split across chunks and several in one chunk are each delivered once, in order', async () => {
  const clock = new FakeClock();
  const source = manualStream();
  const seen: string[] = [];
  const done = readWatchEvents(
    source.stream,
    (e) => seen.push(`${e.type} ${e.object.metadata?.name ?? ''}`),
    {
      clock,
      inactivityMs: 1_000,
    },
  );
  const first = event('ADDED', 'a');
  source.push(first.slice(0, 10));
  source.push(`${first.slice(10)}\n${event('MODIFIED', 'a')}\n\n${event('DELETED', 'a').slice(0, 5)}`);
  source.push(`${event('DELETED', 'a').slice(5)}\n`);
  source.end();
  await done;
  assert.deepEqual(seen, ['ADDED a', 'MODIFIED a', 'DELETED a']);
});

test('a stream silent for the inactivity period is abandoned with WatchInactiveError', async () => {
  const clock = new FakeClock();
  const source = manualStream();
  const result: { outcome: unknown } = { outcome: 'pending' };
  const outcome = (): unknown => result.outcome;
  void readWatchEvents(source.stream, () => undefined, { clock, inactivityMs: 1_000 }).then(
    () => (result.outcome = 'ended'),
    (error: unknown) => (result.outcome = error),
  );
  await clock.advance(900);
  source.push(`${event('BOOKMARK', 'x')}\n`);
  await clock.advance(900);
  assert.equal(outcome(), 'pending', 'a byte resets the inactivity timer');
  await clock.advance(100);
  await settle();
  assert.ok(outcome() instanceof WatchInactiveError);
});

test('a stream error and a throwing handler both reject and release the stream', async () => {
  const clock = new FakeClock();
  const failing = manualStream();
  const failed = readWatchEvents(failing.stream, () => undefined, { clock, inactivityMs: 1_000 });
  failing.fail(new Error('connection reset'));
  await assert.rejects(failed, /connection reset/);

  const throwing = manualStream();
  const rejected = readWatchEvents(
    throwing.stream,
    () => {
      throw new Error('410 Gone');
    },
    { clock, inactivityMs: 1_000 },
  );
  throwing.push(`${event('ERROR', 'x')}\n`);
  await assert.rejects(rejected, /410 Gone/);
  assert.equal(throwing.state.cancelled, true, 'the connection is cancelled');
  assert.equal(clock.pendingTimers, 0, 'no inactivity timer is left behind');
});
