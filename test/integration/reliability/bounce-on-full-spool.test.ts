// A bounce that cannot be queued (the spool is out of space) must not make the relay send the message
// again to the recipients the same attempt delivered: their outcome is recorded, and only the failed
// recipient waits for space to get its bounce.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { test } from 'node:test';
import { createDeliveryMetrics } from '../../../relay/delivery/metrics.ts';
import { startDelivery } from '../../../relay/delivery/service.ts';
import { openSpool } from '../../../relay/queue/spool.ts';
import { startFaultSmtpServer } from '../../support/fault-smtp-server.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { defaultDelivery, enqueue, envelopeFor, messageText } from '../relay-delivery/harness.ts';
import { waitUntil } from './relay-metrics.ts';
import { pause } from './smtp-load.ts';

test('a bounce that cannot be queued on a full spool never re-sends to the recipients already delivered', async () => {
  const hop = await startFaultSmtpServer({
    random: seededRandom(1),
    faultRate: 0,
    alwaysReject: ['gone@x.test'],
  });
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-bounce-full-'));
  let free = 1 << 30;
  const spool = await openSpool({
    dir,
    minFreeBytes: 1 << 20,
    now: Date.now,
    freeBytes: () => Promise.resolve(free),
    spaceCheckIntervalMs: 20,
  });
  // Queued while there was space; the disk is full before delivery starts.
  const queueId = await enqueue(
    spool,
    envelopeFor('alice@example.org', ['ok@x.test', 'gone@x.test']),
    messageText('alice@example.org', 'ok@x.test', 'half bounces'),
  );
  free = 0;
  await waitUntil('the spool to see the full disk', 5000, () => !spool.hasSpace());
  const logs: Record<string, unknown>[] = [];
  const delivery = startDelivery({
    config: {
      hostname: 'relay.mailfleet.test',
      queue: {
        dir,
        minFreeBytes: 1 << 20,
        maxLifetimeSeconds: 3600,
        delayWarningSeconds: 0,
        sendReports: true,
        adminPort: 0,
        commitDelayMs: 0,
      },
      delivery: { ...defaultDelivery, smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' } },
    },
    secrets: { dkimKeys: new Map() },
    spool,
    logger: pino(
      { level: 'debug' },
      { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    ),
    metrics: createDeliveryMetrics(new Registry()),
    clock: Date.now,
    random: Math.random,
  });
  try {
    await waitUntil('the first attempt', 10_000, () => hop.received().length > 0);
    // Two retry intervals (retryInitialSeconds 1) on a still-full spool.
    await pause(3000);
    const toOk = hop.received().filter((message) => message.recipients.includes('ok@x.test'));
    assert.equal(toOk.length, 1, 'ok@x.test got the message once, not at every retry of the bounce');
    assert.notEqual(
      spool.show(queueId)?.recipients[1]?.status,
      'bounced',
      'no bounce recorded without its DSN',
    );
    assert.ok(
      logs.some((line) => line['event'] === 'bounce-deferred'),
      'the unqueued bounce is logged',
    );
    assert.deepEqual(
      logs.filter((line) => line['event'] === 'bounced'),
      [],
      'not logged as bounced before its DSN is queued',
    );

    free = 1 << 30;
    await waitUntil('the bounce to the sender', 15_000, () =>
      hop
        .received()
        .some((message) => message.mailFrom === '' && message.recipients.includes('alice@example.org')),
    );
    await waitUntil('an empty queue', 10_000, () => spool.size() === 0);
    assert.equal(hop.received().filter((message) => message.recipients.includes('ok@x.test')).length, 1);
  } finally {
    await delivery.stop();
    spool.close();
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  }
});
