// spec.service at admission: combinations a Service would refuse or ignore are refused with a message
// naming the field (rows as in validation.test.ts), the valid shapes of each type are admitted, and
// loadBalancerClass cannot change while the type stays LoadBalancer (a transition rule).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertRejected, changed, type InvalidCase } from './invalid-cases.ts';
import { apply, dryRunCreate, parsed, readExample, temporaryNamespace, type StatusBody } from './support.ts';

const serviceCases: readonly InvalidCase[] = [
  {
    name: 'loadBalancerSourceRanges on a NodePort Service',
    example: 'smtprelay-external.yaml',
    change: ['service.type', 'NodePort'],
    field: 'spec.service.loadBalancerSourceRanges',
    message: 'loadBalancerSourceRanges is only used with type: LoadBalancer',
  },
  {
    name: 'externalTrafficPolicy on a ClusterIP Service',
    example: 'smtprelay-external.yaml',
    change: ['service', { type: 'ClusterIP', externalTrafficPolicy: 'Local' }],
    field: 'spec.service.externalTrafficPolicy',
    message: 'externalTrafficPolicy is only used with type: NodePort or LoadBalancer',
  },
  {
    name: 'loadBalancerClass without type LoadBalancer (ClusterIP by default)',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { loadBalancerClass: 'example.com/lb' }],
    field: 'spec.service.loadBalancerClass',
    message: 'loadBalancerClass is only used with type: LoadBalancer',
  },
  {
    name: 'allocateLoadBalancerNodePorts on a NodePort Service',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { type: 'NodePort', allocateLoadBalancerNodePorts: false }],
    field: 'spec.service.allocateLoadBalancerNodePorts',
    message: 'allocateLoadBalancerNodePorts is only used with type: LoadBalancer',
  },
  {
    name: 'nodePorts on a ClusterIP Service',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { nodePorts: { smtp: 30025 } }],
    field: 'spec.service.nodePorts',
    message: 'nodePorts are only used with type: NodePort or LoadBalancer',
  },
  {
    name: 'nodePorts without node ports allocated',
    example: 'smtprelay-external.yaml',
    change: [
      'service',
      { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, nodePorts: { submission: 30587 } },
    ],
    field: 'spec.service.nodePorts',
    message: 'nodePorts need node ports',
  },
  {
    name: 'a node port for a listener that does not exist',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { type: 'NodePort', nodePorts: { submission: 30587 } }],
    field: 'spec.service.nodePorts',
    message: 'every key of nodePorts must be the name of a listener',
  },
  {
    name: 'two listeners on one node port',
    example: 'smtprelay-external.yaml',
    change: ['service', { type: 'NodePort', nodePorts: { submission: 30587, submissions: 30587 } }],
    field: 'spec.service.nodePorts',
    message: 'two listeners cannot share a node port',
  },
  {
    name: 'a node port above 65535',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { type: 'NodePort', nodePorts: { smtp: 70000 } }],
    field: 'spec.service.nodePorts.smtp',
    message: 'less than or equal to 65535',
  },
  {
    name: 'a load balancer source range that is not a CIDR',
    example: 'smtprelay-external.yaml',
    change: ['service.loadBalancerSourceRanges', ['198.51.100.7']],
    field: 'spec.service.loadBalancerSourceRanges[0]',
    message: 'must be a network in CIDR notation',
  },
  {
    name: 'a load balancer class that is not a label-style name',
    example: 'smtprelay-external.yaml',
    change: ['service.loadBalancerClass', 'my load balancer'],
    field: 'spec.service.loadBalancerClass',
    message: 'should match',
  },
  {
    name: 'an ExternalName Service',
    example: 'smtprelay-minimal.yaml',
    change: ['service', { type: 'ExternalName' }],
    field: 'spec.service.type',
    message: 'Unsupported value: "ExternalName"',
  },
  {
    name: 'an unknown traffic policy',
    example: 'smtprelay-external.yaml',
    change: ['service.externalTrafficPolicy', 'Preserve'],
    field: 'spec.service.externalTrafficPolicy',
    message: 'Unsupported value: "Preserve"',
  },
];

const validServices: readonly Record<string, unknown>[] = [
  {},
  { type: 'ClusterIP', internalTrafficPolicy: 'Local', annotations: { a: 'b' }, labels: { team: 'mail' } },
  { type: 'NodePort' },
  { type: 'NodePort', externalTrafficPolicy: 'Cluster', nodePorts: { smtp: 30025 } },
  {
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    loadBalancerClass: 'example.com/lb',
    loadBalancerSourceRanges: ['198.51.100.0/24', '2001:db8::/32'],
    allocateLoadBalancerNodePorts: true,
    nodePorts: { smtp: 30025 },
  },
  { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false },
];

let namespace: Awaited<ReturnType<typeof temporaryNamespace>>;
before(async () => {
  namespace = await temporaryNamespace('api-service');
});
after(async () => {
  await namespace.remove();
});

for (const row of serviceCases) {
  test(`rejected: ${row.name} (${row.field})`, () => assertRejected(namespace.name, row));
}

test('each valid shape of spec.service is admitted, type ClusterIP by default', async () => {
  const minimal = await readExample('smtprelay-minimal.yaml');
  for (const service of validServices) {
    const response = await dryRunCreate(namespace.name, changed(minimal, ['service', service]));
    assert.equal(response.status, 201, `${JSON.stringify(service)}: ${response.body}`);
    const served = (parsed(response) as { spec: { service: { type: string } } }).spec.service;
    assert.equal(served.type, 'type' in service ? service['type'] : 'ClusterIP');
  }
});

test('loadBalancerClass cannot change while the type stays LoadBalancer; through ClusterIP it can', async () => {
  const external = await readExample('smtprelay-external.yaml');
  const withService = (service: Record<string, unknown>) => changed(external, ['service', service]);
  const first = await apply(
    namespace.name,
    withService({ type: 'LoadBalancer', loadBalancerClass: 'example.com/a' }),
  );
  assert.ok(first.status < 300, first.body);
  for (const service of [
    { type: 'LoadBalancer', loadBalancerClass: 'example.com/b' },
    { type: 'LoadBalancer' },
  ]) {
    const refused = await apply(namespace.name, withService(service));
    assert.equal(refused.status, 422, refused.body);
    const cause = (parsed(refused) as StatusBody).details?.causes?.find(
      (candidate) => candidate.field === 'spec.service.loadBalancerClass',
    );
    assert.match(cause?.message ?? '', /loadBalancerClass cannot change while type stays LoadBalancer/);
  }
  for (const service of [
    { type: 'ClusterIP' },
    { type: 'LoadBalancer', loadBalancerClass: 'example.com/b' },
  ]) {
    const accepted = await apply(namespace.name, withService(service));
    assert.ok(accepted.status < 300, `${JSON.stringify(service)}: ${accepted.body}`);
  }
});
