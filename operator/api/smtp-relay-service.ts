// SmtpRelay service: how the client Service is exposed (ClusterIP inside the cluster, NodePort or
// LoadBalancer outside it). Part of the SmtpRelay schema (smtp-relay.ts). The headless peers
// Service is never exposed. Combinations the Service API would refuse, or silently ignore, are
// refused here at admission, naming the field.
import { cidrList, port, qualifiedNamePattern } from './common.ts';
import { boolean, map, object, oneOf, string } from './schema.ts';

const externalOnly = "self.type != 'ClusterIP'";
const loadBalancerOnly = "self.type == 'LoadBalancer'";

export const service = object(
  'RelayService',
  'How clients reach the relay: the client Service `<relay>` (one port per listener). The headless `<relay>-peers` Service used for drain handoff stays internal whatever is set here.',
  {
    type: oneOf(
      '`ClusterIP`: reachable inside the cluster only. `NodePort`: also on a port of every node. `LoadBalancer`: also through a load balancer the cluster provisions (a cloud controller, MetalLB, …), with node ports unless `allocateLoadBalancerNodePorts` is false.',
      ['ClusterIP', 'NodePort', 'LoadBalancer'],
      { default: 'ClusterIP' },
    ),
    annotations: map(
      'Extra annotations on the client Service, e.g. for a cloud load balancer controller (`service.beta.kubernetes.io/aws-load-balancer-type: nlb`).',
      string('The annotation value.', { maxLength: 4096 }),
      { maxProperties: 32 },
    ),
    labels: map(
      "Extra labels on the client Service. The operator's own labels (`app.kubernetes.io/name`, `app.kubernetes.io/instance`, `app.kubernetes.io/managed-by`, `mailfleet.dev/service`) take precedence.",
      string('The label value.', { maxLength: 63 }),
      { maxProperties: 32 },
    ),
    externalTrafficPolicy: oneOf(
      'With `NodePort` or `LoadBalancer` (refused with `ClusterIP`). `Local`: a node forwards only to relay pods on itself, and the relay sees the real client address, so `clientNetworks`, `limits.connectionsPerClient` and `limits.ratePerClient` apply per client. `Cluster`: any node forwards to any pod, but with its own address as the source: the relay sees node addresses, so every external client shares their limits, and a `clientNetworks` entry that covers the nodes lets every external client relay without AUTH. When absent: `Local` (Kubernetes would default to `Cluster`).',
      ['Cluster', 'Local'],
    ),
    internalTrafficPolicy: oneOf(
      '`Cluster` (the Kubernetes default): traffic from inside the cluster reaches any relay pod. `Local`: only pods on the sending node, and nothing when that node runs none.',
      ['Cluster', 'Local'],
    ),
    loadBalancerClass: string(
      'The load balancer implementation that provisions the Service (`type: LoadBalancer` only), a label-style name such as `service.k8s.aws/nlb`; the cluster default when absent. It cannot change while the type stays `LoadBalancer`.',
      { maxLength: 316, pattern: qualifiedNamePattern },
    ),
    loadBalancerSourceRanges: cidrList(
      'Client networks the load balancer admits (`type: LoadBalancer` only), where the implementation supports it; every source when empty.',
      'leave the list empty to admit every source',
    ),
    allocateLoadBalancerNodePorts: boolean(
      '`type: LoadBalancer` only. `false` when the load balancer reaches the pods directly and needs no node ports; node ports are allocated when absent.',
    ),
    nodePorts: map(
      'A fixed node port (1–65535; the cluster admits its node port range, 30000–32767 by default) for some listeners, by listener name, e.g. `smtp: 30025`. With `NodePort` or `LoadBalancer`; a listener not named gets a port the cluster picks.',
      port('The node port of the listener.'),
      {
        maxProperties: 8,
        rules: [
          {
            rule: 'self.all(a, self.all(b, a == b || self[a] != self[b]))',
            message: 'two listeners cannot share a node port',
          },
        ],
      },
    ),
  },
  {
    default: {},
    rules: [
      {
        rule: `${externalOnly} || !has(self.externalTrafficPolicy)`,
        message: 'externalTrafficPolicy is only used with type: NodePort or LoadBalancer',
        fieldPath: '.externalTrafficPolicy',
      },
      {
        rule: `${externalOnly} || !has(self.nodePorts) || size(self.nodePorts) == 0`,
        message: 'nodePorts are only used with type: NodePort or LoadBalancer',
        fieldPath: '.nodePorts',
      },
      {
        rule: `${loadBalancerOnly} || !has(self.loadBalancerClass)`,
        message: 'loadBalancerClass is only used with type: LoadBalancer',
        fieldPath: '.loadBalancerClass',
      },
      {
        rule: `${loadBalancerOnly} || !has(self.loadBalancerSourceRanges) || size(self.loadBalancerSourceRanges) == 0`,
        message: 'loadBalancerSourceRanges is only used with type: LoadBalancer',
        fieldPath: '.loadBalancerSourceRanges',
      },
      {
        rule: `${loadBalancerOnly} || !has(self.allocateLoadBalancerNodePorts)`,
        message: 'allocateLoadBalancerNodePorts is only used with type: LoadBalancer',
        fieldPath: '.allocateLoadBalancerNodePorts',
      },
      {
        rule: '!has(self.allocateLoadBalancerNodePorts) || self.allocateLoadBalancerNodePorts || !has(self.nodePorts) || size(self.nodePorts) == 0',
        message: 'nodePorts need node ports: remove them or allocateLoadBalancerNodePorts: false',
        fieldPath: '.nodePorts',
      },
      {
        rule: "oldSelf.type != 'LoadBalancer' || self.type != 'LoadBalancer' || (has(self.loadBalancerClass) == has(oldSelf.loadBalancerClass) && (!has(self.loadBalancerClass) || self.loadBalancerClass == oldSelf.loadBalancerClass))",
        message:
          'loadBalancerClass cannot change while type stays LoadBalancer: switch type to ClusterIP first, then back with the new class',
        fieldPath: '.loadBalancerClass',
      },
    ],
  },
);
