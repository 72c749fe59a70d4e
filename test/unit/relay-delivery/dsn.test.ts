import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDsn, statusCode, wantsDelayReport, wantsFailureReport } from '../../../relay/delivery/dsn.ts';
import { groupByDestination } from '../../../relay/delivery/destinations.ts';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';

const envelope: InboundEnvelope = {
  mailFrom: 'sender@example.org',
  recipients: [
    { address: 'a@x.test' },
    { address: 'b@X.test', notify: ['NEVER'] },
    { address: 'c@y.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;c@y.test' },
  ],
  dsnReturn: 'HDRS',
  dsnEnvelopeId: 'env-1',
  smtpUtf8: false,
  eightBitMime: false,
  client: { address: '127.0.0.1' },
  receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
};

test('wantsFailureReport honours NOTIFY and never answers the null sender', () => {
  const table: readonly [InboundEnvelope, number, boolean][] = [
    [envelope, 0, true],
    [envelope, 1, false],
    [envelope, 2, true],
    [{ ...envelope, mailFrom: '' }, 0, false],
  ];
  for (const [input, index, expected] of table) {
    const recipient = input.recipients[index];
    assert.ok(recipient);
    assert.equal(wantsFailureReport(input, recipient), expected);
  }
});

test('statusCode takes the enhanced code or derives one from the class', () => {
  const table: readonly [string, string][] = [
    ['550 5.1.1 no such user', '5.1.1'],
    ['451 4.7.5 TLS failed', '4.7.5'],
    ['550 no enhanced code', '5.0.0'],
    ['421 try later', '4.0.0'],
  ];
  for (const [reply, code] of table) assert.equal(statusCode(reply), code);
});

test('buildDsn writes a multipart/report with one delivery-status block per failed recipient', () => {
  const recipient = envelope.recipients[2];
  assert.ok(recipient);
  const dsn = buildDsn({
    reportingMta: 'relay.example.org',
    queueId: '00abc\r\nInjected: yes',
    envelope,
    kind: { action: 'failed' },
    recipients: [{ recipient, reply: '550 5.1.1 <c@y.test>: no such user\r\nX-Evil: 1' }],
    now: Date.UTC(2026, 0, 3),
    token: 'tok',
  });
  assert.deepEqual(dsn.envelope, { mailFrom: '', to: 'sender@example.org' });
  assert.equal(dsn.includeFullOriginal, false);
  assert.match(
    dsn.head,
    /^Content-Type: multipart\/report; report-type=delivery-status; boundary="=_mailfleet_dsn_tok"\r$/m,
  );
  assert.match(dsn.head, /^Content-Type: message\/delivery-status\r$/m);
  assert.match(dsn.head, /^Reporting-MTA: dns; relay\.example\.org\r$/m);
  assert.match(dsn.head, /^Original-Envelope-Id: env-1\r$/m);
  assert.match(dsn.head, /^Original-Recipient: rfc822;c@y\.test\r$/m);
  assert.match(dsn.head, /^Final-Recipient: rfc822; c@y\.test\r$/m);
  assert.match(dsn.head, /^Action: failed\r$/m);
  assert.match(dsn.head, /^Status: 5\.1\.1\r$/m);
  assert.match(dsn.head, /^Content-Type: text\/rfc822-headers\r$/m);
  assert.doesNotMatch(dsn.head, /^(Injected|X-Evil):/m, 'no header injection from queue id or reply');
  assert.equal(dsn.tail, '\r\n--=_mailfleet_dsn_tok--\r\n');
  assert.doesNotMatch(dsn.head.replaceAll('\r\n', ''), /[\r\n]/, 'only CRLF line endings');
});

test('a delay warning: Action delayed, a 4.x.x status, Will-Retry-Until, and only the headers even with RET=FULL', () => {
  const recipient = envelope.recipients[0];
  assert.ok(recipient);
  const dsn = buildDsn({
    reportingMta: 'relay.example.org',
    queueId: '00abc',
    envelope: { ...envelope, dsnReturn: 'FULL' },
    kind: { action: 'delayed', willRetryUntil: Date.UTC(2026, 0, 7, 3, 4, 5) },
    recipients: [{ recipient, reply: 'connection refused' }],
    now: Date.UTC(2026, 0, 2, 7, 4, 5),
    token: 'tok',
  });
  assert.equal(dsn.includeFullOriginal, false, 'RET governs failure reports only');
  assert.match(dsn.head, /^From: Mail Delivery System <MAILER-DAEMON@relay\.example\.org>\r$/m);
  const fromPostmaster = buildDsn({
    reportingMta: 'relay.example.org',
    from: 'postmaster@example.org',
    queueId: '00abc',
    envelope,
    kind: { action: 'failed' },
    recipients: [{ recipient, reply: '550 5.1.1 no' }],
    now: 0,
    token: 'tok',
  });
  assert.match(fromPostmaster.head, /^From: Mail Delivery System <postmaster@example\.org>\r$/m);
  assert.match(dsn.head, /^Subject: Delayed Mail \(still being retried\)\r$/m);
  assert.match(dsn.head, /keep trying until Wed, 07 Jan 2026 03:04:05 \+0000/);
  assert.match(dsn.head, /^Action: delayed\r$/m);
  assert.match(dsn.head, /^Status: 4\.0\.0\r$/m, 'a reply without a code is still transient');
  assert.match(dsn.head, /^Will-Retry-Until: Wed, 07 Jan 2026 03:04:05 \+0000\r$/m);
  assert.match(dsn.head, /^Content-Type: text\/rfc822-headers\r$/m);
  assert.doesNotMatch(dsn.head, /^Action: failed/m);
});

test('wantsDelayReport: absent NOTIFY or one with DELAY; never NEVER, never the null sender', () => {
  const table: [InboundEnvelope['recipients'][number], string, boolean][] = [
    [{ address: 'a@x.test' }, 'sender@example.org', true],
    [{ address: 'a@x.test', notify: ['DELAY'] }, 'sender@example.org', true],
    [{ address: 'a@x.test', notify: ['FAILURE', 'DELAY'] }, 'sender@example.org', true],
    [{ address: 'a@x.test', notify: ['FAILURE'] }, 'sender@example.org', false],
    [{ address: 'a@x.test', notify: ['NEVER'] }, 'sender@example.org', false],
    [{ address: 'a@x.test' }, '', false],
  ];
  for (const [recipient, mailFrom, expected] of table) {
    assert.equal(
      wantsDelayReport({ ...envelope, mailFrom }, recipient),
      expected,
      JSON.stringify([recipient, mailFrom]),
    );
  }
});

test('groupByDestination groups due recipients by lower-cased domain, or all to the smarthost', () => {
  const message = {
    queueId: 'q',
    envelope,
    size: 1,
    recipients: envelope.recipients.map((recipient, index) => ({
      recipient,
      status: index === 2 ? ('deferred' as const) : ('pending' as const),
      attempts: 0,
      nextAttemptAt: index === 2 ? 500 : 0,
    })),
  };
  assert.deepEqual(groupByDestination(message, 100, false), [{ destination: 'x.test', indexes: [0, 1] }]);
  assert.deepEqual(groupByDestination(message, 500, true), [
    { destination: 'smarthost', indexes: [0, 1, 2] },
  ]);
});

test('case 34: no line of a report is longer than 998 octets, whatever the next hop answered', () => {
  const long = `rfc822;${'o'.repeat(3000)}@y.test`;
  for (const kind of [
    { action: 'failed' },
    { action: 'delayed', willRetryUntil: Date.UTC(2026, 0, 7) },
  ] as const) {
    const dsn = buildDsn({
      reportingMta: 'relay.test',
      queueId: 'q1',
      envelope: { ...envelope, dsnEnvelopeId: 'e'.repeat(3000) },
      kind,
      recipients: [
        {
          recipient: { address: `${'a'.repeat(64)}@${'x'.repeat(180)}.test`, orcpt: long },
          reply: `550 5.1.1 ${'é'.repeat(2500)}`,
        },
      ],
      now: Date.UTC(2026, 0, 3),
      token: 't0k3n',
    });
    const lines = `${dsn.head}${dsn.tail}`.split('\r\n');
    const longest = Math.max(...lines.map((line) => Buffer.byteLength(line)));
    assert.ok(longest <= 998, `a ${kind.action} report has a line of ${longest} octets`);
    assert.ok(!lines.some((line) => line.includes('\uFFFD')), 'cut at a character boundary');
    assert.match(dsn.head, /Diagnostic-Code: smtp; 550 5\.1\.1 é+\.\.\.\r\n/);
  }
});
