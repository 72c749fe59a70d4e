// spec.service through the operator against a real kube-apiserver: the client Service takes each
// type, and a switch of type is one server-side apply with nothing left behind. LoadBalancer →
// ClusterIP drops the node ports (fixed and allocated), the health check node port, the traffic
// policy, the class and the source ranges, and keeps the cluster IP; NodePort → LoadBalancer keeps
// the node port the cluster allocated. The headless peers Service never changes, and a settled
// LoadBalancer is not written again.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { smtpRelayResource } from '../../../operator/api/kinds.ts';
import { coreResources, type KubeObject } from '../../../operator/kube/resource.ts';
import {
  admin,
  applyAsUser,
  eventually,
  get,
  privateNamespace,
  readExample,
  relayCondition,
  startRelayOperator,
  type OperatorUnderTest,
  writesOfAnotherReconcile,
} from './smtp-relay-support.ts';

interface ServiceView extends KubeObject {
  spec: {
    type: string;
    clusterIP?: string;
    ports: { name: string; port: number; nodePort?: number }[];
    externalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    loadBalancerClass?: string;
    loadBalancerSourceRanges?: string[];
  };
}

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: OperatorUnderTest;
let ns = '';

before(async () => {
  namespace = await privateNamespace(admin, 'service-exposure');
  ns = namespace.name;
  running = await startRelayOperator(ns);
});

after(async () => {
  await running.operator.stop();
  await namespace.remove();
});

async function exposeAs(service: Record<string, unknown>): Promise<void> {
  const relay = await readExample('smtprelay-minimal.yaml');
  const spec = relay['spec'] as Record<string, unknown>;
  await applyAsUser(smtpRelayResource, ns, { ...relay, spec: { ...spec, service } });
}

/** The client Service once the operator has applied the given type (and its generation settled). */
async function clientServiceOfType(type: string): Promise<ServiceView> {
  let found: ServiceView | undefined;
  await eventually(`the client Service is ${type}`, async () => {
    found = await get<ServiceView>(coreResources.service, ns, 'internal');
    return found?.spec.type === type;
  });
  assert.ok(found);
  return found;
}

/** A reconcile of the settled LoadBalancer writes nothing: what the apiserver adds does not count. */
async function settledWithoutWrites(): Promise<void> {
  assert.equal(
    await writesOfAnotherReconcile(running, ns, 'internal'),
    0,
    'writes after a reconcile that changed nothing',
  );
}

async function peersService(): Promise<unknown> {
  const peers = await get<ServiceView>(coreResources.service, ns, 'internal-peers');
  return peers?.spec;
}

test('a relay Service switches LoadBalancer → ClusterIP → NodePort → LoadBalancer with nothing left behind', async () => {
  const fixedNodePort = randomInt(30_000, 32_768);
  await exposeAs({
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    loadBalancerClass: 'example.com/test-lb',
    loadBalancerSourceRanges: ['198.51.100.0/24'],
    nodePorts: { smtp: fixedNodePort },
    annotations: { 'lb.example.com/scheme': 'internet-facing' },
  });
  const balanced = await clientServiceOfType('LoadBalancer');
  assert.deepEqual(
    balanced.spec.ports.map((port) => [port.name, port.port, port.nodePort]),
    [['smtp', 25, fixedNodePort]],
  );
  assert.equal(balanced.spec.externalTrafficPolicy, 'Local');
  assert.ok((balanced.spec.healthCheckNodePort ?? 0) > 0, 'Local on a LoadBalancer has a health check port');
  assert.equal(balanced.spec.loadBalancerClass, 'example.com/test-lb');
  assert.deepEqual(balanced.spec.loadBalancerSourceRanges, ['198.51.100.0/24']);
  assert.equal(balanced.metadata?.annotations?.['lb.example.com/scheme'], 'internet-facing');
  // The client and peers Services are applied one after the other: wait for the second.
  let peers: unknown;
  await eventually('the peers Service exists', async () => {
    peers = await peersService();
    return peers !== undefined;
  });

  await exposeAs({ type: 'ClusterIP' });
  const internal = await clientServiceOfType('ClusterIP');
  assert.equal(internal.spec.clusterIP, balanced.spec.clusterIP, 'the cluster IP stays');
  assert.deepEqual(
    internal.spec.ports.map((port) => port.nodePort),
    [undefined],
  );
  assert.equal(internal.spec.healthCheckNodePort, undefined);
  assert.equal(internal.spec.externalTrafficPolicy, undefined);
  assert.equal(internal.spec.loadBalancerClass, undefined);
  assert.equal(internal.spec.loadBalancerSourceRanges, undefined);
  assert.equal(internal.metadata?.annotations?.['lb.example.com/scheme'], undefined);

  await exposeAs({ type: 'NodePort' });
  const nodePort = await clientServiceOfType('NodePort');
  const allocated = nodePort.spec.ports[0]?.nodePort ?? 0;
  assert.ok(allocated >= 30_000 && allocated <= 32_767, `an allocated node port: ${allocated}`);
  assert.equal(nodePort.spec.externalTrafficPolicy, 'Local', 'Local unless told otherwise');

  await exposeAs({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' });
  const again = await clientServiceOfType('LoadBalancer');
  assert.equal(again.spec.ports[0]?.nodePort, allocated, 'the allocated node port stays');
  assert.equal(again.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(again.spec.healthCheckNodePort, undefined);

  assert.deepEqual(await peersService(), peers, 'the peers Service never changed');
  await settledWithoutWrites();
  const degraded = await relayCondition(ns, 'internal', 'Degraded');
  assert.doesNotMatch(degraded?.message ?? '', /applying Service/);
});

test('a node port outside the cluster range: Ready=False ApplyFailed with the apiserver refusal naming the port', async () => {
  await exposeAs({ type: 'NodePort', nodePorts: { smtp: 80 } });
  await eventually(
    'Ready=False with ApplyFailed',
    async () => (await relayCondition(ns, 'internal', 'Ready'))?.reason === 'ApplyFailed',
  );
  const ready = await relayCondition(ns, 'internal', 'Ready');
  assert.match(
    ready?.message ?? '',
    /applying Service .*\/internal failed: .*spec\.ports\[0\]\.nodePort: Invalid value: 80/,
  );
  assert.match(ready?.message ?? '', /30000-32767/);
});
