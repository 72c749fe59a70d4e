// Recording one attempt alone, into a real spool in a temp directory, with real metrics and a log
// read back: outcomes made durable, the bounce or delay warning queued into the same spool first,
// and a bounce that cannot be queued (a full spool) leaving its recipient deferred.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { AttemptResult } from '../../../relay/delivery/attempt-result.ts';
import { createDeliveryMetrics } from '../../../relay/delivery/metrics.ts';
import { recordAttempt, type RecordContext } from '../../../relay/delivery/record-attempt.ts';
import type { QueuedMessage } from '../../../relay/queue/queued-message.ts';
import { openSpool, type Spool } from '../../../relay/queue/spool.ts';
import { envelopeTo, tempRoot } from '../relay-queue/fixtures.ts';

const root = tempRoot('mailfleet-record-attempt-');
const now = 100_000;
const ok: AttemptResult = { kind: 'reply', code: 250, text: '2.0.0 ok' };
const later: AttemptResult = { kind: 'reply', code: 451, text: '4.3.0 later' };
const refused: AttemptResult = { kind: 'reply', code: 550, text: '5.1.1 no such user' };

interface Recording {
  readonly spool: Spool;
  readonly context: RecordContext;
  readonly registry: Registry;
  readonly logs: Record<string, unknown>[];
  /** Queues a message to the recipients and leases it, as delivery would. */
  queue: (recipients: string[]) => Promise<QueuedMessage>;
  /** Free bytes the spool's probe reports (the spool refuses messages below 1000). */
  setFree: (bytes: number) => Promise<void>;
}

async function recording(name: string, delayWarningMs = 0): Promise<Recording> {
  let free = 1_000_000;
  const spool = await openSpool({
    dir: join(root(), name),
    minFreeBytes: 1000,
    now: () => now,
    freeBytes: () => Promise.resolve(free),
    spaceCheckIntervalMs: 5,
  });
  const logs: Record<string, unknown>[] = [];
  const registry = new Registry();
  const context: RecordContext = {
    spool,
    mode: 'mx',
    reportSender: { reportingMta: 'relay.mailfleet.test', from: undefined },
    reportPolicy: { sendReports: true, delayWarningMs },
    outcome: { maxLifetimeMs: 3_600_000, backoff: { initialMs: 1000, maxMs: 60_000 }, random: () => 0.5 },
    metrics: createDeliveryMetrics(registry),
    logger: pino(
      { level: 'debug' },
      { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    ),
    now: () => now,
  };
  return {
    spool,
    context,
    registry,
    logs,
    queue: async (recipients) => {
      const queueId = spool.newQueueId();
      const body = Readable.from([Buffer.from('Subject: hi\r\n\r\nhello\r\n')]);
      await spool.accept(queueId, envelopeTo(recipients, 10_000), body);
      const leased = spool.leaseDue(10).find((message) => message.queueId === queueId);
      assert.ok(leased);
      return leased;
    },
    setFree: async (bytes) => {
      free = bytes;
      // The spool's probe runs every 5 ms: wait until it has seen the new figure.
      while (spool.freeBytes() !== bytes) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

const counted = async (registry: Registry, result: string): Promise<number> =>
  (await registry.getSingleMetric('mailfleet_relay_delivery_recipients_total')?.get())?.values.find(
    ({ labels }) => labels['result'] === result,
  )?.value ?? 0;

test('delivered and deferred recipients are recorded, counted and logged; the message stays for the deferred one', async () => {
  const { spool, context, registry, logs, queue } = await recording('mixed');
  const message = await queue(['a@x.test', 'b@y.test']);
  await recordAttempt(context, message, [
    { group: { destination: 'x.test', indexes: [0] }, results: [ok] },
    { group: { destination: 'y.test', indexes: [1] }, results: [later] },
  ]);
  const stored = spool.show(message.queueId);
  assert.deepEqual(
    stored?.recipients.map(({ status, attempts }) => [status, attempts]),
    [
      ['delivered', 1],
      ['deferred', 1],
    ],
  );
  assert.equal(spool.nextDueAt(), now + 1000, 'due again after the backoff');
  assert.equal(await counted(registry, 'delivered'), 1);
  assert.equal(await counted(registry, 'deferred'), 1);
  assert.deepEqual(
    logs.map(({ event, destination, recipientDomain }) => [event, destination, recipientDomain]),
    [
      ['delivered', 'x.test', 'x.test'],
      ['deferred', 'y.test', 'y.test'],
    ],
  );
  spool.close();
});

test('a bounce is queued into the spool before the bounced recipient is recorded', async () => {
  const { spool, context, logs, queue } = await recording('bounce');
  const message = await queue(['gone@x.test']);
  await recordAttempt(context, message, [
    { group: { destination: 'x.test', indexes: [0] }, results: [refused] },
  ]);
  assert.equal(spool.show(message.queueId), undefined, 'every recipient final: the message left the queue');
  const [bounce] = spool.list();
  assert.equal(bounce?.envelope.mailFrom, '', 'from the null sender');
  assert.equal(bounce.envelope.recipients[0]?.address, 'sender@example.org');
  assert.match(await text(spool.openBody(bounce.queueId)), /Action: failed[\s\S]*5\.1\.1 no such user/);
  assert.equal(logs.find(({ event }) => event === 'bounce-queued')?.['queueId'], message.queueId);
  spool.close();
});

test('on a full spool the bounce is not queued and its recipient stays deferred; the delivered one is recorded', async () => {
  const { spool, context, registry, logs, queue, setFree } = await recording('full');
  const message = await queue(['ok@x.test', 'gone@x.test']);
  await setFree(10);
  await recordAttempt(context, message, [
    { group: { destination: 'x.test', indexes: [0, 1] }, results: [ok, refused] },
  ]);
  const stored = spool.show(message.queueId);
  assert.deepEqual(
    stored?.recipients.map(({ status, nextAttemptAt, lastReply }) => [status, nextAttemptAt, lastReply]),
    [
      ['delivered', now, '250 2.0.0 ok'],
      ['deferred', now + 1000, '550 5.1.1 no such user (bounce not queued yet)'],
    ],
  );
  assert.equal(spool.size(), 1, 'no bounce queued');
  assert.equal(await counted(registry, 'bounced'), 0);
  assert.equal(logs.find(({ event }) => event === 'bounce-deferred')?.['queueId'], message.queueId);
  spool.close();
});

test('a delay warning is queued once the deferral is old enough, and the recipient is marked warned', async () => {
  const { spool, context, registry, queue } = await recording('delay', 60_000);
  const message = await queue(['slow@x.test']);
  await recordAttempt(context, message, [
    { group: { destination: 'x.test', indexes: [0] }, results: [later] },
  ]);
  assert.equal(spool.show(message.queueId)?.recipients[0]?.delayWarned, true);
  const warning = spool.list().find(({ queueId }) => queueId !== message.queueId);
  assert.ok(warning);
  assert.match(await text(spool.openBody(warning.queueId)), /Action: delayed/);
  assert.equal(
    (await registry.getSingleMetric('mailfleet_relay_delivery_delay_warnings_generated_total')?.get())
      ?.values[0]?.value,
    1,
  );
  spool.close();
});
