// Delivery's declared metrics: bounded labels only (never addresses, domains or queue ids).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { LabelValues } from '../metrics.ts';

const modes = ['smarthost', 'mx'] as const;

/** The values of each bounded label, by metric (docs/relay-metrics.md and the monitoring tests read these). */
export const deliveryLabelValues = {
  mailfleet_relay_delivery_recipients_total: { result: ['delivered', 'deferred', 'bounced'], mode: modes },
  mailfleet_relay_delivery_attempt_duration_seconds: { mode: modes },
  mailfleet_relay_delivery_tls_sessions_total: { result: ['tls', 'plaintext', 'failed'], mode: modes },
  mailfleet_relay_delivery_auth_withheld_total: { mode: modes },
  mailfleet_relay_delivery_auth_failures_total: { mode: modes },
  mailfleet_relay_dkim_signatures_total: {
    algorithm: ['rsa-sha256', 'ed25519-sha256', 'any'],
    result: ['signed', 'failed'],
  },
  mailfleet_relay_drain_handoff_messages_total: { result: ['handed-off', 'refused', 'unreachable'] },
} as const satisfies LabelValues;

export type DeliveryMetrics = ReturnType<typeof createDeliveryMetrics>;

export function createDeliveryMetrics(registry: Registry) {
  const registers = [registry];
  return {
    recipients: new Counter({
      name: 'mailfleet_relay_delivery_recipients_total',
      help: 'Recipient delivery outcomes.',
      labelNames: ['result', 'mode'] as const,
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'mailfleet_relay_delivery_attempt_duration_seconds',
      help: 'Duration of one delivery attempt to one destination (connect, TLS, transaction).',
      labelNames: ['mode'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    delaySeconds: new Histogram({
      name: 'mailfleet_relay_delivery_delay_seconds',
      help: 'End-to-end delay from acceptance to delivery, per delivered recipient.',
      buckets: [0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400, 432000],
      registers,
    }),
    tlsSessions: new Counter({
      name: 'mailfleet_relay_delivery_tls_sessions_total',
      help: 'Outbound sessions by transport security: tls, plaintext (allowed by policy) or failed (TLS required but not achieved).',
      labelNames: ['result', 'mode'] as const,
      registers,
    }),
    authWithheld: new Counter({
      name: 'mailfleet_relay_delivery_auth_withheld_total',
      help: 'Sessions to a next hop that did not end up encrypted, so the configured credentials were not sent (AUTH only inside TLS).',
      labelNames: ['mode'] as const,
      registers,
    }),
    authRefused: new Counter({
      name: 'mailfleet_relay_delivery_auth_failures_total',
      help: 'Sessions whose AUTH the next hop refused with 5xx (535 and the like): the mail is deferred, not bounced, until the credentials work.',
      labelNames: ['mode'] as const,
      registers,
    }),
    dkimSignatures: new Counter({
      name: 'mailfleet_relay_dkim_signatures_total',
      help: 'DKIM signatures added to outgoing messages, or failed (algorithm "any" for failures).',
      labelNames: ['algorithm', 'result'] as const,
      registers,
    }),
    bouncesGenerated: new Counter({
      name: 'mailfleet_relay_delivery_bounces_generated_total',
      help: 'Delivery status notifications queued to senders.',
      registers,
    }),
    delayWarningsGenerated: new Counter({
      name: 'mailfleet_relay_delivery_delay_warnings_generated_total',
      help: 'Delay warnings (RFC 3464 Action: delayed) queued to senders; one per message and attempt at most.',
      registers,
    }),
    handoffs: new Counter({
      name: 'mailfleet_relay_drain_handoff_messages_total',
      help: 'Messages handed to a peer relay on drain.',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}
