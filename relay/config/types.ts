// The relay's configuration: the contract with the operator, which renders exactly this type.
// The schema in schema.ts describes the same shape; loadRelayConfig() validates against it once.
import type { DeliveryConfig } from './delivery-schema.ts';
import type { DkimKeyConfig } from './dkim-schema.ts';
import type { QueueConfig } from './queue-schema.ts';
import type { TokenAuthConfig } from './token-auth-schema.ts';

export type ListenerMode = 'relay' | 'submission' | 'implicit-tls';
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';
export type LineEndingPolicy = 'reject' | 'normalise';
export type PipeliningPolicy = 'strict' | 'lenient';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ListenerConfig {
  readonly name: string;
  readonly port: number;
  /** Bind address; all interfaces when absent. */
  readonly address?: string;
  readonly mode: ListenerMode;
  /** Every client must authenticate before MAIL; default: mode is submission. */
  readonly requireAuth?: boolean;
  /** MAIL is refused (530 5.7.0) until the session is encrypted: STARTTLS first (RFC 3207). */
  readonly requireTls?: boolean;
  /** false: this listener never offers STARTTLS, even with /tls set (default true). */
  readonly offerStartTls?: boolean;
  /** false: this listener never offers AUTH, even with /auth set (default true). */
  readonly offerAuth?: boolean;
  /** Peers whose PROXY protocol v1/v2 header is read; every other peer is taken at its socket address. */
  readonly proxyProtocolTrustedPeers?: readonly string[];
}

export interface CertificateConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** SNI names served with this certificate; the first certificate is also the default. */
  readonly serverNames?: readonly string[];
}

export interface TokenBucketConfig {
  /** Sustained rate. */
  readonly perMinute: number;
  /** Largest burst above the sustained rate. */
  readonly burst: number;
}

export interface SenderDomainConfig {
  readonly domain: string;
  /** AUTH users allowed to send as this domain; absent means every authenticated user. */
  readonly users?: readonly string[];
  /**
   * ServiceAccounts (token AUTH) allowed to send as this domain: a whole namespace, or one account
   * by name. Absent or empty: none. A token identity is never matched against `users`.
   */
  readonly serviceAccounts?: readonly ServiceAccountGrant[];
  /** Whether clients from allowed networks (without AUTH) may send as this domain. Default true. */
  readonly allowNetworks?: boolean;
  /** DKIM keys; every key signs each message sent as this domain. */
  readonly dkim?: readonly DkimKeyConfig[];
}

export interface ServiceAccountGrant {
  readonly namespace: string;
  /** One ServiceAccount; every ServiceAccount of the namespace when absent. */
  readonly name?: string;
}

export interface PolicyConfig {
  /** CIDRs whose clients may relay without AUTH. */
  readonly allowedNetworks: readonly string[];
  /** When non-empty, MAIL FROM must be one of these domains (or a subdomain is NOT enough). */
  readonly senderDomains: readonly SenderDomainConfig[];
  readonly recipientDomainsAllowed?: readonly string[];
  readonly recipientDomainsDenied?: readonly string[];
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxReceivedHeaders: number;
  readonly bareLineEndings: LineEndingPolicy;
  readonly pipelining: PipeliningPolicy;
  readonly rateLimits: {
    readonly perClientIp?: TokenBucketConfig;
    readonly perUser?: TokenBucketConfig;
    readonly perSenderDomain?: TokenBucketConfig;
    /** Per namespace of the sending ServiceAccount (token AUTH): a tenant's share of the relay. */
    readonly perNamespace?: TokenBucketConfig;
  };
}

export interface AuthConfig {
  /** `username:hash` lines: bcrypt or an Argon2 PHC string. */
  readonly usersFile: string;
  /** Failed AUTH attempts on one connection before it is closed with 421. */
  readonly maxFailuresPerConnection: number;
  /** How long a verified login skips the hash check for the same password (login-cache.ts); 0: never. */
  readonly loginCacheSeconds: number;
  readonly failuresPerClientIp: TokenBucketConfig;
  readonly failuresPerUser: TokenBucketConfig;
}

export interface LimitsConfig {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Slots kept for clients in policy.allowedNetworks; 10% of maxConnections when absent. */
  readonly reservedConnectionsForAllowedNetworks?: number;
  /** Time allowed for the next command line (idle or trickling clients), outside message bodies. */
  readonly commandTimeoutSeconds: number;
  /** The share of maxConnections from which the relay is under stress. */
  readonly stressThreshold: number;
  /** The command timeout of untrusted, unauthenticated sessions under stress. */
  readonly stressCommandTimeoutSeconds: number;
  readonly sessionTimeoutSeconds: number;
  /** Silence before the banner during which a talking client is refused (early-talker check). */
  readonly greetingDelayMs: number;
  /** The same for clients in policy.allowedNetworks (in-cluster senders), which may skip the pause. */
  readonly allowedNetworksGreetingDelayMs?: number;
  /** How long SIGTERM waits for open sessions before closing them. */
  readonly drainTimeoutSeconds: number;
}

export interface HttpConfig {
  readonly port: number;
  readonly address?: string;
}

export interface RelayConfig {
  /** The name in the banner, EHLO reply and Received: headers. */
  readonly hostname: string;
  readonly listeners: readonly ListenerConfig[];
  readonly tls?: {
    readonly certificates: readonly CertificateConfig[];
    /** The lowest protocol version accepted from clients (default TLSv1.2). */
    readonly minVersion?: TlsMinVersion;
    /** The TLS 1.2 cipher suites, an OpenSSL cipher list (default: tls-profile.ts). */
    readonly ciphers?: string;
  };
  readonly auth?: AuthConfig;
  readonly tokenAuth?: TokenAuthConfig;
  readonly policy: PolicyConfig;
  readonly limits: LimitsConfig;
  readonly http: HttpConfig;
  readonly log: { readonly level: LogLevel };
  readonly queue: QueueConfig;
  readonly delivery: DeliveryConfig;
  /** Being retired: new mail refused with 421 4.3.2, not ready, the queue still delivered. Live. */
  readonly retiring: boolean;
}
