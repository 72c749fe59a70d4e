// The delivery loop's scheduler alone, over a real spool in a temp directory and a delivery function
// the test controls: how many run at once, that finished ones make room, that a message falling due
// later wakes it, and that stop() leases nothing more.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { LeasePump } from '../../../relay/delivery/lease-pump.ts';
import type { QueuedMessage } from '../../../relay/queue/queued-message.ts';
import { openSpool, type Spool } from '../../../relay/queue/spool.ts';
import { envelopeTo, tempRoot } from '../relay-queue/fixtures.ts';

const root = tempRoot('mailfleet-lease-pump-');

async function spoolWith(name: string, count: number, now: () => number): Promise<Spool> {
  const spool = await openSpool({ dir: join(root(), name), minFreeBytes: 0, now });
  for (let n = 0; n < count; n += 1) {
    const body = Readable.from([Buffer.from(`Subject: ${String(n)}\r\n\r\nbody\r\n`)]);
    await spool.accept(spool.newQueueId(), envelopeTo(['a@x.test'], 0), body);
  }
  return spool;
}

/** A delivery per message that the test ends by hand (completing the message as delivered). */
function manualDeliveries(spool: Spool): {
  started: QueuedMessage[];
  /** Ends the delivery started `position`-th. */
  finish: (position: number) => Promise<void>;
  deliver: (message: QueuedMessage) => Promise<void>;
} {
  const started: QueuedMessage[] = [];
  const finishers = new Map<string, () => void>();
  return {
    started,
    deliver: (message) => {
      started.push(message);
      return new Promise<void>((resolve) => finishers.set(message.queueId, resolve)).then(() =>
        spool.complete(message.queueId, [
          { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 0 },
        ]),
      );
    },
    finish: async (position) => {
      const message = started[position];
      assert.ok(message, `delivery ${String(position)} started`);
      finishers.get(message.queueId)?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A pump started over a spool of `count` due messages, delivering by hand (manualDeliveries). */
async function startedPump(
  name: string,
  count: number,
  maxInFlight: number,
): Promise<{ spool: Spool; deliveries: ReturnType<typeof manualDeliveries>; pump: LeasePump }> {
  const spool = await spoolWith(name, count, () => 1000);
  const deliveries = manualDeliveries(spool);
  const pump = new LeasePump({ spool, maxInFlight, deliver: deliveries.deliver, now: () => 1000 });
  pump.start();
  return { spool, deliveries, pump };
}

test('at most maxInFlight deliveries run; each one that ends makes room for the next', async () => {
  const { spool, deliveries, pump } = await startedPump('room', 5, 2);
  assert.equal(deliveries.started.length, 2);
  assert.equal(pump.inFlight, 2);
  await deliveries.finish(0);
  assert.equal(deliveries.started.length, 3, 'a finished delivery pumps again');
  assert.equal(pump.inFlight, 2);
  for (let n = 1; n < 5; n += 1) await deliveries.finish(n);
  assert.equal(deliveries.started.length, 5);
  assert.equal(new Set(deliveries.started.map(({ queueId }) => queueId)).size, 5, 'each message once');
  assert.equal(pump.inFlight, 0);
  assert.equal(spool.size(), 0);
  pump.stop();
  spool.close();
});

test('a message accepted while it runs is leased at once (the spool says it is due)', async () => {
  const { spool, deliveries, pump } = await startedPump('on-due', 0, 4);
  assert.equal(deliveries.started.length, 0);
  await spool.accept(spool.newQueueId(), envelopeTo(['a@x.test'], 0), Readable.from([Buffer.from('x\r\n')]));
  assert.equal(deliveries.started.length, 1);
  await deliveries.finish(0);
  pump.stop();
  spool.close();
});

test('a message released until later is leased again when it falls due, by the timer', async () => {
  const spool = await spoolWith('timer', 1, () => Date.now());
  const leased: QueuedMessage[] = [];
  let first = true;
  const pump = new LeasePump({
    spool,
    maxInFlight: 1,
    now: () => Date.now(),
    deliver(message) {
      leased.push(message);
      if (first) {
        first = false;
        spool.release(message.queueId, Date.now() + 80);
        return Promise.resolve();
      }
      return spool.complete(message.queueId, [
        { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 0 },
      ]);
    },
  });
  const started = Date.now();
  pump.start();
  while (leased.length < 2 && Date.now() - started < 5000)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(leased.length, 2);
  assert.ok(Date.now() - started >= 80, 'not before it was due');
  await pump.settled();
  assert.equal(spool.size(), 0);
  pump.stop();
  spool.close();
});

test('after stop() nothing more is leased; settled() waits for the deliveries in flight', async () => {
  const { spool, deliveries, pump } = await startedPump('stop', 3, 1);
  assert.equal(deliveries.started.length, 1);
  pump.stop();
  let settled = false;
  const settling = pump.settled().then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'a delivery is still in flight');
  await deliveries.finish(0);
  await settling;
  assert.equal(deliveries.started.length, 1, 'no lease after stop');
  await spool.accept(spool.newQueueId(), envelopeTo(['a@x.test'], 0), Readable.from([Buffer.from('x\r\n')]));
  assert.equal(deliveries.started.length, 1, 'a newly due message is not leased either');
  assert.equal(spool.size(), 3);
  spool.close();
});
