// SmtpRelay workload: the queue volume and drain timeout, pod scheduling and resources, and the
// Prometheus Operator objects. Part of the SmtpRelay schema (smtp-relay.ts).
import {
  byteSize,
  cidrList,
  duration,
  isDurationCel,
  labelMap,
  quantityCel,
  resourceQuantity,
} from './common.ts';
import { boolean, list, map, object, oneOf, opaqueObject, string } from './schema.ts';

export const queue = object(
  'Queue',
  'Where each relay pod spools accepted messages, and how long it drains on shutdown.',
  {
    storage: oneOf(
      '`Persistent`: a PersistentVolumeClaim per pod, so queued mail survives rescheduling; `Ephemeral`: an emptyDir, drained to peers on shutdown.',
      ['Persistent', 'Ephemeral'],
      { default: 'Persistent' },
    ),
    size: byteSize('The volume size (a PVC request, or the emptyDir size limit).', '1Gi'),
    storageClassName: string('The StorageClass of the PVC; the cluster default when absent.', {
      maxLength: 253,
      pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
    }),
    drainTimeout: duration(
      'On scale-down or SIGTERM, how long a pod keeps delivering before it hands what remains to its peers; at least 1s.',
      '5m',
    ),
    deletionDrainTimeout: duration(
      'When the SmtpRelay is deleted, how long the deletion waits while its pods refuse new mail (421 4.3.2) and deliver what they hold. At the bound the deletion goes on: with `Persistent` storage the PVCs still holding mail are kept (whatever `persistentVolumeClaimRetentionPolicy.whenDeleted` says) and a Warning Event names them; with `Ephemeral` storage what is left is lost and a Warning Event counts it. `0s`: no wait.',
      '15m',
    ),
    persistentVolumeClaimRetentionPolicy: object(
      'QueueClaimRetentionPolicy',
      'What becomes of the queue PVCs (`Persistent` storage), named as the StatefulSet field; the operator carries it out, deleting only PVCs it knows are empty (the StatefulSet keeps Retain).',
      {
        whenDeleted: oneOf(
          '`Delete`: once the deletion drain has emptied every queue, the PVCs are deleted with the relay; PVCs of pods that still held mail at the bound are kept. `Retain`: every PVC is kept.',
          ['Retain', 'Delete'],
          { default: 'Retain' },
        ),
        whenScaled: oneOf(
          "A removed pod's PVC, once a drain Job has emptied it (whatever the pod's own hand-off left there is delivered or handed to the pods still running first): `Retain` keeps it for a scale-up, `Delete` deletes it. A PVC that still holds mail is never deleted.",
          ['Retain', 'Delete'],
          { default: 'Retain' },
        ),
      },
      { default: {} },
    ),
  },
  {
    default: {},
    rules: [
      {
        rule: "self.storage == 'Persistent' || !has(self.storageClassName)",
        message: 'storageClassName is only used with storage: Persistent',
        fieldPath: '.storageClassName',
      },
      {
        rule: `!has(self.drainTimeout) || !${isDurationCel('self.drainTimeout')} || duration(self.drainTimeout) >= duration('1s')`,
        message: 'drainTimeout must be at least 1s: a pod must have time to hand its queue to its peers',
        fieldPath: '.drainTimeout',
      },
    ],
  },
);

const resources = object(
  'ResourceRequirements',
  'CPU and memory for the relay container, as in a core/v1 container.',
  {
    requests: map('Minimum resources, e.g. `cpu: 100m`, `memory: 128Mi`.', resourceQuantity('A quantity.'), {
      maxProperties: 8,
    }),
    limits: map('Maximum resources; each at least its request.', resourceQuantity('A quantity.'), {
      maxProperties: 8,
    }),
  },
  {
    default: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    // One rule per resource rather than a walk over the map: map keys have no length bound, and
    // the apiserver's cost estimate of a walk exceeds its budget on Kubernetes 1.31.
    rules: ['cpu', 'memory', 'ephemeral-storage'].map((name) => {
      const limit = `self.limits['${name}']`;
      const request = `self.requests['${name}']`;
      return {
        rule: `!(has(self.requests) && has(self.limits) && '${name}' in self.requests && '${name}' in self.limits) || !isQuantity(string(${limit})) || !isQuantity(string(${request})) || ${quantityCel(limit)}.compareTo(${quantityCel(request)}) >= 0`,
        message: `limits.${name} must be at least requests.${name}: the pod could never be created`,
        fieldPath: '.limits',
      };
    }),
  },
);

export const pod = object(
  'PodTemplate',
  'Scheduling and resources of the relay pods.',
  {
    resources,
    nodeSelector: labelMap('Labels a node must have to run a relay pod.', 32),
    tolerations: list(
      'Taints the relay pods tolerate (core/v1 Toleration).',
      opaqueObject('A core/v1 Toleration.'),
      { maxItems: 32, listType: 'atomic' },
    ),
    affinity: opaqueObject('A core/v1 Affinity for the relay pods.'),
    topologySpreadConstraints: list(
      'How relay pods spread over zones and nodes (core/v1 TopologySpreadConstraint); by default across hosts.',
      opaqueObject('A core/v1 TopologySpreadConstraint.'),
      { maxItems: 8, listType: 'atomic' },
    ),
    priorityClassName: string('The PriorityClass of the relay pods.', { maxLength: 253 }),
    image: string(
      "The relay image of this relay's pods (`registry/name:tag`, `…@sha256:…`) instead of the operator's `--relay-image`: pins this fleet's relay version while the operator is upgraded (docs/version-skew.md).",
      { maxLength: 512, minLength: 1, pattern: '^[^\\s]+$' },
    ),
    labels: labelMap('Extra labels on the relay pods.', 32),
    annotations: map(
      'Extra annotations on the relay pods.',
      string('The annotation value.', { maxLength: 4096 }),
      {
        maxProperties: 32,
      },
    ),
  },
  { default: {} },
);

export const monitoring = object(
  'Monitoring',
  'Prometheus Operator objects for the relay (the CRDs must be installed).',
  {
    serviceMonitor: object(
      'ServiceMonitorSpec',
      'A ServiceMonitor scraping every relay pod.',
      {
        enabled: boolean('Create the ServiceMonitor.', false),
        interval: duration('How often Prometheus scrapes.', '30s'),
        labels: labelMap('Labels on the ServiceMonitor, e.g. the ones your Prometheus selects.', 16),
      },
      { default: {} },
    ),
    prometheusRule: object(
      'PrometheusRuleSpec',
      'A PrometheusRule with alerts on queue age, deferrals, bounces and TLS failures.',
      {
        enabled: boolean('Create the PrometheusRule.', false),
        labels: labelMap('Labels on the PrometheusRule.', 16),
        oldestQueuedWarning: duration('Alert when the oldest queued message is older than this.', '1h'),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export const networkPolicy = object(
  'RelayNetworkPolicy',
  'A NetworkPolicy admitting to the relay pods only SMTP on the listener ports and scrapes of the metrics port (the cluster needs a network plugin that enforces NetworkPolicies).',
  {
    enabled: boolean('Create the NetworkPolicy.', false),
    smtpFrom: cidrList(
      'Networks that may connect to the SMTP listeners. Empty: every source (AUTH and clientNetworks still decide who relays). Drain handoffs between the relay pods are always admitted.',
      'leave the list empty to admit every source',
    ),
    metricsFromNamespaces: list(
      'Namespaces whose pods may scrape the metrics port (9090), e.g. the one Prometheus runs in; the operator’s own namespace is always added (it reads /queuez there while the relay is deleted). Empty: every namespace.',
      string('A namespace name.', { maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
      { maxItems: 16, listType: 'set' },
    ),
  },
  { default: {} },
);
