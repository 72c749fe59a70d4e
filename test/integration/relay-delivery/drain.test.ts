// Case 21: drain keeps delivering until the deadline, then hands what is left to a peer relay over
// SMTP; the local copy goes only after the peer's 250. The peer here is a second spool behind a
// minimal smtp-server front (the real front is relay/smtp), and it delivers to smtp-sink.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { Spool } from '../../../relay/queue/spool.ts';
import { freeTcpPort, startSmtpSink } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

function smtpFront(spool: Spool): SMTPServer {
  return new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const envelope = envelopeFor(
        session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
        session.envelope.rcptTo.map((recipient) => recipient.address),
      );
      spool.accept(spool.newQueueId(), envelope, stream).then(
        () => {
          callback();
        },
        (error: unknown) => {
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });
}

/**
 * The peer a draining relay hands off to: a second spool behind smtpFront, delivering to smtp-sink.
 * `close` stops all three.
 */
async function startPeer() {
  const sink = await startSmtpSink();
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
  });
  const front = smtpFront(harness.spool);
  await new Promise<void>((listening) => front.listen(0, '127.0.0.1', listening));
  return {
    sink,
    harness,
    address: `127.0.0.1:${String((front.server.address() as AddressInfo).port)}`,
    async close() {
      await new Promise<void>((closed) => {
        front.close(() => {
          closed();
        });
      });
      await harness.close();
      await sink.stop();
    },
  };
}

test('drain hands undeliverable-by-deadline messages to a peer, which delivers them', async () => {
  const peer = await startPeer();
  // The draining relay's own next hop is down: its messages can only leave through the peer.
  const deadHop = await freeTcpPort();
  const draining = await startHarness({
    delivery: {
      smarthost: { host: '127.0.0.1', port: deadHop, tls: 'none' },
      retryInitialSeconds: 600,
      drainPeers: [peer.address],
    },
  });
  try {
    const ids = await Promise.all(
      ['one', 'two', 'three'].map((name) =>
        enqueue(
          draining.spool,
          envelopeFor('alice@example.org', [`${name}@x.test`, `${name}-cc@y.test`]),
          messageText('alice@example.org', `${name}@x.test`, `drain ${name}`),
        ),
      ),
    );
    await draining.waitForLog((line) => line['event'] === 'deferred' && line['queueId'] === ids[2], 10_000);
    const report = await draining.service.drain(Date.now() + 300);
    assert.deepEqual(report, { handedOff: 3, remaining: 0 });
    assert.equal(draining.spool.size(), 0);
    const delivered = await peer.sink.waitForMessages(3, 15_000);
    assert.deepEqual(delivered.map((message) => message.recipients.join(',')).sort(), [
      'one@x.test,one-cc@y.test',
      'three@x.test,three-cc@y.test',
      'two@x.test,two-cc@y.test',
    ]);
    await peer.harness.waitForEmptyQueue(10_000);
  } finally {
    await draining.close();
    await peer.close();
  }
});

test('drain with an unreachable peer keeps every message', async () => {
  const deadHop = await freeTcpPort();
  const draining = await startHarness({
    delivery: {
      smarthost: { host: '127.0.0.1', port: deadHop, tls: 'none' },
      retryInitialSeconds: 600,
      drainPeers: [`127.0.0.1:${deadHop}`],
    },
  });
  try {
    const id = await enqueue(
      draining.spool,
      envelopeFor('alice@example.org', ['bob@x.test']),
      messageText('alice@example.org', 'bob@x.test', 'kept'),
    );
    await draining.waitForLog((line) => line['event'] === 'deferred' && line['queueId'] === id, 10_000);
    const report = await draining.service.drain(Date.now());
    assert.deepEqual(report, { handedOff: 0, remaining: 1 });
    assert.ok(draining.spool.show(id));
  } finally {
    await draining.close();
  }
});

/** A next hop that accepts connections and never greets; only the relay's own timeouts would end them. */
async function startStallingHop() {
  const stalled = new Set<Socket>();
  const server = createServer((socket) => {
    stalled.add(socket);
    socket.on('close', () => stalled.delete(socket));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    port: (server.address() as AddressInfo).port,
    async waitForConnection(timeoutMs: number) {
      const waitUntil = Date.now() + timeoutMs;
      while (stalled.size === 0 && Date.now() < waitUntil) await new Promise((wait) => setTimeout(wait, 20));
    },
    async close() {
      for (const socket of stalled) socket.destroy();
      await new Promise<void>((closed) => {
        server.close(() => {
          closed();
        });
      });
    },
  };
}

test(
  'a delivery the drain cuts off keeps no retry delay: a restart over the spool delivers it at once',
  { timeout: 30_000 },
  async () => {
    const hop = await startStallingHop();
    const sink = await startSmtpSink();
    const dir = await mkdtemp(join(tmpdir(), 'mailfleet-interrupted-'));
    // A first retry 10 minutes out: had the cut-off attempt counted, the restart could not deliver in time.
    const retryInitialSeconds = 600;
    const first = await startHarness({
      dir,
      delivery: {
        smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' },
        connectTimeoutSeconds: 3600,
        retryInitialSeconds,
        retryMaxSeconds: retryInitialSeconds,
      },
    });
    let firstOpen = true;
    try {
      const id = await enqueue(
        first.spool,
        envelopeFor('alice@example.org', ['cut@x.test']),
        messageText('alice@example.org', 'cut@x.test', 'cut off by the drain'),
      );
      await hop.waitForConnection(10_000);
      assert.equal(first.service.inFlight(), 1, 'the delivery is stuck waiting for a greeting');
      assert.deepEqual(await first.service.drain(Date.now() + 200), { handedOff: 0, remaining: 1 });
      const [recipient] = first.spool.show(id)?.recipients ?? [];
      assert.equal(recipient?.status, 'pending');
      assert.equal(recipient.attempts, 0, 'the cut-off attempt is not counted');
      assert.ok(recipient.nextAttemptAt <= Date.now(), 'still due');
      assert.ok(
        first.logs().some((line) => line['event'] === 'delivery-interrupted' && line['queueId'] === id),
      );
      firstOpen = false;
      await first.close();
      const second = await startHarness({
        dir,
        delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' }, retryInitialSeconds },
      });
      try {
        const [delivered] = await sink.waitForMessages(1, 10_000);
        assert.deepEqual(delivered?.recipients, ['cut@x.test']);
        await second.waitForEmptyQueue(5000);
      } finally {
        await second.close();
      }
    } finally {
      if (firstOpen) await first.close();
      await hop.close();
      await sink.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a next hop that stalls mid-session does not hold up the drain: the message is handed off',
  { timeout: 30_000 },
  async () => {
    const peer = await startPeer();
    const hop = await startStallingHop();
    const draining = await startHarness({
      delivery: {
        smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' },
        connectTimeoutSeconds: 3600,
        drainPeers: [peer.address],
      },
    });
    try {
      await enqueue(
        draining.spool,
        envelopeFor('alice@example.org', ['stalled@x.test']),
        messageText('alice@example.org', 'stalled@x.test', 'drain past a stall'),
      );
      await hop.waitForConnection(10_000);
      assert.equal(draining.service.inFlight(), 1, 'the delivery is stuck waiting for a greeting');
      const started = Date.now();
      const report = await draining.service.drain(Date.now() + 300);
      assert.ok(Date.now() - started < 5000, `drained in ${Date.now() - started} ms`);
      assert.deepEqual(report, { handedOff: 1, remaining: 0 });
      const [delivered] = await peer.sink.waitForMessages(1, 15_000);
      assert.deepEqual(delivered?.recipients, ['stalled@x.test']);
      assert.ok(draining.logs().some((line) => line['event'] === 'delivery-interrupted'));
      assert.ok(!draining.logs().some((line) => line['event'] === 'deferred'), 'no retry delay recorded');
      await peer.harness.waitForEmptyQueue(10_000);
    } finally {
      await draining.close();
      await hop.close();
      await peer.close();
    }
  },
);
