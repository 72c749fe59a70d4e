// The relay's receiving-side metrics, declared once with fixed, bounded labels. The one Registry is
// created in main.ts and passed in. docs/relay-metrics.md is generated from these declarations.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CounterTally, GaugeTally } from './metric-tally.ts';
import type { TlsContexts } from './smtp/live-settings.ts';
import { tokenFailureReasons } from './smtp/service-account-token.ts';
import { rejectionReasons } from './smtp/replies.ts';

/** The values of each bounded label, by metric: docs/relay-metrics.md and the monitoring tests read these. */
export const receivingLabelValues = {
  mailfleet_relay_connection_limit_refusals_total: { limit: ['global', 'per_ip'] },
  mailfleet_relay_rejections_total: { reason: rejectionReasons },
  mailfleet_relay_auth_failures_total: { reason: ['bad_credentials', 'bad_token', 'rate_limited'] },
  mailfleet_relay_auth_token_failures_total: { reason: tokenFailureReasons },
  mailfleet_relay_tls_sessions_total: { protocol: ['TLSv1.2', 'TLSv1.3', 'other'] },
  mailfleet_relay_rate_limit_hits_total: {
    key: ['client_ip', 'user', 'sender_domain', 'namespace', 'auth_ip', 'auth_user'],
  },
  mailfleet_relay_config_reloads_total: { result: ['applied', 'refused'] },
} as const satisfies LabelValues;

/** Metric name → label name → every value that label takes (labels not listed are named in the docs). */
export type LabelValues = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;

export function createRelayMetrics(registry: Registry) {
  const registers = [registry];
  // What every connection and message moves, counted where it happens and added when read.
  const tallies = {
    connections: new CounterTally('listener'),
    activeSessions: new GaugeTally('listener'),
    messagesReceived: new CounterTally('listener'),
    senderDomainMessages: new CounterTally('sender_domain'),
  };
  return {
    tallies,
    connections: new Counter({
      name: 'mailfleet_relay_connections_total',
      help: 'SMTP connections that reached the banner stage, by listener.',
      labelNames: ['listener'] as const,
      registers,
      collect() {
        tallies.connections.flushInto(this);
      },
    }),
    activeSessions: new Gauge({
      name: 'mailfleet_relay_sessions_active',
      help: 'SMTP sessions currently open, by listener.',
      labelNames: ['listener'] as const,
      registers,
      collect() {
        tallies.activeSessions.setInto(this);
      },
    }),
    underStress: new Gauge({
      name: 'mailfleet_relay_under_stress',
      help: 'Whether the relay is under connection stress (limits.stressThreshold reached): 1 or 0.',
      registers,
    }),
    connectionLimitRefusals: new Counter({
      name: 'mailfleet_relay_connection_limit_refusals_total',
      help: 'Connections refused with 421 by a connection limit (limit: global or per_ip).',
      labelNames: ['listener', 'limit'] as const,
      registers,
    }),
    rejections: new Counter({
      name: 'mailfleet_relay_rejections_total',
      help: 'SMTP commands or messages refused by the relay, by reason.',
      labelNames: ['listener', 'reason'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'mailfleet_relay_auth_failures_total',
      help: 'Failed SMTP AUTH attempts (bad_credentials, bad_token or rate_limited).',
      labelNames: ['listener', 'reason'] as const,
      registers,
    }),
    tokenAuthFailures: new Counter({
      name: 'mailfleet_relay_auth_token_failures_total',
      help: `ServiceAccount tokens refused at AUTH, by reason (${tokenFailureReasons.join(', ')}).`,
      labelNames: ['listener', 'reason'] as const,
      registers,
    }),
    authFailureDelay: new Histogram({
      name: 'mailfleet_relay_auth_failure_delay_seconds',
      help: 'Delay before a failed AUTH reply, growing with the client address’s recent failures (case 29; undelayed failures are not observed).',
      labelNames: ['listener'] as const,
      buckets: [0.25, 0.5, 1, 2, 4],
      registers,
    }),
    messagesReceived: new Counter({
      name: 'mailfleet_relay_messages_received_total',
      help: 'Messages accepted and made durable (answered 250).',
      labelNames: ['listener'] as const,
      registers,
      collect() {
        tallies.messagesReceived.flushInto(this);
      },
    }),
    // Label values come from the relay's own config (policy.senderDomains), never from the
    // envelope, so they are as bounded as the listener names.
    senderDomainMessages: new Counter({
      name: 'mailfleet_relay_sender_domain_messages_total',
      help: 'Messages accepted, by the declared sender domain they are sent as ("undeclared" when policy.senderDomains is empty or MAIL FROM is <>).',
      labelNames: ['sender_domain'] as const,
      registers,
      collect() {
        tallies.senderDomainMessages.flushInto(this);
      },
    }),
    // The namespace is one some SenderDomain grants (a config value) or "other", so the label is as
    // bounded as the SenderDomains: a token of any namespace of the cluster cannot add a series.
    serviceAccountMessages: new Counter({
      name: 'mailfleet_relay_service_account_messages_total',
      help: 'Messages accepted from ServiceAccount tokens, by the ServiceAccount namespace ("other" when no SenderDomain grants that namespace).',
      labelNames: ['namespace'] as const,
      registers,
    }),
    messageSize: new Histogram({
      name: 'mailfleet_relay_message_size_bytes',
      help: 'Size of accepted messages as received, before trace headers.',
      labelNames: ['listener'] as const,
      buckets: [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
      registers,
    }),
    tlsSessions: new Counter({
      name: 'mailfleet_relay_tls_sessions_total',
      help: 'TLS sessions established (STARTTLS or implicit TLS), by protocol version.',
      labelNames: ['listener', 'protocol'] as const,
      registers,
    }),
    rateLimitHits: new Counter({
      name: 'mailfleet_relay_rate_limit_hits_total',
      help: 'Requests refused by a token bucket (key: client_ip, user, sender_domain, namespace, auth_ip, auth_user; auth_user counts per client address and user).',
      labelNames: ['listener', 'key'] as const,
      registers,
    }),
    pipeliningViolations: new Counter({
      name: 'mailfleet_relay_pipelining_violations_total',
      help: 'Transactions whose body arrived before the 354 reply.',
      labelNames: ['listener'] as const,
      registers,
    }),
    configReloads: new Counter({
      name: 'mailfleet_relay_config_reloads_total',
      help: 'Configuration reload attempts (result: applied or refused).',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export const tlsCertificateExpiryMetricName = 'mailfleet_relay_tls_certificate_expiry_timestamp_seconds';

/**
 * When each served certificate expires, read from the settings in use at each scrape, so a reload
 * that swaps a certificate shows at the next scrape. `certificate` is the index in tls.certificates.
 */
export function createTlsCertificateMetrics(
  registry: Registry,
  current: () => TlsContexts | undefined,
): void {
  new Gauge({
    name: tlsCertificateExpiryMetricName,
    help: 'notAfter of each configured TLS certificate (index in tls.certificates), seconds since the epoch.',
    labelNames: ['certificate'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [index, expiresAt] of (current()?.expiresAt ?? []).entries()) {
        this.set({ certificate: String(index) }, expiresAt);
      }
    },
  });
}

/** Known TLS protocol versions; anything else is counted as "other" to keep the label bounded. */
export function tlsProtocolLabel(protocol: string | null | undefined): string {
  return protocol === 'TLSv1.3' || protocol === 'TLSv1.2' ? protocol : 'other';
}
