// Prometheus Operator objects: a ServiceMonitor scraping every relay pod through the peers Service,
// and a PrometheusRule alerting on queue age, deferrals, bounces and outbound TLS failures of this
// one relay, with its own thresholds. Its alerts are named MailfleetSmtpRelay* so they never share
// a name with the chart's fleet-wide rules (docs/alerts.md says which to enable). Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { httpPortName, metricsPath } from './relay-paths.ts';
import { objectNames, ownedMetadata, relayNamespace, selectorLabels } from './relay-names.ts';
import { serviceRoleLabel } from './relay-services.ts';
import { parseDurationSeconds } from './units.ts';

export function renderServiceMonitor(relay: SmtpRelay): KubeObject | undefined {
  const monitor = relay.spec.monitoring.serviceMonitor;
  if (!monitor.enabled) return undefined;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: ownedMetadata(relay, objectNames.serviceMonitor(relay), { ...monitor.labels }),
    spec: {
      selector: { matchLabels: { ...selectorLabels(relay), [serviceRoleLabel]: 'peers' } },
      namespaceSelector: { matchNames: [relayNamespace(relay)] },
      endpoints: [{ port: httpPortName, path: metricsPath, interval: monitor.interval }],
    },
  };
}

export function renderPrometheusRule(relay: SmtpRelay): KubeObject | undefined {
  const rule = relay.spec.monitoring.prometheusRule;
  if (!rule.enabled) return undefined;
  const name = relay.metadata.name ?? '';
  const series = `namespace="${relayNamespace(relay)}",service="${objectNames.peersService(relay)}"`;
  const recipients = (result: string) =>
    `sum(rate(mailfleet_relay_delivery_recipients_total{${series},result="${result}"}[15m]))`;
  const allRecipients = `sum(rate(mailfleet_relay_delivery_recipients_total{${series}}[15m]))`;
  const labels = { severity: 'warning', smtprelay: name };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: ownedMetadata(relay, objectNames.prometheusRule(relay), { ...rule.labels }),
    spec: {
      groups: [
        {
          name: `mailfleet-relay-${name}`,
          rules: [
            {
              alert: 'MailfleetSmtpRelayOldestQueuedMessage',
              expr: `max(mailfleet_relay_queue_oldest_message_age_seconds{${series}}) > ${parseDurationSeconds(rule.oldestQueuedWarning)}`,
              for: '5m',
              labels,
              annotations: {
                summary: `A message has waited in the queue of SmtpRelay ${name} longer than ${rule.oldestQueuedWarning}.`,
              },
            },
            {
              alert: 'MailfleetSmtpRelayDeferrals',
              expr: `${recipients('deferred')} / ${allRecipients} > 0.1`,
              for: '15m',
              labels,
              annotations: { summary: `Over 10% of delivery attempts of SmtpRelay ${name} are deferred.` },
            },
            {
              alert: 'MailfleetSmtpRelayBounces',
              expr: `${recipients('bounced')} / ${allRecipients} > 0.05`,
              for: '15m',
              labels,
              annotations: { summary: `Over 5% of recipients of SmtpRelay ${name} bounce.` },
            },
            {
              alert: 'MailfleetSmtpRelayOutboundTlsFailures',
              expr: `sum(rate(mailfleet_relay_delivery_tls_sessions_total{${series},result="failed"}[15m])) > 0`,
              for: '15m',
              labels,
              annotations: {
                summary: `Outbound TLS of SmtpRelay ${name} fails where it is required; mail is deferred.`,
              },
            },
          ],
        },
      ],
    },
  };
}
