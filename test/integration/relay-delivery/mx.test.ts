// Direct MX delivery with real dnsmasq and smtp-sink on 127.0.0.x: preference order with fallback,
// a DSN that arrives at the sender's MX and parses as RFC 3464, and the SSRF guard.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { startDnsmasq, type Dnsmasq } from '../../support/dnsmasq.ts';
import { freeTcpPort, startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

let dns: Dnsmasq;
let port: number;
let recipientMx: SmtpSink;
let senderMx: SmtpSink;
let rejectingMx: SmtpSink;
let tarpit: Server;
let tarpitConnections = 0;

before(async () => {
  port = await freeTcpPort('127.0.0.2');
  recipientMx = await startSmtpSink({ host: '127.0.0.2', port });
  senderMx = await startSmtpSink({ host: '127.0.0.3', port });
  rejectingMx = await startSmtpSink({
    host: '127.0.0.4',
    port,
    hardReject: ['RCPT'],
    hardReply: '550 5.1.1 unknown user',
  });
  // Counts TCP connections: the SSRF test must make none.
  tarpit = createServer((socket) => {
    tarpitConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((listening) => tarpit.listen(port, '127.0.0.5', listening));
  dns = await startDnsmasq({
    mx: [
      { domain: 'x.test', exchange: 'dead.x.test', preference: 5 },
      { domain: 'x.test', exchange: 'mx.x.test', preference: 10 },
      { domain: 'sender.test', exchange: 'mx.sender.test', preference: 10 },
      { domain: 'reject.test', exchange: 'mx.reject.test', preference: 10 },
      { domain: 'internal.test', exchange: 'mx.internal.test', preference: 10 },
    ],
    a: [
      { name: 'dead.x.test', address: '127.0.0.9' },
      { name: 'mx.x.test', address: '127.0.0.2' },
      { name: 'mx.sender.test', address: '127.0.0.3' },
      { name: 'mx.reject.test', address: '127.0.0.4' },
      { name: 'mx.internal.test', address: '127.0.0.5' },
      { name: 'nomx.test', address: '127.0.0.2' },
      { name: 'nomx-internal.test', address: '127.0.0.5' },
    ],
  });
});

after(async () => {
  await Promise.all([recipientMx.stop(), senderMx.stop(), rejectingMx.stop(), dns.stop()]);
  await new Promise((closed) => tarpit.close(closed));
});

const mxDelivery = () => ({ mode: 'mx' as const, dnsServers: [dns.server], mxPort: port });

test('MX delivery follows preference order and falls back past a dead exchange', async () => {
  const harness = await startHarness({ delivery: { ...mxDelivery(), allowPrivateDestinations: true } });
  try {
    await enqueue(
      harness.spool,
      envelopeFor('alice@sender.test', ['bob@x.test']),
      messageText('alice@sender.test', 'bob@x.test', 'via mx'),
    );
    const [dumped] = await recipientMx.waitForMessages(1, 15_000);
    assert.deepEqual(dumped?.recipients, ['bob@x.test']);
    await harness.waitForEmptyQueue(5000);
  } finally {
    await harness.close();
  }
});

test('a domain without MX records is reached at its A record', async () => {
  const harness = await startHarness({ delivery: { ...mxDelivery(), allowPrivateDestinations: true } });
  try {
    const before = (await recipientMx.messages()).length;
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('alice@sender.test', ['carol@nomx.test']),
      messageText('alice@sender.test', 'carol@nomx.test', 'via a record'),
    );
    await harness.waitForLog((line) => line['event'] === 'delivered' && line['queueId'] === queueId, 15_000);
    const dumped = await recipientMx.waitForMessages(before + 1, 5000);
    assert.ok(dumped.some((message) => message.recipients.includes('carol@nomx.test')));
  } finally {
    await harness.close();
  }
});

test('a domain that does not exist bounces at once (550 5.1.2), without retries', async () => {
  const harness = await startHarness({ delivery: { ...mxDelivery(), allowPrivateDestinations: true } });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('', ['someone@nowhere.test']),
      messageText('alice@sender.test', 'someone@nowhere.test', 'nxdomain'),
    );
    const bounced = await harness.waitForLog(
      (line) => line['event'] === 'bounced' && line['queueId'] === queueId,
      15_000,
    );
    assert.match(String(bounced['reply']), /^550 5\.1\.2 /);
    assert.equal(bounced['attempts'], 1);
  } finally {
    await harness.close();
  }
});

test('a 5xx at the MX bounces with an RFC 3464 DSN delivered to the sender domain MX', async () => {
  const harness = await startHarness({ delivery: { ...mxDelivery(), allowPrivateDestinations: true } });
  try {
    await enqueue(
      harness.spool,
      envelopeFor('alice@sender.test', ['ghost@reject.test'], { dsnEnvelopeId: 'ENV-7' }),
      messageText('alice@sender.test', 'ghost@reject.test', 'bounce me'),
    );
    const [dsn] = await senderMx.waitForMessages(1, 15_000);
    await harness.waitForEmptyQueue(5000);
    assert.ok(dsn);
    assert.equal(dsn.mailFrom, '', 'from the null sender');
    assert.deepEqual(dsn.recipients, ['alice@sender.test']);
    const parts = mimeParts(dsn.raw);
    assert.deepEqual(
      parts.map((part) => part.contentType),
      ['text/plain; charset=utf-8', 'message/delivery-status', 'text/rfc822-headers'],
    );
    const status = fields(parts[1]?.body ?? '');
    assert.equal(status.get('reporting-mta'), 'dns; relay.mailfleet.test');
    assert.equal(status.get('original-envelope-id'), 'ENV-7');
    assert.equal(status.get('final-recipient'), 'rfc822; ghost@reject.test');
    assert.equal(status.get('action'), 'failed');
    assert.equal(status.get('status'), '5.1.1');
    assert.match(status.get('diagnostic-code') ?? '', /^smtp; 550 5\.1\.1 unknown user/);
    assert.match(parts[2]?.body ?? '', /^Subject: bounce me$/m);
  } finally {
    await harness.close();
  }
});

test('SSRF: an MX, an address literal or an A-record fallback resolving to a private address is refused with 550 5.4.4 and no connection', async () => {
  const harness = await startHarness({ delivery: { ...mxDelivery(), allowPrivateDestinations: false } });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('', ['victim@internal.test']),
      messageText('alice@sender.test', 'victim@internal.test', 'ssrf'),
    );
    const bounced = await harness.waitForLog(
      (line) => line['event'] === 'bounced' && line['queueId'] === queueId,
      10_000,
    );
    assert.match(String(bounced['reply']), /^550 5\.4\.4 /);
    const literal = await enqueue(
      harness.spool,
      envelopeFor('', ['x@[127.0.0.5]']),
      messageText('a@b.test', 'x@c.test', 'literal'),
    );
    const literalBounce = await harness.waitForLog(
      (line) => line['event'] === 'bounced' && line['queueId'] === literal,
      10_000,
    );
    assert.match(String(literalBounce['reply']), /^550 5\.4\.4 /);
    // The A-record fallback (no MX) is guarded the same way.
    const fallback = await enqueue(
      harness.spool,
      envelopeFor('', ['victim@nomx-internal.test']),
      messageText('a@b.test', 'victim@nomx-internal.test', 'a fallback'),
    );
    const fallbackBounce = await harness.waitForLog(
      (line) => line['event'] === 'bounced' && line['queueId'] === fallback,
      10_000,
    );
    assert.match(String(fallbackBounce['reply']), /^550 5\.4\.4 /);
    await harness.waitForEmptyQueue(5000);
    assert.equal(tarpitConnections, 0);
  } finally {
    await harness.close();
  }
});

test('case 24: MX delivery without plaintext fallback defers at an MX that offers no STARTTLS', async () => {
  const harness = await startHarness({
    delivery: { ...mxDelivery(), allowPrivateDestinations: true, allowPlaintextFallback: false },
  });
  try {
    const before = (await recipientMx.messages()).length;
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('alice@sender.test', ['carol@x.test']),
      messageText('alice@sender.test', 'carol@x.test', 'tls or nothing'),
    );
    const deferred = await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
      15_000,
    );
    assert.match(String(deferred['reply']), /^4\d\d /);
    assert.equal((await recipientMx.messages()).length, before, 'nothing reached the MX in plaintext');
  } finally {
    await harness.close();
  }
});

interface MimePart {
  readonly contentType: string;
  readonly body: string;
}

function mimeParts(raw: string): MimePart[] {
  const text = raw.replaceAll('\r\n', '\n');
  const boundary = /boundary="([^"]+)"/.exec(text)?.[1];
  assert.ok(boundary, 'a multipart/report boundary');
  assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status;/);
  const sections = text.split(`--${boundary}`).slice(1, -1);
  return sections.map((section) => {
    const [head = '', ...rest] = section.replace(/^\n/, '').split('\n\n');
    return { contentType: /^Content-Type: (.+)$/m.exec(head)?.[1] ?? '', body: rest.join('\n\n') };
  });
}

function fields(block: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of block.split('\n')) {
    const match = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) map.set(match[1].toLowerCase(), match[2]);
  }
  return map;
}
