// The client Service as spec.service asks, one row per shape: the type, the traffic policies, fixed
// node ports by listener name, and the load balancer fields only where the type uses them (so a
// switch of type drops them). The headless peers Service never changes with spec.service.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderClientService, renderPeersService } from '../../../operator/render/relay-services.ts';
import { servedRelay } from './fixtures.ts';

const listeners = [
  { name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' },
  { name: 'submission', port: 587, tls: 'None', auth: 'Disabled' },
];

const relayWith = (service?: Record<string, unknown>) =>
  servedRelay('edge', service === undefined ? { listeners } : { listeners, service });

interface Row {
  readonly name: string;
  readonly service: Record<string, unknown> | undefined;
  readonly spec: Record<string, unknown>;
  readonly nodePorts: readonly (number | undefined)[];
}

const rows: readonly Row[] = [
  {
    name: 'no spec.service: ClusterIP, nothing else',
    service: undefined,
    spec: { type: 'ClusterIP' },
    nodePorts: [undefined, undefined],
  },
  {
    name: 'ClusterIP with an internal traffic policy',
    service: { type: 'ClusterIP', internalTrafficPolicy: 'Local' },
    spec: { type: 'ClusterIP', internalTrafficPolicy: 'Local' },
    nodePorts: [undefined, undefined],
  },
  {
    name: 'NodePort keeps client addresses by default',
    service: { type: 'NodePort' },
    spec: { type: 'NodePort', externalTrafficPolicy: 'Local' },
    nodePorts: [undefined, undefined],
  },
  {
    name: 'NodePort with Cluster and one fixed node port',
    service: { type: 'NodePort', externalTrafficPolicy: 'Cluster', nodePorts: { submission: 30587 } },
    spec: { type: 'NodePort', externalTrafficPolicy: 'Cluster' },
    nodePorts: [undefined, 30587],
  },
  {
    name: 'LoadBalancer with every field',
    service: {
      type: 'LoadBalancer',
      loadBalancerClass: 'example.com/lb',
      loadBalancerSourceRanges: ['198.51.100.0/24'],
      allocateLoadBalancerNodePorts: true,
      internalTrafficPolicy: 'Cluster',
      nodePorts: { smtp: 30025, submission: 30587 },
    },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      loadBalancerClass: 'example.com/lb',
      loadBalancerSourceRanges: ['198.51.100.0/24'],
      allocateLoadBalancerNodePorts: true,
    },
    nodePorts: [30025, 30587],
  },
  {
    name: 'LoadBalancer without node ports',
    service: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, loadBalancerSourceRanges: [] },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: false },
    nodePorts: [undefined, undefined],
  },
  {
    // The CEL rules refuse these at admission; the builder still renders only what the type uses.
    name: 'ClusterIP ignores fields of the external types',
    service: {
      type: 'ClusterIP',
      externalTrafficPolicy: 'Cluster',
      loadBalancerClass: 'example.com/lb',
      nodePorts: { smtp: 30025 },
    },
    spec: { type: 'ClusterIP' },
    nodePorts: [undefined, undefined],
  },
];

for (const row of rows) {
  test(`client Service: ${row.name}`, () => {
    const rendered = renderClientService(relayWith(row.service));
    const { selector, ports, ...rest } = rendered['spec'] as {
      selector: Record<string, string>;
      ports: { name: string; port: number; targetPort: number; nodePort?: number }[];
    };
    assert.deepEqual(rest, row.spec);
    assert.deepEqual(selector, {
      'app.kubernetes.io/name': 'mailfleet-relay',
      'app.kubernetes.io/instance': 'edge',
    });
    assert.deepEqual(
      ports.map((port) => [port.name, port.port, port.targetPort]),
      [
        ['smtp', 25, 2525],
        ['submission', 587, 5587],
      ],
    );
    assert.deepEqual(
      ports.map((port) => port.nodePort),
      row.nodePorts,
    );
  });
}

test('client Service: extra annotations and labels; the operator labels win', () => {
  const rendered = renderClientService(
    relayWith({
      type: 'LoadBalancer',
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external' },
      labels: { team: 'mail', 'mailfleet.dev/service': 'mine', 'app.kubernetes.io/instance': 'other' },
    }),
  );
  assert.deepEqual(rendered.metadata?.annotations, {
    'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
  });
  assert.deepEqual(rendered.metadata.labels, {
    team: 'mail',
    'mailfleet.dev/service': 'client',
    'app.kubernetes.io/name': 'mailfleet-relay',
    'app.kubernetes.io/instance': 'edge',
    'app.kubernetes.io/managed-by': 'mailfleet-operator',
  });
  assert.equal(renderClientService(relayWith()).metadata?.annotations, undefined);
});

test('the peers Service is headless and internal whatever spec.service says', () => {
  const internal = renderPeersService(relayWith());
  const exposed = renderPeersService(
    relayWith({
      type: 'LoadBalancer',
      annotations: { a: 'b' },
      labels: { c: 'd' },
      nodePorts: { smtp: 30025 },
    }),
  );
  assert.deepEqual(exposed, internal);
  assert.equal((internal['spec'] as { clusterIP: string }).clusterIP, 'None');
  assert.equal((internal['spec'] as { type?: string }).type, undefined);
});
