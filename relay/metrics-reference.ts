// The relay metrics reference (docs/relay-metrics.md), rendered from the metric declarations
// themselves (name, type, help, labels) and their declared label values, so the reference, the
// dashboard test and the alert tests read one list.
import { Registry } from 'prom-client';
import type { LabelValues } from './metrics.ts';
import { processMetricsPrefix, relayLabelValues, relayMetricGroups } from './metric-catalogue.ts';

interface DeclaredMetric {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

function labelsCell(metric: DeclaredMetric, values: LabelValues): string {
  return (metric.labelNames ?? [])
    .map((label) => {
      const known = values[metric.name]?.[label];
      // The rejection reasons are listed below the table: too many for a cell.
      if (known === undefined || known.length > 8) return `\`${label}\``;
      return `\`${label}\` (${known.map((value) => `\`${value}\``).join(', ')})`;
    })
    .join(', ');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function relayMetricsReference(values: LabelValues = relayLabelValues): string {
  const lines = [
    '# Relay metrics',
    '',
    'Generated from the metric declarations (`relay/metric-catalogue.ts` lists the modules) by',
    '`relay/metrics-reference.ts`. Do not edit.',
    '',
    'Each relay serves Prometheus metrics on `http.port` (default 9090) at `/metrics`, next to',
    '`/healthz` (the process is alive), `/readyz` (200 only while serving and while the spool has',
    'disk space; 503 while starting, retired, draining or out of disk) and `/queuez` (JSON',
    '`{"phase":"serving","messages":12}`: the phase (`starting`, `serving`, `retiring`, `draining`) and',
    'the messages queued; the operator reads it while a deleted SmtpRelay waits for its pods, see',
    '[reliability.md](reliability.md#deleting-a-relay)). One Registry per process; every label is',
    'bounded: `listener` is a configured listener name, `sender_domain` a `policy.senderDomains` domain',
    '(or `undeclared`), `namespace` a namespace some SenderDomain grants (or `other`), `certificate` the index of a certificate in `tls.certificates` (`0` is the',
    'default one; without `tls` the metric has no series), and every other label takes only the values',
    'listed here. Node.js process metrics are exported with the',
    `\`${processMetricsPrefix}\` prefix (\`${processMetricsPrefix}process_cpu_seconds_total\`, …).`,
    'Gauges read from the running relay (readiness, spool, certificates) are read at scrape time;',
    'counters count as things happen.',
  ];
  for (const group of relayMetricGroups) {
    const registry = new Registry();
    group.register(registry);
    const metrics = registry.getMetricsAsArray() as unknown as readonly DeclaredMetric[];
    lines.push(
      '',
      `## ${group.title} (${group.sources.map((source) => `\`${source}\``).join(', ')})`,
      '',
      '| Metric | Type | Labels | Meaning |',
      '| --- | --- | --- | --- |',
      ...metrics.map(
        (metric) =>
          `| \`${metric.name}\` | ${metric.type} | ${labelsCell(metric, values)} | ${escapeCell(metric.help)} |`,
      ),
    );
  }
  const reasons = values['mailfleet_relay_rejections_total']?.['reason'] ?? [];
  lines.push(
    '',
    '## Rejection reasons',
    '',
    'The `reason` of `mailfleet_relay_rejections_total` is the reason of the reply given, from the one',
    'catalogue of replies (`relay/smtp/replies.ts`): ' +
      reasons.map((reason) => `\`${reason}\``).join(', ') +
      '. Rejections smtp-server makes on its own (syntax errors, 421 to early talkers, its own 421 on',
    'shutdown) are not counted here.',
    '',
  );
  return lines.join('\n');
}
