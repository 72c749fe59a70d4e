import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, SenderDomain, SmtpRelay } from '../../../operator/api/types.generated.ts';
import { renderStatus } from '../../../kubectl-plugin/status.ts';

const at = '2026-01-01T00:00:00Z';
const condition = (type: string, status: Condition['status'], reason = 'R', message = 'm'): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
});

const relay = (conditions: Condition[]) =>
  ({
    metadata: { name: 'outbound', namespace: 'mail' },
    spec: { replicas: 2 },
    status: {
      readyReplicas: 1,
      conditions,
      senderDomains: [{ name: 'example-com', domain: 'example.com' }],
    },
  }) as unknown as SmtpRelay;

const domain = {
  metadata: { name: 'example-com', namespace: 'mail' },
  spec: { domain: 'example.com' },
  status: {
    relays: ['outbound'],
    conditions: [
      condition('Ready', 'False', 'DnsNotVerified', 'the DNS records are not published'),
      condition('DkimKeyReady', 'True'),
      condition(
        'DnsVerified',
        'False',
        'RecordsMissing',
        'DKIM TXT mf._domainkey.example.com is not published',
      ),
    ],
  },
} as unknown as SenderDomain;

const list = (pod: string, ages: number[]) => ({
  pod,
  code: 0,
  stderr: '',
  stdout: JSON.stringify({
    messages: ages.map((ageSeconds, index) => ({
      queueId: `Q${index}`,
      mailFrom: '',
      size: 1,
      ageSeconds,
      recipients: [
        { address: 'a@b', status: index === 0 ? 'deferred' : 'pending', attempts: 0, nextAttemptAt: at },
      ],
    })),
  }),
});

test('renderStatus: relays, per-pod queue depth, domains, and every condition that needs attention', () => {
  const text = renderStatus({
    relays: [
      {
        relay: relay([
          condition('Ready', 'False', 'PodsNotReady', '1 of 2 pods ready'),
          condition('Progressing', 'True', 'RollingOut', 'rolling out'),
          condition('Degraded', 'False'),
        ]),
        answers: [
          list('outbound-0', [400, 10]),
          { pod: 'outbound-1', code: 1, stdout: '', stderr: 'connection refused' },
        ],
      },
    ],
    domains: [domain],
    showNamespace: false,
  });
  assert.match(
    text,
    /^SMTP RELAYS\nNAME +READY +PODS +PROGRESSING +DEGRADED +DOMAINS\noutbound +False +1\/2 +True +False +example\.com\n/,
  );
  assert.match(
    text,
    /RELAY PODS\nRELAY +POD +QUEUED +DEFERRED +OLDEST\noutbound +outbound-0 +2 +1 +6m\noutbound +outbound-1 +\? +\? +\?\n/,
  );
  assert.match(
    text,
    /SENDER DOMAINS\nNAME +DOMAIN +READY +DKIM KEY +DNS VERIFIED +RELAYS\nexample-com +example\.com +False +True +False +outbound\n/,
  );
  const attention = text.slice(text.indexOf('NEEDS ATTENTION'));
  assert.equal(
    attention,
    'NEEDS ATTENTION\n' +
      '  SmtpRelay/outbound Ready=False PodsNotReady: 1 of 2 pods ready\n' +
      '  SenderDomain/example-com Ready=False DnsNotVerified: the DNS records are not published\n' +
      '  SenderDomain/example-com DnsVerified=False RecordsMissing: DKIM TXT mf._domainkey.example.com is not published\n' +
      '  pod outbound-1: queue not read: connection refused (exit status 1)\n',
  );
});

test('renderStatus: all namespaces adds the column; a healthy fleet says so; nothing found says none', () => {
  const text = renderStatus({
    relays: [
      {
        relay: relay([condition('Ready', 'True'), condition('Degraded', 'False')]),
        answers: [list('outbound-0', [])],
      },
    ],
    domains: [],
    showNamespace: true,
  });
  assert.match(text, /NAMESPACE +NAME +READY/);
  assert.match(text, /mail +outbound +outbound-0 +0 +0 +-\n/);
  assert.match(text, /SENDER DOMAINS: none\n/);
  assert.match(text, /Every condition is as it should be\.\n$/);
  assert.match(renderStatus({ relays: [], domains: [], showNamespace: false }), /^SMTP RELAYS: none\n/);
});
