// What the apiserver adds and serves: the documented schema defaults (the same ones withDefaults()
// applies in code), the safe defaults spelt out, the /scale subresource on spec.replicas and
// status.replicas/selector, and status written only through /status.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { apiKinds } from '../../../operator/api/kinds.ts';
import {
  apply,
  dryRunCreate,
  examplesDir,
  parsed,
  readExample,
  request,
  resourcePath,
  temporaryNamespace,
  type Json,
} from './support.ts';

let namespace: Awaited<ReturnType<typeof temporaryNamespace>>;
before(async () => {
  namespace = await temporaryNamespace('api-defaults');
});
after(async () => {
  await namespace.remove();
});

async function servedSpec(object: Json): Promise<Json> {
  const response = await dryRunCreate(namespace.name, object);
  assert.equal(response.status, 201, response.body);
  return (parsed(response) as Json)['spec'] as Json;
}

function valueAt(object: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, segment) => (node as Record<string, unknown> | undefined)?.[segment], object);
}

const exampleFiles = (await readdir(examplesDir)).filter((file) => file.endsWith('.yaml')).sort();

for (const file of exampleFiles) {
  test(`${file}: the server applies exactly the schema defaults withDefaults() applies`, async () => {
    const example = await readExample(file);
    const kind = apiKinds.find((candidate) => candidate.kind === example['kind']);
    assert.ok(kind, `${file}: unknown kind ${String(example['kind'])}`);
    assert.deepEqual(await servedSpec(example), withDefaults(kind.spec, example['spec']));
  });
}

const submissionOnly: Json = {
  apiVersion: 'mailfleet.dev/v1alpha1',
  kind: 'SmtpRelay',
  metadata: { name: 'submission-only' },
  spec: {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'relay-tls' } },
    auth: { usersSecretRef: { name: 'relay-users' } },
  },
};

const documentedRelayDefaults: readonly (readonly [path: string, expected: unknown])[] = [
  ['replicas', 2],
  ['listeners.0.tls', 'StartTLS'],
  ['listeners.0.auth', 'Required'],
  ['listeners.0.proxyProtocol', false],
  ['clientNetworks', undefined],
  ['trustedProxies', undefined],
  ['service.type', 'ClusterIP'],
  ['service.externalTrafficPolicy', undefined],
  ['tls.secretRef.certificateKey', 'tls.crt'],
  ['tls.secretRef.privateKeyKey', 'tls.key'],
  ['tls.minVersion', 'TLSv1.2'],
  ['auth.usersSecretRef.key', 'users'],
  ['auth.maxFailuresPerConnection', 3],
  ['delivery.mode', 'Direct'],
  ['delivery.direct.mtaSts', 'Enforce'],
  ['delivery.direct.allowPrivateDestinations', false],
  ['delivery.retrySchedule', ['5m', '10m', '30m', '1h', '2h', '4h']],
  ['delivery.maxQueueLifetime', '120h'],
  ['delivery.bounces.enabled', true],
  ['limits.messageSize', '25Mi'],
  ['limits.recipientsPerMessage', 1000],
  ['limits.connectionsPerClient', 20],
  ['queue.storage', 'Persistent'],
  ['queue.size', '1Gi'],
  ['queue.drainTimeout', '5m'],
  ['pod.resources.requests', { cpu: '100m', memory: '128Mi' }],
  ['monitoring.serviceMonitor.enabled', false],
];

for (const [path, expected] of documentedRelayDefaults) {
  test(`SmtpRelay default: spec.${path} is ${expected === undefined ? 'absent' : JSON.stringify(expected)}`, async () => {
    assert.deepEqual(valueAt(await servedSpec(submissionOnly), path), expected);
  });
}

test('SenderDomain defaults: one RSA key, no rotation, DMARC none, DNS checked hourly', async () => {
  const spec = await servedSpec({
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name: 'plain' },
    spec: { domain: 'plain.example' },
  });
  assert.deepEqual(spec['dkim'], { enabled: true, selector: 'mailfleet', algorithms: ['RSA2048'] });
  assert.equal(valueAt(spec, 'dmarc.policy'), 'None');
  assert.equal(valueAt(spec, 'spf.all'), 'SoftFail');
  assert.deepEqual(spec['dnsVerification'], { enabled: true, interval: '1h' });
  assert.equal(spec['authorizedUsers'], undefined);
});

test('/scale reads and writes spec.replicas and reports status.replicas and the selector', async () => {
  const name = 'scaled';
  const created = await apply(namespace.name, { ...submissionOnly, metadata: { name } });
  assert.ok(created.status < 300, created.body);
  const scalePath = resourcePath(namespace.name, 'smtprelays', name, 'scale');

  const initial = parsed(await request('GET', scalePath)) as Json;
  assert.equal(initial['kind'], 'Scale');
  assert.deepEqual(initial['spec'], { replicas: 2 });

  const selector = 'app.kubernetes.io/name=mailfleet-relay,app.kubernetes.io/instance=scaled';
  const status = await request(
    'PATCH',
    resourcePath(namespace.name, 'smtprelays', name, 'status'),
    { status: { replicas: 2, readyReplicas: 1, selector } },
    'application/merge-patch+json',
  );
  assert.equal(status.status, 200, status.body);
  const observed = parsed(await request('GET', scalePath)) as Json;
  assert.deepEqual(observed['status'], { replicas: 2, selector });

  const scaled = await request('PATCH', scalePath, { spec: { replicas: 5 } }, 'application/merge-patch+json');
  assert.equal(scaled.status, 200, scaled.body);
  const relay = parsed(await request('GET', resourcePath(namespace.name, 'smtprelays', name))) as Json;
  assert.equal(valueAt(relay, 'spec.replicas'), 5);

  const negative = await request(
    'PATCH',
    scalePath,
    { spec: { replicas: -1 } },
    'application/merge-patch+json',
  );
  assert.equal(negative.status, 422, negative.body);
  assert.match(negative.body, /replicas/);
});

test('status is written through /status only, and spec changes there are ignored', async () => {
  const name = 'status-split';
  const created = await apply(namespace.name, { ...submissionOnly, metadata: { name } });
  assert.ok(created.status < 300, created.body);
  const path = resourcePath(namespace.name, 'smtprelays', name);
  const condition = {
    type: 'Ready',
    status: 'False',
    reason: 'SecretMissing',
    message: 'Secret relay-tls has no key tls.crt',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  };
  const viaMain = await request(
    'PATCH',
    path,
    { status: { conditions: [condition] } },
    'application/merge-patch+json',
  );
  assert.equal(viaMain.status, 200, viaMain.body);
  assert.equal((parsed(viaMain) as Json)['status'], undefined);

  const viaStatus = await request(
    'PATCH',
    `${path}/status`,
    { spec: { replicas: 9 }, status: { conditions: [condition], observedGeneration: 1 } },
    'application/merge-patch+json',
  );
  assert.equal(viaStatus.status, 200, viaStatus.body);
  const stored = parsed(await request('GET', path)) as Json;
  assert.equal(valueAt(stored, 'spec.replicas'), 2);
  assert.deepEqual(valueAt(stored, 'status.conditions'), [condition]);

  const invalid = await request(
    'PATCH',
    `${path}/status`,
    { status: { conditions: [{ ...condition, status: 'Maybe' }] } },
    'application/merge-patch+json',
  );
  assert.equal(invalid.status, 422, invalid.body);
  assert.match(invalid.body, /status\.conditions\[0\]\.status/);
});
