// SmtpRelay conditions as a table: StatefulSet states × config, Secret and domain problems.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import type { SecretObject } from '../../../operator/render/sender-domain-binding.ts';
import { secretProblems } from '../../../operator/status/smtp-relay-secrets.ts';
import {
  maxListedSenderDomains,
  smtpRelayStatus,
  type SmtpRelayFindings,
  type StatefulSetObject,
} from '../../../operator/status/smtp-relay.ts';
import { domainExamples, exampleSecrets, relayExamples } from '../operator-render/fixtures.ts';

const production = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
assert.ok(production);
const relay = production;
const [firstDomain] = domainExamples;
assert.ok(firstDomain);

function statefulSet(status: NonNullable<StatefulSetObject['status']>, generation = 1): StatefulSetObject {
  return { metadata: { name: 'outbound', generation }, status };
}

const allReady = {
  observedGeneration: 1,
  replicas: 3,
  readyReplicas: 3,
  updatedReplicas: 3,
  currentRevision: 'r1',
  updateRevision: 'r1',
};

function findings(overrides: Partial<SmtpRelayFindings> = {}): SmtpRelayFindings {
  return {
    relay,
    statefulSet: statefulSet(allReady),
    configErrors: [],
    secretProblems: [],
    applyErrors: [],
    unsupported: [],
    domains: [],
    clusterDomain: 'cluster.local',
    ...overrides,
  };
}

function conditionsOf(status: ReturnType<typeof smtpRelayStatus>): Record<string, string> {
  return Object.fromEntries(
    (status.conditions ?? []).map((entry) => [entry.type, `${entry.status}/${entry.reason}`]),
  );
}

const table: readonly (readonly [
  name: string,
  overrides: Partial<SmtpRelayFindings>,
  expected: Record<string, string>,
])[] = [
  [
    'all replicas ready',
    {},
    { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected' },
  ],
  [
    'no StatefulSet yet',
    { statefulSet: undefined },
    { Ready: 'False/Creating', Progressing: 'True/Creating', Degraded: 'False/AsExpected' },
  ],
  [
    'StatefulSet spec not yet observed',
    { statefulSet: statefulSet(allReady, 2) },
    { Ready: 'False/RolloutPending', Progressing: 'True/RolloutPending', Degraded: 'False/AsExpected' },
  ],
  [
    'rolling update',
    { statefulSet: statefulSet({ ...allReady, updatedReplicas: 1, updateRevision: 'r2' }) },
    { Ready: 'False/RollingUpdate', Progressing: 'True/RollingUpdate', Degraded: 'False/AsExpected' },
  ],
  [
    'scaling up',
    { statefulSet: statefulSet({ ...allReady, replicas: 2, readyReplicas: 2 }) },
    { Ready: 'False/Scaling', Progressing: 'True/Scaling', Degraded: 'False/AsExpected' },
  ],
  [
    'pods not ready',
    { statefulSet: statefulSet({ ...allReady, readyReplicas: 0 }) },
    { Ready: 'False/Scaling', Progressing: 'True/Scaling', Degraded: 'False/AsExpected' },
  ],
  [
    'a missing Secret wins over a finished rollout',
    { secretProblems: [{ reason: 'SecretNotFound', message: 'Secret mail/x (the y) not found' }] },
    { Ready: 'False/SecretNotFound', Progressing: 'False/RolloutComplete', Degraded: 'True/SecretNotFound' },
  ],
  [
    'an invalid config wins over everything',
    {
      configErrors: ['relay: /hostname: must be a DNS hostname'],
      secretProblems: [{ reason: 'SecretKeyMissing', message: 'm' }],
    },
    { Ready: 'False/InvalidConfig', Progressing: 'False/RolloutComplete', Degraded: 'True/InvalidConfig' },
  ],
  [
    'an object that cannot be applied',
    { applyErrors: ['StatefulSet mail/outbound: spec.queue.size cannot change'] },
    { Ready: 'False/ApplyFailed', Progressing: 'False/RolloutComplete', Degraded: 'True/ApplyFailed' },
  ],
  [
    'unsupported settings degrade but do not make it unready',
    { unsupported: ['spec.delivery.bounces.enabled: false is not supported'] },
    {
      Ready: 'True/AllReplicasReady',
      Progressing: 'False/RolloutComplete',
      Degraded: 'True/UnsupportedSettings',
    },
  ],
  [
    'a bound domain without keys degrades',
    {
      domains: [
        {
          senderDomain: firstDomain,
          problem: 'Secret mail/example-com-dkim not found',
        },
      ],
    },
    {
      Ready: 'True/AllReplicasReady',
      Progressing: 'False/RolloutComplete',
      Degraded: 'True/SenderDomainKeysMissing',
    },
  ],
];

for (const [name, overrides, expected] of table) {
  test(`conditions: ${name}`, () => {
    assert.deepEqual(conditionsOf(smtpRelayStatus(findings(overrides))), expected);
  });
}

test('scaled to zero is not Ready, and says why', () => {
  const scaled = { ...relay, spec: { ...relay.spec, replicas: 0 } };
  const status = smtpRelayStatus(
    findings({
      relay: scaled,
      statefulSet: statefulSet({ ...allReady, replicas: 0, readyReplicas: 0, updatedReplicas: 0 }),
    }),
  );
  const ready = status.conditions?.find((entry) => entry.type === 'Ready');
  assert.ok(ready);
  assert.equal(ready.reason, 'ScaledToZero');
  assert.match(ready.message, /spec\.replicas is 0/);
});

test('scale subresource fields, endpoints and bound domains', () => {
  const [domain] = domainExamples;
  assert.ok(domain);
  const readyDomain: SenderDomain = {
    ...domain,
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'R',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
  const status = smtpRelayStatus(
    findings({
      statefulSet: statefulSet({ ...allReady, readyReplicas: 2 }),
      domains: [{ senderDomain: readyDomain }],
    }),
  );
  assert.equal(status['replicas'], 3);
  assert.equal(status['readyReplicas'], 2);
  assert.equal(
    status['selector'],
    'app.kubernetes.io/name=mailfleet-relay,app.kubernetes.io/instance=outbound',
  );
  assert.deepEqual(status['endpoints'], [
    {
      listener: 'smtp',
      host: 'outbound.mail.svc.cluster.local',
      port: 25,
      tls: 'StartTLS',
      auth: 'Optional',
    },
    {
      listener: 'submission',
      host: 'outbound.mail.svc.cluster.local',
      port: 587,
      tls: 'StartTLS',
      auth: 'Required',
    },
    {
      listener: 'submissions',
      host: 'outbound.mail.svc.cluster.local',
      port: 465,
      tls: 'Implicit',
      auth: 'Required',
    },
  ]);
  assert.deepEqual(status['senderDomains'], [
    { name: domain.metadata.name, domain: domain.spec.domain, ready: true },
  ]);
});

test('status.senderDomains: a domain of another namespace carries it; at most the CRD maxItems are listed', () => {
  const [domain] = domainExamples;
  assert.ok(domain);
  const foreign = { ...domain, metadata: { ...domain.metadata, namespace: 'team-a' } };
  const many = Array.from({ length: maxListedSenderDomains + 5 }, () => ({ senderDomain: foreign }));
  const listed = smtpRelayStatus(findings({ domains: many }))['senderDomains'] as unknown[];
  assert.equal(listed.length, maxListedSenderDomains, 'more would make the status write fail');
  assert.deepEqual(listed[0], {
    name: domain.metadata.name,
    namespace: 'team-a',
    domain: domain.spec.domain,
    ready: false,
  });
});

const base64 = (text: string) => Buffer.from(text).toString('base64');

test('Secret checks name the Secret, the key and the field (case 26)', () => {
  const secrets = exampleSecrets();
  const lookup = (changes: Record<string, SecretObject | undefined>) => (name: string) =>
    name in changes ? changes[name] : secrets.get(name);
  assert.deepEqual(secretProblems(relay, lookup({})), []);
  const cases: [string, Record<string, SecretObject | undefined>, string, RegExp][] = [
    [
      'TLS Secret not issued yet',
      { 'outbound-tls': undefined },
      'SecretNotFound',
      /^Secret mail\/outbound-tls \(the TLS certificate of spec\.tls\.issuerRef \(filled by cert-manager\)\) not found$/,
    ],
    [
      'users key missing',
      { 'outbound-smtp-users': { metadata: { name: 'outbound-smtp-users' }, data: { other: base64('x') } } },
      'SecretKeyMissing',
      /^Secret mail\/outbound-smtp-users has no key "users" \(spec\.auth\.usersSecretRef\.key, /,
    ],
    [
      'a private key that is not PEM',
      {
        'outbound-tls': {
          metadata: { name: 'outbound-tls' },
          data: {
            'tls.crt': secrets.get('outbound-tls')?.data?.['tls.crt'] ?? '',
            'tls.key': base64('hunter2'),
          },
        },
      },
      'SecretKeyInvalid',
      /^Secret mail\/outbound-tls key "tls\.key" \(tls\.key\) is not a PEM private key$/,
    ],
    [
      'a user name with a colon',
      {
        'outbound-smarthost': {
          metadata: { name: 'outbound-smarthost' },
          data: { username: base64('a:b'), password: base64('p') },
        },
      },
      'SecretKeyInvalid',
      /usernameKey\) holds a colon/,
    ],
    [
      'the credentials Secret missing',
      { 'outbound-smarthost': undefined },
      'SecretNotFound',
      /^Secret mail\/outbound-smarthost \(the smarthost credentials of spec\.delivery\.smarthost\.credentialsSecretRef\) not found$/,
    ],
  ];
  for (const [name, changes, reason, message] of cases) {
    const problems = secretProblems(relay, lookup(changes));
    const [problem, ...others] = problems;
    assert.ok(problem, name);
    assert.deepEqual(others, [], name);
    assert.equal(problem.reason, reason, name);
    assert.match(problem.message, message, name);
    assert.ok(!problem.message.includes('hunter2'), 'a value never appears in a message');
  }
});

test('a paused relay says so in Progressing, naming the annotation; Ready still follows the pods', () => {
  const paused = {
    ...relay,
    metadata: { ...relay.metadata, annotations: { 'mailfleet.dev/paused': 'true' } },
  };
  const status = smtpRelayStatus(findings({ relay: paused }));
  assert.deepEqual(conditionsOf(status), {
    Ready: 'True/AllReplicasReady',
    Progressing: 'False/Paused',
    Degraded: 'False/AsExpected',
  });
  assert.match(
    status.conditions?.find((entry) => entry.type === 'Progressing')?.message ?? '',
    /mailfleet\.dev\/paused=true/,
  );
  const notPaused = {
    ...relay,
    metadata: { ...relay.metadata, annotations: { 'mailfleet.dev/paused': 'false' } },
  };
  assert.equal(
    conditionsOf(smtpRelayStatus(findings({ relay: notPaused })))['Progressing'],
    'False/RolloutComplete',
  );
});
