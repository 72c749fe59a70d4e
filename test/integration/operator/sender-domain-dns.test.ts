// DNS verification of a SenderDomain against a real dnsmasq on loopback: a wrong record is named in
// DnsVerified and holds Ready back; once published, the next check (on the injected clock's
// interval, not before) verifies it; a record that disappears is reported as lost.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { senderDomainResource } from '../../../operator/api/kinds.ts';
import { coreResources } from '../../../operator/kube/resource.ts';
import { createOperatorMetrics, metricNames } from '../../../operator/metrics.ts';
import { txtLookup } from '../../../operator/reconcile/sender-domain-dns-lookup.ts';
import {
  dkimPublicKeyRecord,
  encodeSecretValue,
  generateDkimKey,
} from '../../../operator/render/sender-domain-dkim-keys.ts';
import { startDnsmasq, type Dnsmasq } from '../../support/dnsmasq.ts';
import { freeTcpPort } from '../../support/smtp-sink.ts';
import { eventually, privateNamespace } from '../operator-kube/support.ts';
import {
  admin,
  condition,
  create,
  eventsOf,
  readDomain,
  senderDomainManifest,
  startController,
  startOfTest,
  type Running,
} from './sender-domain-support.ts';

const pem = generateDkimKey('RSA2048');
const dkim = { name: 's1._domainkey.dns.test', text: dkimPublicKeyRecord(pem, 'RSA2048') };
const spf = { name: 'dns.test', text: 'v=spf1 ip4:192.0.2.0/24 -all' };
const dmarc = { name: '_dmarc.dns.test', text: 'v=DMARC1; p=reject; pct=100; adkim=s; aspf=s' };

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: Running;
let port: number;
let dns: Dnsmasq;
const metrics = createOperatorMetrics(() => []);

async function metric(name: string): Promise<string> {
  return metrics.registry.getSingleMetricAsString(name);
}

async function serve(txt: { name: string; text: string }[]): Promise<void> {
  await dns.stop();
  dns = await startDnsmasq({ txt }, { port });
}

before(async () => {
  namespace = await privateNamespace(admin, 'senderdomain-dns');
  port = await freeTcpPort();
  dns = await startDnsmasq({ txt: [dkim, spf, { ...dmarc, text: 'v=DMARC1; p=none' }] }, { port });
  running = await startController(namespace.name, txtLookup(`127.0.0.1:${port}`), metrics);
});
after(async () => {
  await running.stop();
  await dns.stop();
  await namespace.remove();
});

test('records are verified against dnsmasq on the interval, wrong and lost ones named', async () => {
  const ns = namespace.name;
  await create(coreResources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'dns-keys' },
    data: { 'rsa.pem': encodeSecretValue(pem) },
  });
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('dns', {
      domain: 'dns.test',
      dkim: { selector: 's1', algorithms: ['RSA2048'], privateKeySecretRef: { name: 'dns-keys' } },
      spf: { mechanisms: ['ip4:192.0.2.0/24'], all: 'Fail' },
      dmarc: { policy: 'Reject', alignment: 'Strict' },
      dnsVerification: { enabled: true, interval: '1m' },
    }),
  );
  const dnsVerified = async () => condition(await readDomain(ns, 'dns'), 'DnsVerified');
  await eventually('the first check', async () => (await dnsVerified())?.status === 'False');
  const first = await readDomain(ns, 'dns');
  assert.equal(condition(first, 'DnsVerified')?.reason, 'RecordsNotPublished');
  assert.equal(
    condition(first, 'DnsVerified')?.message,
    '1 of 3 records in status.dnsRecords not verified: DMARC TXT _dmarc.dns.test is "v=DMARC1; p=none", expected "v=DMARC1; p=reject; pct=100; adkim=s; aspf=s"',
  );
  assert.equal(condition(first, 'Ready')?.status, 'False');
  assert.equal(condition(first, 'Ready')?.reason, 'DnsNotVerified');
  const checkedAt = '2026-01-01T00:00:00Z';
  assert.deepEqual(
    first.status?.dnsRecords?.map((record) => [record.name, record.verified, record.lastChecked]),
    [
      ['s1._domainkey.dns.test', true, checkedAt],
      ['dns.test', true, checkedAt],
      ['_dmarc.dns.test', false, checkedAt],
    ],
  );
  await eventually('a Warning Event', async () =>
    (await eventsOf(ns, 'dns')).some(
      (event) => event.type === 'Warning' && event.reason === 'DnsNotVerified',
    ),
  );
  assert.match(await metric(metricNames.senderDomains), /\{dns="failing"\} 1\n/);

  // Fixed in DNS; not looked at again before the interval has passed.
  await serve([dkim, spf, dmarc]);
  await running.clock.advance(59_000);
  await sleep(1_000);
  assert.equal((await dnsVerified())?.status, 'False', 'no check before the interval');
  assert.equal((await readDomain(ns, 'dns')).status?.dnsRecords?.[0]?.lastChecked, checkedAt);
  await running.clock.advance(1_000);
  await eventually('verified on the next check', async () => (await dnsVerified())?.status === 'True');
  const verified = await readDomain(ns, 'dns');
  assert.equal(condition(verified, 'DnsVerified')?.reason, 'RecordsPublished');
  assert.equal(condition(verified, 'Ready')?.status, 'True');
  assert.ok(
    verified.status?.dnsRecords?.every(
      (record) => record.verified === true && record.lastChecked === '2026-01-01T00:01:00Z',
    ),
  );
  assert.ok(
    (await eventsOf(ns, 'dns')).some((event) => event.type === 'Normal' && event.reason === 'DnsVerified'),
  );

  // The DKIM record disappears.
  await serve([spf, dmarc]);
  await running.clock.advance(60_000);
  await eventually('lost', async () => (await dnsVerified())?.status === 'False');
  assert.match((await dnsVerified())?.message ?? '', /DKIM TXT s1\._domainkey\.dns\.test is not published/);
  assert.ok(
    (await eventsOf(ns, 'dns')).some(
      (event) => event.type === 'Warning' && event.reason === 'DnsRecordsLost',
    ),
  );
  await eventually('the metrics count one loss', async () =>
    (await metric(metricNames.dnsVerificationLost)).includes(`${metricNames.dnsVerificationLost} 1`),
  );
  assert.match(await metric(metricNames.senderDomains), /\{dns="failing"\} 1\n/);
  assert.match(await metric(metricNames.senderDomains), /\{dns="verified"\} 0\n/);
  assert.ok(running.clock.now() >= startOfTest + 120_000);
});
