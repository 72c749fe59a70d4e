// The spool's in-memory index alone: due times, leases, holds, retries and listeners, with the time
// given as an argument. No disk: the body places are plain values the index only carries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BodyPlace } from '../../../relay/queue/message-stores.ts';
import { QueueIndex } from '../../../relay/queue/queue-index.ts';
import type { QueuedMessage, RecipientState } from '../../../relay/queue/queued-message.ts';

const place = (): BodyPlace => ({ segment: undefined, bodyOffset: 10, hasLog: false });
const recipient = (
  address: string,
  status: RecipientState['status'],
  nextAttemptAt: number,
): RecipientState => ({ recipient: { address }, status, attempts: 0, nextAttemptAt });
const message = (queueId: string, recipients: RecipientState[], receivedAt = 100): QueuedMessage => ({
  queueId,
  envelope: {
    mailFrom: 'sender@example.org',
    recipients: recipients.map((state) => state.recipient),
    smtpUtf8: false,
    eightBitMime: false,
    client: { address: '127.0.0.1' },
    receivedAt,
  },
  size: 5,
  recipients,
});
const ids = (messages: readonly QueuedMessage[]): string[] => messages.map(({ queueId }) => queueId);

test('leaseDue hands out due messages earliest first, each once, and only those due at the given time', () => {
  const index = new QueueIndex();
  index.add(message('late', [recipient('a@x.test', 'pending', 300)]), place());
  index.add(message('early', [recipient('a@x.test', 'pending', 100)]), place());
  index.add(message('middle', [recipient('a@x.test', 'deferred', 200)]), place());
  assert.deepEqual(ids(index.leaseDue(10, 250)), ['early', 'middle']);
  assert.deepEqual(index.leaseDue(10, 250), [], 'leased messages are not leased again');
  assert.equal(index.nextDueAt(), 300);
  assert.deepEqual(ids(index.leaseDue(1, 1000)), ['late']);
  assert.equal(index.nextDueAt(), undefined, 'every message is leased');
  assert.equal(index.size, 3);
});

test('leaseDue stops at the limit and leaves the rest due', () => {
  const index = new QueueIndex();
  for (const id of ['a', 'b', 'c']) index.add(message(id, [recipient('r@x.test', 'pending', 1)]), place());
  assert.equal(index.leaseDue(2, 10).length, 2);
  assert.equal(index.nextDueAt(), 1);
  assert.equal(index.leaseDue(2, 10).length, 1);
});

test('the earliest open recipient sets the due time; a message with none is never due', () => {
  const index = new QueueIndex();
  index.add(
    message('mixed', [recipient('a@x.test', 'delivered', 10), recipient('b@x.test', 'deferred', 500)]),
    place(),
  );
  index.add(message('done', [recipient('a@x.test', 'bounced', 10)]), place());
  assert.equal(index.get('mixed')?.dueAt, 500);
  assert.equal(index.get('done')?.dueAt, undefined);
  assert.deepEqual(ids(index.leaseDue(10, 10_000)), ['mixed']);
});

test('record applies outcomes and ends the lease; the message is due again only once scheduled', () => {
  const index = new QueueIndex();
  index.add(
    message('m', [recipient('a@x.test', 'pending', 0), recipient('b@x.test', 'pending', 0)]),
    place(),
  );
  index.leaseDue(1, 0);
  const entry = index.record('m', [{ indexes: [1], status: 'deferred', attempts: 1, nextAttemptAt: 700 }]);
  assert.ok(entry);
  assert.equal(entry.leased, false);
  assert.deepEqual(
    entry.message.recipients.map(({ status, nextAttemptAt }) => [status, nextAttemptAt]),
    [
      ['pending', 0],
      ['deferred', 700],
    ],
  );
  index.schedule(entry);
  assert.deepEqual(ids(index.leaseDue(10, 0)), ['m'], 'the pending recipient is still due');
  assert.equal(index.record('unknown', []), undefined);
});

test('release ends a lease and holds the message until notBefore', () => {
  const index = new QueueIndex();
  index.add(message('m', [recipient('a@x.test', 'pending', 0)]), place());
  index.leaseDue(1, 0);
  index.release('m', 900);
  assert.deepEqual(index.leaseDue(1, 899), []);
  assert.equal(index.nextDueAt(), 900);
  assert.deepEqual(ids(index.leaseDue(1, 900)), ['m']);
  index.release('absent', 0);
});

test('retryNow makes open recipients due now, lifts a hold, and counts the messages it touched', () => {
  const index = new QueueIndex();
  index.add(
    message('a', [recipient('a@x.test', 'deferred', 5000), recipient('b@x.test', 'delivered', 10)]),
    place(),
  );
  index.add(message('b', [recipient('c@x.test', 'deferred', 6000)]), place());
  assert.equal(index.retryNow('a', 100), 1);
  assert.deepEqual(
    index.get('a')?.message.recipients.map(({ nextAttemptAt }) => nextAttemptAt),
    [100, 10],
    'a final recipient keeps its time',
  );
  assert.deepEqual(ids(index.leaseDue(10, 100)), ['a']);
  index.release('a', 10_000);
  assert.equal(index.retryNow('missing', 100), 0);
  assert.equal(index.retryNow(undefined, 200), 2);
  assert.deepEqual(ids(index.leaseDue(10, 200)).sort(), ['a', 'b'], 'the hold on a is lifted');
});

test('a listener hears every message that becomes due, until it unsubscribes or listeners are cleared', () => {
  const index = new QueueIndex();
  let heard = 0;
  const unsubscribe = index.onDue(() => (heard += 1));
  index.add(message('a', [recipient('a@x.test', 'pending', 0)]), place());
  index.add(message('done', [recipient('a@x.test', 'delivered', 0)]), place());
  assert.equal(heard, 1, 'a message with nothing open wakes nobody');
  index.leaseDue(1, 0);
  index.retryNow('a', 0);
  assert.equal(heard, 1, 'a leased message is not pushed while leased');
  index.release('a', 0);
  assert.equal(heard, 2);
  unsubscribe();
  index.release('a', 0);
  assert.equal(heard, 2);
  index.onDue(() => (heard += 1));
  index.clearListeners();
  index.release('a', 0);
  assert.equal(heard, 2);
});

test('a stale heap item (the message was rescheduled, or deleted) is skipped', () => {
  const index = new QueueIndex();
  index.add(message('moved', [recipient('a@x.test', 'deferred', 100)]), place());
  index.add(message('gone', [recipient('a@x.test', 'pending', 50)]), place());
  index.delete('gone');
  const moved = index.record('moved', [
    { indexes: [0], status: 'deferred', attempts: 1, nextAttemptAt: 400 },
  ]);
  assert.ok(moved);
  index.schedule(moved);
  assert.equal(index.nextDueAt(), 400);
  assert.deepEqual(index.leaseDue(10, 399), []);
  assert.deepEqual(ids(index.leaseDue(10, 400)), ['moved']);
  assert.equal(index.has('gone'), false);
  assert.throws(() => index.require('gone'), /queue id gone is not in the queue/);
});

test('list filters at the given time, and oldestReceivedAt follows what is queued', () => {
  const index = new QueueIndex();
  assert.equal(index.oldestReceivedAt(), undefined);
  index.add(message('new', [recipient('a@x.test', 'pending', 0)], 900), place());
  index.add(message('old', [recipient('b@y.test', 'deferred', 0)], 100), place());
  assert.equal(index.oldestReceivedAt(), 100);
  assert.deepEqual(ids(index.list({}, 1000)), ['new', 'old']);
  assert.deepEqual(ids(index.list({ olderThanMs: 500 }, 1000)), ['old']);
  assert.deepEqual(ids(index.list({ status: 'pending' }, 1000)), ['new']);
  index.delete('old');
  assert.equal(index.oldestReceivedAt(), 900);
});
