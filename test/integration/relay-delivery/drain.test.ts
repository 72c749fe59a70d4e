// Case 21: drain keeps delivering until the deadline, then hands what is left to a peer relay over
// SMTP; the local copy goes only after the peer's 250. The peer here is a second spool behind a
// minimal smtp-server front (the real front is relay/smtp), and it delivers to smtp-sink.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
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

test('drain hands undeliverable-by-deadline messages to a peer, which delivers them', async () => {
  const sink = await startSmtpSink();
  const peer = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
  });
  const front = smtpFront(peer.spool);
  await new Promise<void>((listening) => front.listen(0, '127.0.0.1', listening));
  const peerPort = (front.server.address() as AddressInfo).port;
  // The draining relay's own next hop is down: its messages can only leave through the peer.
  const deadHop = await freeTcpPort();
  const draining = await startHarness({
    delivery: {
      smarthost: { host: '127.0.0.1', port: deadHop, tls: 'none' },
      retryInitialSeconds: 600,
      drainPeers: [`127.0.0.1:${peerPort}`],
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
    const delivered = await sink.waitForMessages(3, 15_000);
    assert.deepEqual(delivered.map((message) => message.recipients.join(',')).sort(), [
      'one@x.test,one-cc@y.test',
      'three@x.test,three-cc@y.test',
      'two@x.test,two-cc@y.test',
    ]);
    await peer.waitForEmptyQueue(10_000);
  } finally {
    await draining.close();
    await new Promise<void>((closed) => {
      front.close(() => {
        closed();
      });
    });
    await peer.close();
    await sink.stop();
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
