// Delivery's part of the relay config (key `delivery`), composed into the root schema.
import type { JSONSchemaType } from 'ajv';

export type SmarthostTls = 'required' | 'implicit' | 'opportunistic' | 'none';
export type DeliveryMode = 'smarthost' | 'mx';

export interface SmarthostConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: SmarthostTls;
  /** With required or implicit TLS: whether the certificate must verify (default true). */
  readonly verifyCertificate?: boolean;
  /** A file of one line `username:password`; AUTH is used only when present. */
  readonly credentialsFile?: string;
}

export interface DeliveryConfig {
  readonly mode: DeliveryMode;
  readonly smarthost?: SmarthostConfig;
  /** DNS servers (`ip` or `ip:port`) for MX, A/AAAA and MTA-STS lookups; the system's when empty. */
  readonly dnsServers: readonly string[];
  /** TCP port of MX hosts (25 in the real world). */
  readonly mxPort: number;
  /** Whether MX delivery honours MTA-STS policies (enforce: verified TLS or defer). */
  readonly mtaSts: boolean;
  /** Whether an MX without STARTTLS or with a failed handshake may get the message in plaintext. */
  readonly allowPlaintextFallback: boolean;
  /** SSRF guard: loopback, link-local, private and metadata destinations are refused unless true. */
  readonly allowPrivateDestinations: boolean;
  readonly concurrencyPerDestination: number;
  readonly maxConcurrentDeliveries: number;
  readonly retryInitialSeconds: number;
  readonly retryMaxSeconds: number;
  readonly connectTimeoutSeconds: number;
  /** Peer relays (`host:port`) that take the remaining queue on drain. */
  readonly drainPeers: readonly string[];
  /** DKIM signing threads (0: sign in the main thread); absent: one per core beyond the first, up to 2. */
  readonly signingThreads?: number;
}

const hostPort = {
  type: 'string',
  pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
  description: 'host:port (IPv6 in brackets)',
} as const;

export const deliveryConfigSchema: JSONSchemaType<DeliveryConfig> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'mode',
    'dnsServers',
    'mxPort',
    'mtaSts',
    'allowPlaintextFallback',
    'allowPrivateDestinations',
    'concurrencyPerDestination',
    'maxConcurrentDeliveries',
    'retryInitialSeconds',
    'retryMaxSeconds',
    'connectTimeoutSeconds',
    'drainPeers',
  ],
  description: 'How queued mail leaves: to a smarthost or directly to the MX of each recipient domain.',
  if: { properties: { mode: { const: 'smarthost' } }, required: ['mode'] },
  then: { properties: { smarthost: { type: 'object', required: [] } }, required: ['smarthost'] },
  properties: {
    mode: { type: 'string', enum: ['smarthost', 'mx'], default: 'mx', description: 'smarthost or mx' },
    smarthost: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['host', 'port', 'tls'],
      description: 'The next hop for every message in smarthost mode.',
      properties: {
        host: { type: 'string', minLength: 1, description: 'a hostname or IP address' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 587, description: 'TCP port' },
        tls: {
          type: 'string',
          enum: ['required', 'implicit', 'opportunistic', 'none'],
          default: 'required',
          description:
            'required: STARTTLS or defer; implicit: TLS from the first byte (port 465) or defer; opportunistic: STARTTLS when offered; none',
        },
        verifyCertificate: {
          type: 'boolean',
          nullable: true,
          description:
            'With required or implicit (default true): the certificate must verify (chain and name) or the mail is deferred. false accepts any certificate: encrypted, but open to an active attacker.',
        },
        credentialsFile: {
          type: 'string',
          nullable: true,
          minLength: 2,
          pattern: '^/',
          description: 'an absolute path to a file holding `username:password`',
        },
      },
    },
    dnsServers: {
      type: 'array',
      items: { type: 'string', minLength: 1, description: 'an IP address, optionally with :port' },
      default: [],
      description: 'Resolvers for MX, A/AAAA and MTA-STS lookups (the system resolver when empty).',
    },
    mxPort: { type: 'integer', minimum: 1, maximum: 65535, default: 25, description: 'TCP port of MX hosts' },
    mtaSts: { type: 'boolean', default: true, description: 'Honour MTA-STS policies.' },
    allowPlaintextFallback: {
      type: 'boolean',
      default: true,
      description: 'MX without a usable STARTTLS may receive plaintext (never under MTA-STS enforce).',
    },
    allowPrivateDestinations: {
      type: 'boolean',
      default: false,
      description: 'Allow delivery to loopback, link-local, private and metadata addresses (SSRF guard off).',
    },
    concurrencyPerDestination: {
      type: 'integer',
      minimum: 1,
      default: 4,
      description: 'Simultaneous connections per destination.',
    },
    maxConcurrentDeliveries: {
      type: 'integer',
      minimum: 1,
      default: 64,
      description: 'Messages in delivery at once.',
    },
    signingThreads: {
      type: 'integer',
      minimum: 0,
      maximum: 16,
      nullable: true,
      description:
        'Worker threads that DKIM-sign beside the main thread, each with its own copy of the signing library (about 50–60 MiB); 0 signs in the main thread. Absent: one per core beyond the first, at most 2.',
    },
    retryInitialSeconds: {
      type: 'integer',
      minimum: 1,
      default: 300,
      description: 'First retry delay; doubles per attempt.',
    },
    retryMaxSeconds: { type: 'integer', minimum: 1, default: 14400, description: 'Largest retry delay.' },
    connectTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      default: 30,
      description: 'Seconds to establish a connection to a next hop.',
    },
    drainPeers: {
      type: 'array',
      items: hostPort,
      default: [],
      description: 'Peer relays (host:port) that take over the queue on drain.',
    },
  },
};
