// Smarthost delivery against Postfix's smtp-sink: delivered, 4xx then 2xx, 5xx bounced as a DSN.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

const sinks: SmtpSink[] = [];
after(async () => {
  await Promise.all(sinks.map((sink) => sink.stop()));
});

test('a queued message reaches the smarthost and leaves the queue', async () => {
  const sink = await startSmtpSink();
  sinks.push(sink);
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'opportunistic' } },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('alice@example.org', ['bob@x.test', 'carol@y.test']),
      messageText('alice@example.org', 'bob@x.test', 'plain delivery'),
    );
    const [dumped] = await sink.waitForMessages(1, 10_000);
    assert.equal(dumped?.mailFrom, 'alice@example.org');
    assert.deepEqual(
      dumped.recipients,
      ['bob@x.test', 'carol@y.test'],
      'one transaction for both recipients',
    );
    assert.match(dumped.raw, /Subject: plain delivery/);
    await harness.waitForEmptyQueue(10_000);
    const delivered = harness
      .logs()
      .filter((line) => line['event'] === 'delivered' && line['queueId'] === queueId);
    assert.equal(delivered.length, 2);
    const metrics = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_recipients_total',
    );
    assert.match(
      metrics,
      /mailfleet_relay_delivery_recipients_total\{result="delivered",mode="smarthost"\} 2/,
    );
  } finally {
    await harness.close();
  }
});

test('lines that start with a dot reach the next hop unchanged, across many DATA chunks', async () => {
  const sink = await startSmtpSink();
  sinks.push(sink);
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
  });
  try {
    // Over 256 KiB so the body leaves the spool as several chunks, with dot lines at the seams.
    const dotted = Array.from({ length: 30_000 }, (_, i) => (i % 3 === 0 ? `.line ${i}` : `..${i}.`));
    const body = ['.', ...dotted, '.', '..', 'end'].join('\r\n');
    await enqueue(
      harness.spool,
      envelopeFor('alice@example.org', ['bob@x.test']),
      `${messageText('alice@example.org', 'bob@x.test', 'dots')}${body}\r\n`,
    );
    const [dumped] = await sink.waitForMessages(1, 10_000);
    await harness.waitForEmptyQueue(10_000);
    const delivered = (await sink.messages())[0]?.raw ?? dumped?.raw ?? '';
    // smtp-sink writes its dump with LF line ends.
    const expected = `\n${body.replaceAll('\r\n', '\n')}\n`;
    assert.ok(delivered.includes(expected), 'the body as queued, every leading dot intact');
  } finally {
    await harness.close();
  }
});

test('a 4xx defers with backoff, and the retry delivers once the next hop answers 2xx', async () => {
  const refusing = await startSmtpSink({ softReject: ['RCPT'], softReply: '451 4.3.0 try again later' });
  const port = refusing.port;
  const harness = await startHarness({ delivery: { smarthost: { host: '127.0.0.1', port, tls: 'none' } } });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('alice@example.org', ['bob@x.test']),
      messageText('alice@example.org', 'bob@x.test', 'retry me'),
    );
    const deferred = await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
      10_000,
    );
    assert.match(String(deferred['reply']), /^451 4\.3\.0 try again later/);
    const state = harness.spool.show(queueId)?.recipients[0];
    assert.equal(state?.status, 'deferred');
    assert.equal(state.attempts, 1);
    await refusing.stop();
    const accepting = await startSmtpSink({ port });
    sinks.push(accepting);
    const [dumped] = await accepting.waitForMessages(1, 15_000);
    assert.match(dumped?.raw ?? '', /Subject: retry me/);
    await harness.waitForEmptyQueue(10_000);
    const delivered = await harness.waitForLog(
      (line) => line['event'] === 'delivered' && line['queueId'] === queueId,
      1000,
    );
    assert.ok(Number(delivered['attempts']) >= 2);
  } finally {
    await harness.close();
  }
});

test('a 5xx bounces: an RFC 3464 DSN from the null sender reaches the envelope sender', async () => {
  const rejecting = await startSmtpSink({ hardReject: ['RCPT'], hardReply: '550 5.1.1 no such user here' });
  sinks.push(rejecting);
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: rejecting.port, tls: 'none' } },
  });
  try {
    await enqueue(
      harness.spool,
      envelopeFor('alice@example.org', ['nobody@x.test'], { dsnEnvelopeId: 'ENV-42' }),
      messageText('alice@example.org', 'nobody@x.test', 'will bounce'),
    );
    // The DSN itself goes to the same (rejecting) smarthost and is rejected too; a DSN is never
    // bounced again, so the queue empties. The DSN content is checked from the bounce's log trail.
    const bounceLine = await harness.waitForLog((line) => line['event'] === 'bounce-queued', 10_000);
    const bounceId = String(bounceLine['bounceQueueId']);
    await harness.waitForEmptyQueue(10_000);
    const bounceOutcome = harness
      .logs()
      .find((line) => line['queueId'] === bounceId && line['event'] === 'bounced');
    assert.ok(bounceOutcome, 'the DSN was attempted and dropped, not bounced back');
    assert.equal(
      harness.logs().filter((line) => line['event'] === 'bounce-queued').length,
      1,
      'no bounce of a bounce',
    );
  } finally {
    await harness.close();
  }
});
