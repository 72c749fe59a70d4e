// The SenderDomain DNS metrics: counts by state (never one series per domain) and a counter of
// verified → failing transitions, table-driven over sequences of reconcile reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createOperatorMetrics,
  metricNames,
  senderDomainDnsStateOf,
  type SenderDomainDnsState,
} from '../../../operator/metrics.ts';

type Step = readonly [key: string, state: SenderDomainDnsState | 'forget' | 'stop-leading'];

const cases: readonly {
  name: string;
  steps: readonly Step[];
  counts: Readonly<Record<SenderDomainDnsState, number>>;
  lost: number;
}[] = [
  { name: 'nothing reconciled', steps: [], counts: { verified: 0, failing: 0, unchecked: 0 }, lost: 0 },
  {
    name: 'a domain checked for the first time and failing is not a loss',
    steps: [
      ['mail/a', 'unchecked'],
      ['mail/a', 'failing'],
      ['mail/b', 'verified'],
    ],
    counts: { verified: 1, failing: 1, unchecked: 0 },
    lost: 0,
  },
  {
    name: 'verified then failing counts once, however often it is reconciled failing',
    steps: [
      ['mail/a', 'verified'],
      ['mail/a', 'failing'],
      ['mail/a', 'failing'],
      ['mail/a', 'verified'],
      ['mail/a', 'failing'],
    ],
    counts: { verified: 0, failing: 1, unchecked: 0 },
    lost: 2,
  },
  {
    name: 'a forgotten domain leaves the counts',
    steps: [
      ['mail/a', 'verified'],
      ['mail/b', 'unchecked'],
      ['mail/a', 'forget'],
    ],
    counts: { verified: 0, failing: 0, unchecked: 1 },
    lost: 0,
  },
  {
    name: 'a replica that stops leading reports no domain',
    steps: [
      ['mail/a', 'failing'],
      ['mail/b', 'verified'],
      ['', 'stop-leading'],
    ],
    counts: { verified: 0, failing: 0, unchecked: 0 },
    lost: 0,
  },
];

function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} missing from:\n${text}`);
  return Number(line.slice(series.length + 1));
}

for (const { name, steps, counts, lost } of cases) {
  test(`SenderDomain DNS metrics: ${name}`, async () => {
    const metrics = createOperatorMetrics(() => []);
    for (const [key, state] of steps) {
      if (state === 'forget') metrics.forgetSenderDomain(key);
      else if (state === 'stop-leading') metrics.setLeader(false);
      else metrics.senderDomainDns(key, state);
    }
    const text = await metrics.registry.metrics();
    for (const [dns, count] of Object.entries(counts)) {
      assert.equal(sample(text, `${metricNames.senderDomains}{dns="${dns}"}`), count, dns);
    }
    assert.equal(sample(text, metricNames.dnsVerificationLost), lost);
  });
}

test('a DnsVerified condition status maps to the reported state', () => {
  assert.deepEqual(
    (['True', 'False', 'Unknown'] as const).map((status) => senderDomainDnsStateOf(status)),
    ['verified', 'failing', 'unchecked'],
  );
});

test('deletion and scaled-away queue gauges: sums and counts by state over relays, no series per relay', async () => {
  const metrics = createOperatorMetrics(() => []);
  const read = async () =>
    (await metrics.registry.getMetricsAsJSON()).filter(
      (m) => m.name.includes('delet') || m.name.includes('scaled_down'),
    );
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await read())
      .find((m) => m.name === name)
      ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  metrics.relayDeletion('mail/a', 4);
  metrics.relayDeletion('mail/b', 3);
  metrics.scaledDownQueues('mail/a', ['draining', 'failed']);
  metrics.scaledDownQueues('mail/c', ['failed']);
  assert.equal(await value(metricNames.relaysDeleting), 2);
  assert.equal(await value(metricNames.deletionHeldMessages), 7);
  assert.equal(await value(metricNames.scaledDownQueues, { state: 'failed' }), 2);
  assert.equal(await value(metricNames.scaledDownQueues, { state: 'draining' }), 1);
  assert.equal(await value(metricNames.scaledDownQueues, { state: 'waiting' }), 0);
  metrics.relayDeletion('mail/a', undefined);
  metrics.scaledDownQueues('mail/c', []);
  assert.equal(await value(metricNames.relaysDeleting), 1);
  assert.equal(await value(metricNames.deletionHeldMessages), 3);
  assert.equal(await value(metricNames.scaledDownQueues, { state: 'failed' }), 1);
  metrics.setLeader(false);
  assert.equal(await value(metricNames.relaysDeleting), 0, 'a standby reports nothing');
});

test('unverified records: one series per record not found, named; gone once found, forgotten or not leading', async () => {
  const metrics = createOperatorMetrics(() => []);
  const series = async () =>
    (await metrics.registry.getSingleMetric(metricNames.unverifiedRecords)?.get())?.values.map(
      ({ labels, value }) => [labels['sender_domain'], labels['purpose'], labels['record'], value],
    );
  metrics.senderDomainDns('mail/a', 'failing', [
    { purpose: 'DKIM', name: 'mf-2._domainkey.a.example' },
    { purpose: 'DMARC', name: '_dmarc.a.example' },
  ]);
  metrics.senderDomainDns('mail/b', 'verified', []);
  assert.deepEqual(await series(), [
    ['mail/a', 'DKIM', 'mf-2._domainkey.a.example', 1],
    ['mail/a', 'DMARC', '_dmarc.a.example', 1],
  ]);
  metrics.senderDomainDns('mail/a', 'failing', [{ purpose: 'DMARC', name: '_dmarc.a.example' }]);
  assert.deepEqual(await series(), [['mail/a', 'DMARC', '_dmarc.a.example', 1]]);
  metrics.forgetSenderDomain('mail/a');
  assert.deepEqual(await series(), []);
  metrics.senderDomainDns('mail/c', 'failing', [{ purpose: 'SPF', name: 'c.example' }]);
  metrics.setLeader(false);
  assert.deepEqual(await series(), []);
});
