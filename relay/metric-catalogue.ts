// Every metric the relay exports, declared by the modules that own them and gathered here with
// stand-in sources (only names, types, help texts and labels matter; nothing is scraped):
// docs/relay-metrics.md is generated from it and the monitoring tests check the dashboard and the
// alert rules against it.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createDeliveryMetrics, deliveryLabelValues } from './delivery/metrics.ts';
import { createReadinessMetric } from './readiness.ts';
import {
  createRelayMetrics,
  createTlsCertificateMetrics,
  receivingLabelValues,
  type LabelValues,
} from './metrics.ts';
import { createQueueMetrics, queueLabelValues } from './queue/metrics.ts';

/** The values of each bounded label of the relay's metrics, by metric name. */
export const relayLabelValues: LabelValues = {
  ...receivingLabelValues,
  ...deliveryLabelValues,
  ...queueLabelValues,
};

export interface MetricGroup {
  readonly title: string;
  /** The modules that declare the group's metrics. */
  readonly sources: readonly string[];
  readonly register: (registry: Registry) => void;
}

const idleSpool = {
  size: () => 0,
  oldestReceivedAt: () => undefined,
  freeBytes: () => 0,
  minFreeBytes: 0,
  directorySync: { rounds: 0, directoryFsyncs: 0, requests: 0 },
  segmentLog: { rounds: 0, appends: 0, segments: 0 },
  quarantine: { counts: () => ({ unparseable: 0, future_version: 0 }) },
};

/** The relay's metrics by the module that declares them, in the order the reference lists them. */
export const relayMetricGroups: readonly MetricGroup[] = [
  {
    title: 'Receiving side',
    sources: ['relay/metrics.ts'],
    register: (registry) => {
      createRelayMetrics(registry);
      createTlsCertificateMetrics(registry, () => undefined);
    },
  },
  {
    title: 'Readiness',
    sources: ['relay/readiness.ts'],
    register: (registry) => {
      createReadinessMetric(registry, { phase: 'serving' }, () => true);
    },
  },
  {
    title: 'Queue',
    sources: ['relay/queue/metrics.ts'],
    register: (registry) => {
      createQueueMetrics(registry, idleSpool, () => 0);
    },
  },
  {
    title: 'Delivery',
    sources: ['relay/delivery/metrics.ts'],
    register: (registry) => {
      createDeliveryMetrics(registry);
    },
  },
];

/** Node.js process metrics carry this prefix, as relay/main.ts registers them. */
export const processMetricsPrefix = 'mailfleet_relay_';

/** The relay's Registry as relay/main.ts fills it, every group and the process metrics. */
export function relayMetricCatalogue(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: processMetricsPrefix });
  for (const group of relayMetricGroups) group.register(registry);
  return registry;
}
