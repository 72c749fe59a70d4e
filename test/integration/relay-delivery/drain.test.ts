// Case 21: drain keeps delivering until the deadline, then hands what is left to a peer relay over
// SMTP; the local copy goes only after the peer's 250. The peer here is a second spool behind a
// minimal smtp-server front (the real front is relay/smtp), and it delivers to smtp-sink.
import assert from 'node:assert/strict';
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

test(
  'a next hop that stalls mid-session does not hold up the drain: the message is handed off',
  { timeout: 30_000 },
  async () => {
    const peer = await startPeer();
    // Accepts the connection and never greets; only the relay's own timeouts (an hour here) would end it.
    const stalled = new Set<Socket>();
    const stallingHop = createServer((socket) => {
      stalled.add(socket);
      socket.on('close', () => stalled.delete(socket));
    });
    await new Promise<void>((listening) => stallingHop.listen(0, '127.0.0.1', listening));
    const stallingPort = (stallingHop.address() as AddressInfo).port;
    const draining = await startHarness({
      delivery: {
        smarthost: { host: '127.0.0.1', port: stallingPort, tls: 'none' },
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
      const waitUntil = Date.now() + 10_000;
      while (stalled.size === 0 && Date.now() < waitUntil) await new Promise((wait) => setTimeout(wait, 20));
      assert.equal(draining.service.inFlight(), 1, 'the delivery is stuck waiting for a greeting');
      const started = Date.now();
      const report = await draining.service.drain(Date.now() + 300);
      assert.ok(Date.now() - started < 5000, `drained in ${Date.now() - started} ms`);
      assert.deepEqual(report, { handedOff: 1, remaining: 0 });
      const [delivered] = await peer.sink.waitForMessages(1, 15_000);
      assert.deepEqual(delivered?.recipients, ['stalled@x.test']);
      const interrupted = draining.logs().find((line) => line['event'] === 'deferred');
      assert.match(String(interrupted?.['reply']), /interrupted: the relay is stopping/);
      await peer.harness.waitForEmptyQueue(10_000);
    } finally {
      await draining.close();
      for (const socket of stalled) socket.destroy();
      await new Promise<void>((closed) => {
        stallingHop.close(() => {
          closed();
        });
      });
      await peer.close();
    }
  },
);
