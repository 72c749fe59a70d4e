import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  RelayBinding,
  SenderDomain,
  SenderDomainStatus,
} from '../../../operator/api/types.generated.ts';
import type { WantedRecord } from '../../../operator/render/sender-domain-dns.ts';
import { checkDnsRecords } from '../../../operator/status/sender-domain-dns-check.ts';
import {
  conditionEvents,
  dkimChangeEvents,
  dnsCheckDue,
  senderDomainStatus,
  type KeysOutcome,
} from '../../../operator/status/sender-domain.ts';
import { senderDomain } from './fixtures.ts';

const spf: WantedRecord = { purpose: 'SPF', type: 'TXT', name: 'example.com', value: 'v=spf1 ~all' };
const ready: KeysOutcome = {
  kind: 'ready',
  source: 'generated',
  secretName: 'example-dkim',
  published: [],
  dkim: { activeSelector: 'mf-1', nextSelector: 'mf-2', nextRotation: '2026-03-01T00:00:00Z' },
};
const now = Date.parse('2026-12-01T12:00:00Z');

function accepted(namespace: string, name: string): RelayBinding {
  return { namespace, name, accepted: true, reason: 'Accepted', message: 'sends for the domain' };
}

function conditions(status: ReturnType<typeof senderDomainStatus>) {
  return Object.fromEntries(
    (status.conditions ?? []).map((condition) => [condition.type, [condition.status, condition.reason]]),
  );
}

test('Ready needs the keys and, when verification is on, the DNS records', () => {
  const verifying = senderDomain();
  const published = checkDnsRecords([spf], new Map([['example.com', { records: [['v=spf1 ~all']] }]]), now);
  const missing = checkDnsRecords([spf], new Map([['example.com', { error: 'ENOTFOUND' }]]), now);
  const failed: KeysOutcome = {
    kind: 'failed',
    reason: 'SecretNotFound',
    message: 'Secret mail/own not found',
  };
  const cases: {
    name: string;
    domain: SenderDomain;
    keys: KeysOutcome;
    check: typeof published | undefined;
    expected: object;
  }[] = [
    {
      name: 'all good',
      domain: verifying,
      keys: ready,
      check: published,
      expected: {
        DkimKeyReady: ['True', 'KeysGenerated'],
        DnsVerified: ['True', 'RecordsPublished'],
        Ready: ['True', 'Ready'],
      },
    },
    {
      name: 'records missing',
      domain: verifying,
      keys: ready,
      check: missing,
      expected: {
        DkimKeyReady: ['True', 'KeysGenerated'],
        DnsVerified: ['False', 'RecordsNotPublished'],
        Ready: ['False', 'DnsNotVerified'],
      },
    },
    {
      name: 'keys missing',
      domain: verifying,
      keys: failed,
      check: published,
      expected: {
        DkimKeyReady: ['False', 'SecretNotFound'],
        DnsVerified: ['True', 'RecordsPublished'],
        Ready: ['False', 'DkimKeyNotReady'],
      },
    },
    {
      name: 'verification off: DNS does not hold Ready back',
      domain: senderDomain({ dnsVerification: { enabled: false, interval: '1h' } }),
      keys: ready,
      check: undefined,
      expected: {
        DkimKeyReady: ['True', 'KeysGenerated'],
        DnsVerified: ['Unknown', 'VerificationDisabled'],
        Ready: ['True', 'Ready'],
      },
    },
    {
      name: 'DKIM off',
      domain: senderDomain({ dnsVerification: { enabled: false, interval: '1h' } }),
      keys: { kind: 'disabled' },
      check: undefined,
      expected: {
        DkimKeyReady: ['True', 'DkimDisabled'],
        DnsVerified: ['Unknown', 'VerificationDisabled'],
        Ready: ['True', 'Ready'],
      },
    },
  ];
  for (const { name, domain, keys, check, expected } of cases) {
    const status = senderDomainStatus({
      domain,
      keys,
      wanted: [spf],
      dns: check === undefined ? { kind: 'disabled' } : { kind: 'checked', check },
      bindings: [accepted('mail', 'outbound')],
    });
    assert.deepEqual(conditions(status), expected, name);
  }
  const full = senderDomainStatus({
    domain: verifying,
    keys: ready,
    wanted: [spf],
    dns: { kind: 'checked', check: missing },
    bindings: [accepted('mail', 'a'), accepted('mail', 'b')],
  });
  assert.deepEqual(full['dkim'], ready.dkim);
  assert.deepEqual(full['relays'], ['a', 'b']);
  assert.deepEqual(full['dnsRecords'], [{ ...spf, verified: false, lastChecked: '2026-12-01T12:00:00Z' }]);
  const readyCondition = full.conditions?.find((condition) => condition.type === 'Ready');
  assert.equal(
    readyCondition?.message,
    '1 of 1 records in status.dnsRecords not verified: SPF TXT example.com is not published',
  );
  const keysCondition = full.conditions?.find((condition) => condition.type === 'DkimKeyReady');
  assert.equal(
    keysCondition?.message,
    'Secret mail/example-dkim holds the generated RSA2048 keys; selector mf-1 signs; mf-2 is published and signs from 2026-03-01T00:00:00Z',
  );
});

test('a DNS check is due when never made, records or spec changed, or the interval passed', () => {
  const checked = '2026-12-01T12:00:00Z';
  const status: SenderDomainStatus = {
    observedGeneration: 1,
    dnsRecords: [{ ...spf, verified: true, lastChecked: checked }],
    conditions: [
      {
        type: 'DnsVerified',
        status: 'True',
        reason: 'RecordsPublished',
        message: 'ok',
        lastTransitionTime: checked,
      },
    ],
  };
  const withStatus = (value: SenderDomainStatus | undefined, generation = 1): SenderDomain => ({
    ...senderDomain(),
    metadata: { name: 'example', namespace: 'mail', generation },
    ...(value === undefined ? {} : { status: value }),
  });
  const hour = 3_600_000;
  assert.equal(dnsCheckDue(withStatus(undefined), [spf], now, hour).due, true, 'never checked');
  const current = dnsCheckDue(withStatus(status), [spf], now + hour - 1, hour);
  assert.ok(!current.due);
  assert.equal(current.nextMs, now + hour);
  assert.equal(dnsCheckDue(withStatus(status), [spf], now + hour, hour).due, true, 'interval passed');
  assert.equal(dnsCheckDue(withStatus(status, 2), [spf], now, hour).due, true, 'spec changed');
  assert.equal(
    dnsCheckDue(withStatus(status), [{ ...spf, value: 'v=spf1 -all' }], now, hour).due,
    true,
    'record changed',
  );
});

test('Events: a key problem once per message, DNS verified / not verified / lost on transitions, DKIM changes', () => {
  const keysFalse = (message: string): SenderDomainStatus => ({
    conditions: [
      { type: 'DkimKeyReady', status: 'False', reason: 'SecretNotFound', message, lastTransitionTime: 'x' },
    ],
  });
  const next = (message: string) => ({
    conditions: [{ type: 'DkimKeyReady', status: 'False' as const, reason: 'SecretNotFound', message }],
  });
  assert.deepEqual(conditionEvents(undefined, next('gone')), [
    { type: 'Warning', reason: 'SecretNotFound', message: 'gone' },
  ]);
  assert.deepEqual(conditionEvents(keysFalse('gone'), next('gone')), []);
  assert.equal(conditionEvents(keysFalse('gone'), next('other')).length, 1);

  const dns = (status: 'True' | 'False') => ({
    conditions: [
      {
        type: 'DnsVerified',
        status,
        reason: status === 'True' ? 'RecordsPublished' : 'RecordsNotPublished',
        message: 'm',
      },
    ],
  });
  const asRead = (status: 'True' | 'False'): SenderDomainStatus => ({
    conditions: dns(status).conditions.map((condition) => ({ ...condition, lastTransitionTime: 'x' })),
  });
  assert.deepEqual(
    conditionEvents(undefined, dns('False')).map((event) => event.reason),
    ['DnsNotVerified'],
  );
  assert.deepEqual(
    conditionEvents(asRead('False'), dns('True')).map((event) => event.reason),
    ['DnsVerified'],
  );
  assert.deepEqual(
    conditionEvents(asRead('True'), dns('False')).map((event) => event.reason),
    ['DnsRecordsLost'],
  );
  assert.deepEqual(conditionEvents(asRead('True'), dns('True')), []);

  const events = dkimChangeEvents(senderDomain(), 'example-dkim', [
    { kind: 'generated', selector: 'mf-2', algorithms: ['RSA2048', 'Ed25519'], signsFromMs: now },
    { kind: 'rotated', from: 'mf-1', to: 'mf-2', retiresAtMs: now },
    { kind: 'retired', selector: 'mf-1' },
  ]);
  assert.deepEqual(events, [
    {
      type: 'Normal',
      reason: 'DkimKeyGenerated',
      message:
        'generated RSA2048 and Ed25519 DKIM keys of selector mf-2 in Secret mail/example-dkim; publish mf-2._domainkey.example.com from status.dnsRecords before 2026-12-01T12:00:00Z, when it starts signing',
    },
    {
      type: 'Normal',
      reason: 'DkimKeyRotated',
      message:
        'selector mf-2 signs now instead of mf-1; keep mf-1._domainkey.example.com published until 2026-12-01T12:00:00Z',
    },
    {
      type: 'Normal',
      reason: 'DkimKeyRetired',
      message:
        'selector mf-1 is retired and its keys removed from Secret mail/example-dkim; remove mf-1._domainkey.example.com from DNS',
    },
  ]);
});
