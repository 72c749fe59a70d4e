import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receivedHeader, rfc5322Date, safeToken } from '../../../relay/smtp/received.ts';

const facts = {
  heloName: 'client.example',
  clientAddress: '192.0.2.1',
  byHostname: 'relay.example.com',
  queueId: 'Q123',
  authenticated: false,
  receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
};

test('Received: names the client, the relay, the queue id and the date', () => {
  assert.equal(
    receivedHeader(facts),
    'Received: from client.example ([192.0.2.1])\r\n\tby relay.example.com (mailfleet) with ESMTP id Q123;\r\n\tFri, 02 Jan 2026 03:04:05 +0000\r\n',
  );
});

test('Received: carries TLS details and the protocol name (RFC 3848)', () => {
  const header = receivedHeader({
    ...facts,
    authenticated: true,
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  });
  assert.match(header, /with ESMTPSA id Q123\r\n\t\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384\);/);
});

const injections = [
  'evil\r\nBcc: victim@example.com',
  'evil\nX-Injected: 1',
  'evil\rX: 1',
  'a b (comment) ; date',
  'évil\u0000',
];

for (const helo of injections) {
  test(`case 17: HELO ${JSON.stringify(helo)} cannot inject a header or a line`, () => {
    const header = receivedHeader({ ...facts, heloName: helo, clientHostname: helo });
    const lines = header.split('\r\n');
    assert.equal(lines.at(-1), '');
    for (const line of lines.slice(1, -1)) assert.match(line, /^\t/, 'every continuation line is folded');
    assert.doesNotMatch(header.replaceAll('\r\n', ''), /[\r\n\0]/);
    assert.doesNotMatch(header, /\r\n(Bcc|X-Injected):/, 'no header starts on a new line');
  });
}

test('safeToken keeps hostnames and address literals, replaces the rest', () => {
  assert.equal(safeToken('mx-1.example.com'), 'mx-1.example.com');
  assert.equal(safeToken('[2001:db8::1]'), '[2001:db8::1]');
  assert.equal(safeToken('a;b c'), 'a_b_c');
});

test('rfc5322Date formats the second it is given, also right after a different second', () => {
  const at = Date.UTC(2026, 11, 2, 4, 5, 6, 789);
  assert.equal(rfc5322Date(at), 'Wed, 02 Dec 2026 04:05:06 +0000');
  assert.equal(rfc5322Date(at + 210), 'Wed, 02 Dec 2026 04:05:06 +0000');
  assert.equal(rfc5322Date(at + 211), 'Wed, 02 Dec 2026 04:05:07 +0000');
  assert.equal(rfc5322Date(at), 'Wed, 02 Dec 2026 04:05:06 +0000');
  assert.equal(rfc5322Date(0), 'Thu, 01 Jan 1970 00:00:00 +0000');
});
