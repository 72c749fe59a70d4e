// Publishing through external-dns, the pure parts: the DNSEndpoint (TXT strings of at most 255
// octets, escaped), and what the status says during an automatic rotation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDnsEndpoint, txtTarget } from '../../../operator/render/sender-domain-dns-endpoint.ts';
import { dkimPublicKeyRecord } from '../../../operator/render/sender-domain-dkim-keys.ts';
import type { WantedRecord } from '../../../operator/render/sender-domain-dns.ts';
import { checkDnsRecords } from '../../../operator/status/sender-domain-dns-check.ts';
import {
  conditionEvents,
  dkimChangeEvents,
  senderDomainStatus,
  type KeysOutcome,
  type PublishingOutcome,
} from '../../../operator/status/sender-domain.ts';
import { KeyPool, senderDomain } from './fixtures.ts';

/** The strings of a zone-file TXT target, unescaped (what a DNS server stores). */
function strings(target: string): string[] {
  return [...target.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) =>
    (match[1] ?? '').replace(/\\(.)/g, '$1'),
  );
}

test('TXT targets: quoted strings of at most 255 octets that join back to the value', () => {
  const rsa = dkimPublicKeyRecord(new KeyPool().generate('RSA2048'), 'RSA2048');
  const cases: [string, number][] = [
    ['v=spf1 ip4:192.0.2.0/24 -all', 1],
    ['', 1],
    ['x'.repeat(255), 1],
    ['x'.repeat(256), 2],
    [rsa, 2],
    ['say "hi" \\ bye', 1],
    ['é'.repeat(200), 2],
  ];
  for (const [value, count] of cases) {
    const target = txtTarget(value);
    const parts = strings(target);
    assert.equal(parts.length, count, value.slice(0, 20));
    assert.equal(parts.join(''), value);
    assert.ok(parts.every((part) => Buffer.byteLength(part) <= 255));
  }
  assert.equal(txtTarget('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  assert.equal(txtTarget('x'.repeat(256)), `"${'x'.repeat(255)}" "x"`);
});

test('the DNSEndpoint holds exactly the records, owned by the SenderDomain', () => {
  const domain = senderDomain();
  const records: WantedRecord[] = [
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-1._domainkey.example.com',
      value: 'v=DKIM1; k=ed25519; p=AAAA',
    },
    { purpose: 'SPF', type: 'TXT', name: 'example.com', value: 'v=spf1 -all' },
    { purpose: 'DMARC', type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=none' },
  ];
  assert.deepEqual(renderDnsEndpoint(domain, records), {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: {
      name: 'example-dns',
      namespace: 'mail',
      labels: { 'app.kubernetes.io/managed-by': 'mailfleet-operator' },
      ownerReferences: [
        {
          apiVersion: 'mailfleet.dev/v1alpha1',
          kind: 'SenderDomain',
          name: 'example',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      endpoints: [
        {
          dnsName: 'mf-1._domainkey.example.com',
          recordType: 'TXT',
          targets: ['"v=DKIM1; k=ed25519; p=AAAA"'],
        },
        { dnsName: 'example.com', recordType: 'TXT', targets: ['"v=spf1 -all"'] },
        { dnsName: '_dmarc.example.com', recordType: 'TXT', targets: ['"v=DMARC1; p=none"'] },
      ],
    },
  });
  assert.deepEqual(renderDnsEndpoint(domain, []).spec.endpoints, []);
});

test('an automatic rotation: reasons, a pending next key holding Ready not back, DnsPublished, Events', () => {
  const domain = senderDomain({ dkim: { selector: 'mf', rotation: { interval: '24h', overlap: '1h' } } });
  const pool = new KeyPool();
  const [active, next] = [pool.generate('RSA2048'), pool.generate('RSA2048')];
  const records: WantedRecord[] = [
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-1._domainkey.example.com',
      value: dkimPublicKeyRecord(active, 'RSA2048'),
    },
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-2._domainkey.example.com',
      value: dkimPublicKeyRecord(next, 'RSA2048'),
    },
  ];
  const now = Date.parse('2026-01-01T00:00:00Z');
  const manualKeys: KeysOutcome = {
    kind: 'ready',
    source: 'generated',
    secretName: 'example-dkim',
    published: [
      { selector: 'mf-1', role: 'active', keys: [{ algorithm: 'RSA2048', privateKeyPem: active }] },
      { selector: 'mf-2', role: 'next', keys: [{ algorithm: 'RSA2048', privateKeyPem: next }] },
    ],
    dkim: { activeSelector: 'mf-1', nextSelector: 'mf-2', nextRotation: '2026-01-02T00:00:00Z' },
  };
  const keys: KeysOutcome = { ...manualKeys, phase: 'awaitingDns' };
  const onlyActive = checkDnsRecords(
    records,
    new Map([
      ['mf-1._domainkey.example.com', { records: [[records[0]?.value ?? '']] }],
      ['mf-2._domainkey.example.com', { error: 'ENOTFOUND' }],
    ]),
    now,
  );
  const publishing: PublishingOutcome = { kind: 'published', endpoint: 'example-dns', records: 2 };
  const status = senderDomainStatus({
    domain,
    keys,
    wanted: records,
    dns: { kind: 'checked', check: onlyActive },
    bindings: [],
    publishing,
  });
  const byType = (of: typeof status) => (type: string) => of.conditions?.find((entry) => entry.type === type);
  const auto = byType(status);
  assert.equal(auto('DkimKeyReady')?.reason, 'NextKeyAwaitingDns');
  assert.equal(auto('DnsVerified')?.status, 'False');
  assert.equal(auto('DnsVerified')?.reason, 'NextKeyNotYetVisible');
  assert.match(
    auto('DnsVerified')?.message ?? '',
    /DKIM TXT mf-2\._domainkey\.example\.com is not published/,
  );
  assert.equal(auto('Ready')?.status, 'True');
  assert.deepEqual(
    [auto('DnsPublished')?.status, auto('DnsPublished')?.reason],
    ['True', 'DnsEndpointApplied'],
  );
  // The waits are Events once; a pending next key is not a lost record.
  const events = conditionEvents(undefined, status).map((event) => `${event.type} ${event.reason}`);
  assert.deepEqual(events, ['Normal NextKeyAwaitingDns']);
  assert.deepEqual(
    conditionEvents(
      { conditions: (status.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: '' })) },
      status,
    ),
    [],
  );

  // The same check without publishing (the manual path): the missing record holds Ready back.
  const manual = senderDomainStatus({
    domain,
    keys: manualKeys,
    wanted: records,
    dns: { kind: 'checked', check: onlyActive },
    bindings: [],
  });
  const manualTypes = byType(manual);
  assert.equal(manualTypes('DnsVerified')?.reason, 'RecordsNotPublished');
  assert.equal(manualTypes('Ready')?.status, 'False');
  assert.equal(manualTypes('DnsPublished'), undefined);

  // The active selector missing is no rotation wait: Ready is False.
  const activeMissing = checkDnsRecords(records, new Map(), now);
  const broken = senderDomainStatus({
    domain,
    keys,
    wanted: records,
    dns: { kind: 'checked', check: activeMissing },
    bindings: [],
    publishing,
  });
  assert.equal(broken.conditions?.find((entry) => entry.type === 'Ready')?.status, 'False');

  // The CRD missing: DnsPublished False with a Warning.
  const notServed: PublishingOutcome = {
    kind: 'failed',
    reason: 'DnsEndpointNotServed',
    message: 'spec.dnsPublishing.provider is ExternalDNS but …',
  };
  const missing = senderDomainStatus({
    domain,
    keys,
    wanted: records,
    dns: { kind: 'disabled' },
    bindings: [],
    publishing: notServed,
  });
  const published = missing.conditions?.find((entry) => entry.type === 'DnsPublished');
  assert.deepEqual([published?.status, published?.reason], ['False', 'DnsEndpointNotServed']);
  assert.ok(
    conditionEvents(undefined, missing).some(
      (event) => event.type === 'Warning' && event.reason === 'DnsEndpointNotServed',
    ),
  );

  // The Secret's changes name the DNSEndpoint instead of asking a human to edit DNS.
  const changes = dkimChangeEvents(
    domain,
    'example-dkim',
    [
      { kind: 'generated', selector: 'mf-2', algorithms: ['RSA2048'], signsFromMs: now },
      { kind: 'rotated', from: 'mf-1', to: 'mf-2', retiresAtMs: now },
      { kind: 'retired', selector: 'mf-1' },
    ],
    'example-dns',
  ).map((event) => event.message);
  assert.deepEqual(changes, [
    'generated RSA2048 DKIM key of selector mf-2 in Secret mail/example-dkim; mf-2._domainkey.example.com is published through DNSEndpoint mail/example-dns; it signs once DNS verification sees it, not before 2026-01-01T00:00:00Z',
    'selector mf-2 signs now instead of mf-1; mf-1._domainkey.example.com stays in DNSEndpoint mail/example-dns until 2026-01-01T00:00:00Z',
    'selector mf-1 is retired, its keys removed from Secret mail/example-dkim and mf-1._domainkey.example.com withdrawn from DNSEndpoint mail/example-dns',
  ]);
});
