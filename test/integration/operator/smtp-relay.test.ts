// The SmtpRelay reconciler against a real kube-apiserver (with kube-controller-manager, no kubelet):
// the examples become exactly the expected objects, owned by the relay; changes apply in place;
// nothing is written when nothing changed; a missing Secret gives Ready=False naming it and a
// Warning Event, and its creation recovers; a deleted SenderDomain re-renders the config; Ready
// follows the StatefulSet's status.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import { appliedHashAnnotation } from '../../../operator/kube/apply.ts';
import { coreResources, objectPath, type KubeObject } from '../../../operator/kube/resource.ts';
import { cachedOwnedRelayResources, relayResources } from '../../../operator/render/relay-resources.ts';
import { restartHashAnnotation } from '../../../operator/render/relay-stateful-set.ts';
import { managedByLabel, operatorName } from '../../../operator/render/relay-names.ts';
import { dkimActiveSelectorAnnotation } from '../../../operator/render/sender-domain-binding.ts';
import {
  admin,
  applyAsUser,
  base64,
  eventually,
  get,
  installCrds,
  list,
  privateNamespace,
  readExample,
  relayCondition,
  startRelayOperator,
  type OperatorUnderTest,
  type RelayView,
  writesOfAnotherReconcile,
} from './smtp-relay-support.ts';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: OperatorUnderTest;
let ns = '';

const instanceSelector = (relay: string) => `app.kubernetes.io/instance=${relay}`;

interface ConfigMapView extends KubeObject {
  data?: Record<string, string>;
}

interface StatefulSetView extends KubeObject {
  spec: { template: { metadata: { annotations: Record<string, string> } } };
  status?: { updateRevision?: string; currentRevision?: string; observedGeneration?: number };
}

async function relayConfigOf(
  relay: string,
): Promise<{ policy: { maxRecipients: number; senderDomains: { domain: string; dkim?: unknown[] }[] } }> {
  const configMap = await get<ConfigMapView>(coreResources.configMap, ns, `${relay}-config`);
  return parse(configMap?.data?.['relay.yaml'] ?? '{}') as never;
}

async function ownedObjects(relay: string): Promise<string[]> {
  const found: string[] = [];
  for (const kind of cachedOwnedRelayResources) {
    for (const object of await list(kind, ns, instanceSelector(relay)))
      found.push(`${kind.kind}/${object.metadata?.name ?? ''}`);
  }
  return found.sort();
}

before(async () => {
  namespace = await privateNamespace(admin, 'smtp-relay');
  ns = namespace.name;
  running = await startRelayOperator(ns);
});

after(async () => {
  await running.operator.stop();
  await namespace.remove();
});

test('the minimal example becomes exactly its objects, each owned by the relay', async () => {
  await applyAsUser(senderDomainResource, ns, await readExample('senderdomain.yaml'));
  const relay = await applyAsUser(smtpRelayResource, ns, await readExample('smtprelay-minimal.yaml'));
  const expected = [
    'ConfigMap/internal-config',
    'PodDisruptionBudget/internal',
    'Secret/internal-relay-secrets',
    'Service/internal',
    'Service/internal-peers',
    'StatefulSet/internal',
  ];
  await eventually(
    'the objects of the minimal relay exist',
    async () => (await ownedObjects('internal')).length === expected.length,
  );
  assert.deepEqual(await ownedObjects('internal'), expected);
  for (const kind of [
    relayResources.statefulSet,
    relayResources.service,
    relayResources.configMap,
    relayResources.secret,
  ]) {
    for (const object of await list(kind, ns, instanceSelector('internal'))) {
      assert.deepEqual(
        object.metadata?.ownerReferences?.map((owner) => [
          owner.kind,
          owner.name,
          owner.uid,
          owner.controller,
        ]),
        [['SmtpRelay', 'internal', relay.metadata?.uid, true]],
        `${kind.kind} ${object.metadata?.name ?? ''}`,
      );
    }
  }
  const config = await relayConfigOf('internal');
  assert.deepEqual(
    config.policy.senderDomains.map((domain) => domain.domain),
    ['example.com'],
  );
  // No kubelet: the pods never become ready, so the relay is not Ready, and says why.
  await eventually(
    'the status says the pods are not ready',
    async () => (await relayCondition(ns, 'internal', 'Ready'))?.reason === 'Scaling',
  );
  const degraded = await relayCondition(ns, 'internal', 'Degraded');
  assert.ok(degraded);
  assert.equal(degraded.reason, 'SenderDomainKeysMissing');
  assert.match(degraded.message, /Secret .*\/example-com-dkim .*not found/);
});

test('DKIM keys arrive through the relay-owned Secret and the config, without rolling the pods', async () => {
  const before = await get<StatefulSetView>(relayResources.statefulSet, ns, 'internal');
  await applyAsUser(coreResources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    // As the SenderDomain reconciler writes it: labelled, so the operator's Secret cache holds it.
    metadata: {
      name: 'example-com-dkim',
      labels: { [managedByLabel]: operatorName },
      annotations: { [dkimActiveSelectorAnnotation]: 'mf-1' },
    },
    data: {
      'mf-1.rsa.pem': base64('-----BEGIN PRIVATE KEY-----\nrsa\n-----END PRIVATE KEY-----\n'),
      'mf-1.ed25519.pem': base64('-----BEGIN PRIVATE KEY-----\ned\n-----END PRIVATE KEY-----\n'),
    },
  });
  await eventually('the relay-owned Secret holds both keys', async () => {
    const secret = await get<KubeObject & { data?: Record<string, string> }>(
      coreResources.secret,
      ns,
      'internal-relay-secrets',
    );
    return (
      Object.keys(secret?.data ?? {})
        .sort()
        .join(',') === 'example.com.mf-1-ed25519.ed25519.pem,example.com.mf-1-rsa.rsa.pem'
    );
  });
  await eventually(
    'the config signs with them',
    async () => ((await relayConfigOf('internal')).policy.senderDomains[0]?.dkim?.length ?? 0) === 2,
  );
  await eventually(
    'Degraded clears',
    async () => (await relayCondition(ns, 'internal', 'Degraded'))?.status === 'False',
  );
  const after = await get<StatefulSetView>(relayResources.statefulSet, ns, 'internal');
  assert.equal(
    after?.spec.template.metadata.annotations[restartHashAnnotation],
    before?.spec.template.metadata.annotations[restartHashAnnotation],
  );
});

test('nothing is written when nothing changed', async () => {
  assert.equal(
    await writesOfAnotherReconcile(running, ns, 'internal'),
    0,
    'writes after a reconcile that changed nothing',
  );
});

test('a spec change applies in place: the same objects, a new config, live settings do not roll', async () => {
  const configMap = await get<ConfigMapView>(coreResources.configMap, ns, 'internal-config');
  const statefulSet = await get<StatefulSetView>(relayResources.statefulSet, ns, 'internal');
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'internal' }),
    contentType: 'application/merge-patch+json',
    body: { spec: { limits: { recipientsPerMessage: 42 } } },
  });
  await eventually(
    'the config has the new limit',
    async () => (await relayConfigOf('internal')).policy.maxRecipients === 42,
  );
  const changed = await get<ConfigMapView>(coreResources.configMap, ns, 'internal-config');
  assert.equal(changed?.metadata?.uid, configMap?.metadata?.uid);
  assert.notEqual(
    changed?.metadata?.annotations?.[appliedHashAnnotation],
    configMap?.metadata?.annotations?.[appliedHashAnnotation],
  );
  const same = await get<StatefulSetView>(relayResources.statefulSet, ns, 'internal');
  assert.equal(
    same?.spec.template.metadata.annotations[restartHashAnnotation],
    statefulSet?.spec.template.metadata.annotations[restartHashAnnotation],
  );
});

test('Ready once the StatefulSet reports every replica ready on the current revision', async () => {
  // No kubelet runs the pods, so mark them running and ready as a kubelet would; the StatefulSet
  // controller then reports them ready in the StatefulSet's status, which the relay's follows.
  const pods = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
  await eventually(
    'both pods exist',
    async () => (await list(pods, ns, instanceSelector('internal'))).length === 2,
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const pod of await list(pods, ns, instanceSelector('internal'))) {
    await admin.request({
      verb: 'patch',
      path: objectPath(pods, { namespace: ns, name: pod.metadata?.name ?? '' }, 'status'),
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'Ready', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          ],
        },
      },
    });
  }
  await eventually(
    'Ready=True',
    async () => (await relayCondition(ns, 'internal', 'Ready'))?.status === 'True',
  );
  const relay = await get<RelayView>(smtpRelayResource, ns, 'internal');
  assert.equal(relay?.status?.readyReplicas, 2);
  assert.equal((await relayCondition(ns, 'internal', 'Ready'))?.reason, 'AllReplicasReady');
  assert.equal((await relayCondition(ns, 'internal', 'Progressing'))?.status, 'False');
  const events = await list(coreResources.event, ns);
  assert.ok(events.some((event) => event['reason'] === 'Ready' && event['type'] === 'Normal'));
});

test('deleting a SenderDomain re-renders the config without it', async () => {
  await admin.request({
    verb: 'delete',
    path: objectPath(senderDomainResource, { namespace: ns, name: 'example-com' }),
  });
  await eventually(
    'the config lists no sender domain',
    async () => (await relayConfigOf('internal')).policy.senderDomains.length === 0,
  );
  // The status is written after the objects are applied: it follows within the same reconcile.
  await eventually('the status lists no sender domain', async () => {
    const relay = await get<RelayView>(smtpRelayResource, ns, 'internal');
    return (relay?.status?.senderDomains ?? []).length === 0;
  });
});

test('one replica: the PodDisruptionBudget is deleted', async () => {
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'internal' }),
    contentType: 'application/merge-patch+json',
    body: { spec: { replicas: 1 } },
  });
  await eventually(
    'the PDB is gone',
    async () => (await get(relayResources.podDisruptionBudget, ns, 'internal')) === undefined,
  );
});

test('spec.networkPolicy: the apiserver accepts the rendered NetworkPolicy; turning it off deletes it', async () => {
  const patchPolicy = (networkPolicy: Record<string, unknown>) =>
    admin.request({
      verb: 'patch',
      path: objectPath(smtpRelayResource, { namespace: ns, name: 'internal' }),
      contentType: 'application/merge-patch+json',
      body: { spec: { networkPolicy } },
    });
  await patchPolicy({ enabled: true, smtpFrom: ['10.244.0.0/16'], metricsFromNamespaces: ['monitoring'] });
  await eventually(
    'the NetworkPolicy exists',
    async () => (await get(relayResources.networkPolicy, ns, 'internal')) !== undefined,
  );
  const policy = await get<KubeObject & { spec: { ingress: { from: unknown[] }[] } }>(
    relayResources.networkPolicy,
    ns,
    'internal',
  );
  assert.ok(policy);
  assert.equal(policy.metadata?.ownerReferences?.[0]?.name, 'internal');
  assert.deepEqual(policy.spec.ingress[0]?.from[0], { ipBlock: { cidr: '10.244.0.0/16' } });
  await patchPolicy({ enabled: false });
  await eventually(
    'the NetworkPolicy is gone',
    async () => (await get(relayResources.networkPolicy, ns, 'internal')) === undefined,
  );
});

test('a new queue size cannot change an existing StatefulSet: Ready=False says what to do', async () => {
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'internal' }),
    contentType: 'application/merge-patch+json',
    body: { spec: { queue: { size: '2Gi' } } },
  });
  await eventually(
    'Ready=False with ApplyFailed',
    async () => (await relayCondition(ns, 'internal', 'Ready'))?.reason === 'ApplyFailed',
  );
  const ready = await relayCondition(ns, 'internal', 'Ready');
  assert.match(
    ready?.message ?? '',
    /StatefulSet .*\/internal: spec\.queue .*kubectl delete statefulset internal --cascade=orphan/,
  );
  const statefulSet = await get<
    KubeObject & {
      spec: { volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[] };
    }
  >(relayResources.statefulSet, ns, 'internal');
  assert.equal(statefulSet?.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage, '1Gi');
});

test('the production example: missing Secrets give Ready=False naming them and a Warning Event; creating them recovers', async () => {
  await installCrds(join(import.meta.dirname, '../chart/fixtures/monitoring-crds.yaml'));
  // Discovery is remembered for discoveryTtlMs (500 ms here): let what the last reconcile saw expire.
  await sleep(1_000);
  const domain = await readExample('senderdomain.yaml');
  await applyAsUser(senderDomainResource, ns, domain);
  const relay = await applyAsUser(smtpRelayResource, ns, await readExample('smtprelay-production.yaml'));
  await eventually(
    'Ready=False with SecretNotFound',
    async () => (await relayCondition(ns, 'outbound', 'Ready'))?.reason === 'SecretNotFound',
  );
  const ready = await relayCondition(ns, 'outbound', 'Ready');
  assert.match(ready?.message ?? '', /Secret .*\/outbound-tls \(the TLS certificate/);
  assert.match(
    ready?.message ?? '',
    /Secret .*\/outbound-smtp-users \(the AUTH users file of spec\.auth\.usersSecretRef\) not found/,
  );
  assert.match(ready?.message ?? '', /Secret .*\/outbound-smarthost \(the smarthost credentials/);
  await eventually('a Warning Event names the Secret', async () =>
    (await list(coreResources.event, ns)).some(
      (event) =>
        event['type'] === 'Warning' &&
        event['reason'] === 'SecretNotFound' &&
        String(event['message']).includes('outbound-smtp-users') &&
        (event['involvedObject'] as { name?: string }).name === 'outbound',
    ),
  );
  // Everything but the Certificate (cert-manager is not installed) exists meanwhile: StatefulSet,
  // two Services, ConfigMap, Secret, PodDisruptionBudget, NetworkPolicy.
  await eventually('the production objects exist', async () => (await ownedObjects('outbound')).length === 7);
  await eventually('the ServiceMonitor and PrometheusRule exist (their CRDs are served)', async () => {
    const monitor = await get(relayResources.serviceMonitor, ns, 'outbound');
    const rule = await get(relayResources.prometheusRule, ns, 'outbound');
    return monitor !== undefined && rule !== undefined;
  });
  const degraded = await relayCondition(ns, 'outbound', 'Degraded');
  assert.match(
    degraded?.message ?? '',
    /spec\.tls\.issuerRef asks for a Certificate but cert-manager\.io\/v1 certificates is not served/,
  );

  const generation = relay.metadata?.generation;
  const secret = (name: string, data: Record<string, string>) =>
    applyAsUser(coreResources.secret, ns, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      data,
    });
  await secret('outbound-smtp-users', {
    users: base64('billing-app:$2b$10$abcdefghijklmnopqrstuuJ4bYwJ6Wm2yV5Yk9o2b3f5b0N1lq7lK\n'),
  });
  await secret('outbound-smarthost', { username: base64('relay@example.com'), password: base64('s3cret') });
  await eventually('only the TLS Secret is missing now', async () => {
    const message = (await relayCondition(ns, 'outbound', 'Ready'))?.message ?? '';
    return message.includes('outbound-tls') && !message.includes('outbound-smtp-users');
  });
  await secret('outbound-tls', {
    'tls.crt': base64('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'),
    'tls.key': base64('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n'),
  });
  await eventually('Ready no longer blames a Secret', async () => {
    const reason = (await relayCondition(ns, 'outbound', 'Ready'))?.reason ?? '';
    return !reason.startsWith('Secret');
  });
  const credentials = await get<KubeObject & { data?: Record<string, string> }>(
    coreResources.secret,
    ns,
    'outbound-relay-secrets',
  );
  assert.equal(
    Buffer.from(credentials?.data?.['smarthost-credentials'] ?? '', 'base64').toString(),
    'relay@example.com:s3cret\n',
  );
  const unchanged = await get<RelayView>(smtpRelayResource, ns, 'outbound');
  assert.equal(unchanged?.metadata?.generation, generation, 'the SmtpRelay spec was not touched');
});

test('an optional kind installed later is picked up; turning features off deletes their objects', async () => {
  await installCrds(join(import.meta.dirname, 'fixtures/cert-manager-certificate-crd.yaml'));
  // No change to the relay: it looks again on its own while a kind it asks for is not served.
  await eventually(
    'the Certificate exists',
    async () => (await get(relayResources.certificate, ns, 'outbound-tls')) !== undefined,
    10_000,
  );
  const certificate = await get<KubeObject & { spec: Record<string, unknown> }>(
    relayResources.certificate,
    ns,
    'outbound-tls',
  );
  assert.ok(certificate);
  assert.deepEqual(certificate.spec['dnsNames'], ['smtp.example.com']);
  assert.equal(certificate.spec['secretName'], 'outbound-tls');
  await eventually('Degraded no longer names cert-manager', async () => {
    const degraded = await relayCondition(ns, 'outbound', 'Degraded');
    return !(degraded?.message ?? '').includes('cert-manager');
  });

  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'outbound' }),
    contentType: 'application/merge-patch+json',
    body: {
      spec: {
        tls: { issuerRef: null, dnsNames: null, secretRef: { name: 'outbound-tls' } },
        monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
      },
    },
  });
  await eventually('the Certificate, ServiceMonitor and PrometheusRule are deleted', async () => {
    const left = await Promise.all([
      get(relayResources.certificate, ns, 'outbound-tls'),
      get(relayResources.serviceMonitor, ns, 'outbound'),
      get(relayResources.prometheusRule, ns, 'outbound'),
    ]);
    return left.every((object) => object === undefined);
  });
  // The Secret the Certificate filled is now the user's secretRef: still mounted, still there.
  assert.ok(await get(coreResources.secret, ns, 'outbound-tls'));
  assert.notEqual((await relayCondition(ns, 'outbound', 'Ready'))?.reason, 'SecretNotFound');
});
