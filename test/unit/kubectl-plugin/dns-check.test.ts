import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnsRecord } from '../../../operator/api/types.generated.ts';
import { renderDnsCheck } from '../../../kubectl-plugin/dns-check.ts';

const records: DnsRecord[] = [
  { purpose: 'DKIM', type: 'TXT', name: 'mf._domainkey.example.com', value: 'v=DKIM1; k=ed25519; p=AAAA' },
  { purpose: 'SPF', type: 'TXT', name: 'example.com', value: 'v=spf1 ip4:192.0.2.1 -all' },
  { purpose: 'DMARC', type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=none' },
];

test('renderDnsCheck: published, different, missing and failed lookups, as the operator compares them', () => {
  const outcome = renderDnsCheck(
    records,
    new Map([
      ['mf._domainkey.example.com', { records: [['v=DKIM1;k=ed25519;', ' p=AAAA']] }],
      ['example.com', { records: [['v=spf1 -all']] }],
      ['_dmarc.example.com', { error: 'ENOTFOUND' }],
    ]),
    0,
  );
  assert.match(outcome.out, /^PURPOSE +TYPE +NAME +RESULT\n/);
  assert.match(outcome.out, /DKIM +TXT +mf\._domainkey\.example\.com +published\n/);
  assert.match(outcome.out, /SPF +TXT +example\.com +DIFFERENT\n/);
  assert.match(outcome.out, /DMARC +TXT +_dmarc\.example\.com +MISSING\n/);
  assert.equal(
    outcome.err,
    'Not every record is published:\n' +
      '  SPF TXT example.com is "v=spf1 -all", expected "v=spf1 ip4:192.0.2.1 -all"\n' +
      '  DMARC TXT _dmarc.example.com is not published\n',
  );
  assert.equal(outcome.exitCode, 1);
  const failed = renderDnsCheck(
    records.slice(0, 1),
    new Map([['mf._domainkey.example.com', { error: 'ETIMEOUT' }]]),
    0,
  );
  assert.match(failed.out, /LOOKUP FAILED/);
});

test('renderDnsCheck: exit status 0 when every record is published', () => {
  const outcome = renderDnsCheck(
    records,
    new Map(records.map((record) => [record.name, { records: [[record.value]] }])),
    0,
  );
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.err, '');
});
