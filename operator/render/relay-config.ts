// The relay config an SmtpRelay becomes: exactly the relay's own type (relay/config/types.ts), so
// the relay's schema is the contract and a contract test validates every rendering. Pure.
//
// What the relay cannot do as the API says is rendered as close as it safely can. Listed in
// `unsupported` (each naming the field, for the Degraded condition): a queue lifetime under 60 s.
// Only documented (docs/operator.md), since they hold for every relay:
// - per-listener AUTH and TLS: one users file, one token issuer and one certificate per relay; a listener's
//   `auth: Disabled` / `tls: None` become offerAuth / offerStartTls false;
// - the retry schedule: the relay doubles from the first wait up to the longest one;
import type { DeliveryConfig, SmarthostTls } from '../../relay/config/delivery-schema.ts';
import type {
  ListenerConfig,
  ListenerMode,
  RelayConfig,
  SenderDomainConfig,
  TokenBucketConfig,
} from '../../relay/config/types.ts';
import { validateRelayConfig } from '../../relay/config/validate.ts';
import type { RateLimit, SmtpListener, SmtpRelay } from '../api/types.generated.ts';
import {
  containerPortFor,
  httpPort,
  queueAdminPort,
  queueDir,
  smarthostCredentialsPath,
  tlsCertificatePath,
  tlsPrivateKeyPath,
  usersFilePath,
} from './relay-paths.ts';
import { podDnsName, relayName, relayNamespace } from './relay-names.ts';
import { dkimKeyPath, type BoundDomain } from './relay-secret.ts';
import { renderTokenAuth, serviceAccountGrants, type IssuerKeysResult } from './relay-token-auth.ts';
import { parseByteQuantity, parseDurationSeconds } from './units.ts';

export interface RelayConfigInputs {
  /** The relay as served (defaults applied by the apiserver). */
  readonly relay: SmtpRelay;
  /** The SenderDomains it sends for, in a stable order, with their current signing keys. */
  readonly domains: readonly BoundDomain[];
  readonly clusterDomain: string;
  /** The cluster's ServiceAccount issuer keys, read when the relay takes tokens (spec.serviceAccountTokens). */
  readonly issuer?: IssuerKeysResult | undefined;
}

export interface RenderedRelayConfig {
  readonly config: RelayConfig;
  /** Settings the relay cannot honour as written, each naming the field. */
  readonly unsupported: readonly string[];
  /** Why the relay could not run this config at all (nothing is applied), each naming the field. */
  readonly errors: readonly string[];
}

/** The relay's own defaults for what the API does not expose: its schema fills in a minimal config. */
const relayDefaults: RelayConfig = (() => {
  const result = validateRelayConfig(
    { hostname: 'defaults.invalid', listeners: [{ name: 'defaults', port: 0, mode: 'relay' }] },
    'relay defaults',
  );
  if (!result.ok) throw new Error(`the relay's defaults do not validate: ${result.errors.join('; ')}`);
  return result.config;
})();

/** The smallest free space the spool insists on: the relay's default, or a quarter of a small volume. */
function minFreeBytesFor(volumeBytes: number): number {
  return Math.min(relayDefaults.queue.minFreeBytes, Math.floor(volumeBytes / 4));
}

export function listenerMode(listener: SmtpListener): ListenerMode {
  if (listener.tls === 'Implicit') return 'implicit-tls';
  return listener.auth === 'Required' ? 'submission' : 'relay';
}

function tokenBucket(rate: RateLimit): TokenBucketConfig {
  const periodMinutes = parseDurationSeconds(rate.period) / 60;
  // A fixed window lets the whole allowance through at once; so does a bucket of that size.
  return { perMinute: rate.messages / periodMinutes, burst: rate.messages };
}

function rateLimits(relay: SmtpRelay): RelayConfig['policy']['rateLimits'] {
  const { ratePerClient, ratePerUser, ratePerSenderDomain, ratePerNamespace } = relay.spec.limits;
  return {
    ...(ratePerClient === undefined ? {} : { perClientIp: tokenBucket(ratePerClient) }),
    ...(ratePerUser === undefined ? {} : { perUser: tokenBucket(ratePerUser) }),
    ...(ratePerSenderDomain === undefined ? {} : { perSenderDomain: tokenBucket(ratePerSenderDomain) }),
    ...(ratePerNamespace === undefined ? {} : { perNamespace: tokenBucket(ratePerNamespace) }),
  };
}

function senderDomains(relay: SmtpRelay, domains: readonly BoundDomain[]): SenderDomainConfig[] {
  return domains.map(({ senderDomain, keys }) => {
    const domain = senderDomain.spec.domain;
    const authorized = senderDomain.spec.authorizedUsers ?? [];
    // `*` allows every authenticated user (no list); without AUTH on the relay there are no users.
    const users = relay.spec.auth === undefined || authorized.includes('*') ? {} : { users: [...authorized] };
    const tokens =
      relay.spec.serviceAccountTokens === undefined
        ? {}
        : { serviceAccounts: serviceAccountGrants(senderDomain) };
    return {
      domain,
      ...users,
      ...tokens,
      allowNetworks: true,
      ...(keys.length === 0
        ? {}
        : {
            dkim: keys.map((key) => ({
              selector: key.selector,
              algorithm: key.algorithm,
              privateKeyFile: dkimKeyPath(domain, key),
            })),
          }),
    };
  });
}

function listeners(relay: SmtpRelay): ListenerConfig[] {
  const trusted = relay.spec.trustedProxies ?? [];
  return relay.spec.listeners.map((listener) => ({
    name: listener.name,
    port: containerPortFor(listener.port),
    mode: listenerMode(listener),
    // 465 with AUTH required is submission over implicit TLS: nobody relays there unauthenticated.
    ...(listener.tls === 'Implicit' && listener.auth === 'Required' ? { requireAuth: true } : {}),
    ...(listener.requireTls && listener.tls === 'StartTLS' ? { requireTls: true } : {}),
    // AUTH and STARTTLS are configured once per relay; a listener can still decline to offer them.
    ...(listener.auth === 'Disabled' &&
    (relay.spec.auth !== undefined || relay.spec.serviceAccountTokens !== undefined)
      ? { offerAuth: false }
      : {}),
    ...(listener.tls === 'None' && relay.spec.tls !== undefined ? { offerStartTls: false } : {}),
    ...(listener.proxyProtocol ? { proxyProtocolTrustedPeers: [...trusted] } : {}),
  }));
}

/** Every pod of the relay, at the first listener that takes mail without AUTH, takes the queue on drain. */
function drainPeers(relay: SmtpRelay, clusterDomain: string): string[] {
  const handoff = relay.spec.listeners.find((listener) => listenerMode(listener) === 'relay');
  if (handoff === undefined) return [];
  const port = containerPortFor(handoff.port);
  return Array.from(
    { length: relay.spec.replicas },
    (_, ordinal) => `${podDnsName(relay, ordinal, clusterDomain)}:${port}`,
  );
}

function delivery(relay: SmtpRelay, clusterDomain: string): DeliveryConfig {
  const spec = relay.spec.delivery;
  const waits = spec.retrySchedule.map((wait) => Math.max(1, Math.ceil(parseDurationSeconds(wait))));
  const common = {
    dnsServers: relayDefaults.delivery.dnsServers,
    mxPort: relayDefaults.delivery.mxPort,
    concurrencyPerDestination: relayDefaults.delivery.concurrencyPerDestination,
    maxConcurrentDeliveries: relayDefaults.delivery.maxConcurrentDeliveries,
    connectTimeoutSeconds: relayDefaults.delivery.connectTimeoutSeconds,
    retryInitialSeconds: waits[0] ?? relayDefaults.delivery.retryInitialSeconds,
    retryMaxSeconds: Math.max(...waits, waits[0] ?? relayDefaults.delivery.retryMaxSeconds),
    drainPeers: drainPeers(relay, clusterDomain),
    mtaSts: spec.direct.mtaSts === 'Enforce',
    allowPlaintextFallback: spec.direct.tls === 'Opportunistic',
    allowPrivateDestinations: spec.direct.allowPrivateDestinations,
  };
  const smarthost = spec.smarthost;
  if (spec.mode !== 'Smarthost' || smarthost === undefined) return { mode: 'mx', ...common };
  const tls = smarthostTls[smarthost.tls];
  const encrypted = tls === 'required' || tls === 'implicit';
  return {
    mode: 'smarthost',
    smarthost: {
      host: smarthost.host,
      port: smarthost.port,
      tls,
      ...(encrypted && !smarthost.verifyCertificate ? { verifyCertificate: false } : {}),
      ...(smarthost.credentialsSecretRef === undefined ? {} : { credentialsFile: smarthostCredentialsPath }),
    },
    ...common,
  };
}

const smarthostTls = {
  StartTLS: 'required',
  Implicit: 'implicit',
  Opportunistic: 'opportunistic',
  None: 'none',
} as const satisfies Record<string, SmarthostTls>;

function unsupportedSettings(relay: SmtpRelay): string[] {
  const notes: string[] = [];
  if (parseDurationSeconds(relay.spec.delivery.maxQueueLifetime) < 60) {
    notes.push(
      `spec.delivery.maxQueueLifetime: ${relay.spec.delivery.maxQueueLifetime} is below the relay's minimum of 60s; rendered as 60s`,
    );
  }
  return notes;
}

/** Listeners whose ports meet inside the pod: two on one container port, or one on the HTTP or admin port. */
function portConflicts(relay: SmtpRelay): string[] {
  const errors: string[] = [];
  const reserved = new Map([
    [httpPort, "the relay's HTTP port (metrics and probes)"],
    [queueAdminPort, "the relay's queue admin port"],
  ]);
  const taken = new Map<number, number>();
  relay.spec.listeners.forEach((listener, index) => {
    const inside = containerPortFor(listener.port);
    const field = `spec.listeners[${index}].port`;
    const owner = reserved.get(inside);
    const earlier = taken.get(inside);
    if (owner !== undefined) {
      errors.push(
        `${field}: ${listener.port} needs container port ${inside}, which is ${owner}; choose another port`,
      );
    } else if (earlier !== undefined) {
      errors.push(
        `${field}: ${listener.port} needs container port ${inside}, as does spec.listeners[${earlier}].port ${relay.spec.listeners[earlier]?.port ?? ''} (ports below 1024 move up: 25→2525, 587→5587, 465→4465, others +10000); choose another port`,
      );
    }
    taken.set(inside, index);
  });
  return errors;
}

export function relayHostname(relay: SmtpRelay, clusterDomain: string): string {
  const named = relay.spec.tls?.dnsNames?.[0];
  return named ?? `${relayName(relay)}.${relayNamespace(relay)}.svc.${clusterDomain}`;
}

export function renderRelayConfig(inputs: RelayConfigInputs): RenderedRelayConfig {
  const { relay, domains, clusterDomain } = inputs;
  const spec = relay.spec;
  const tokens = renderTokenAuth(relay, inputs.issuer);
  const volumeBytes = parseByteQuantity(spec.queue.size);
  // A deleted SmtpRelay's pods are retired (they refuse new mail and deliver what they hold) until
  // the deletion goes on; every pod retires at once, so none is left to take a hand-off.
  const retiring = relay.metadata.deletionTimestamp !== undefined;
  const config: RelayConfig = {
    hostname: relayHostname(relay, clusterDomain),
    listeners: listeners(relay),
    ...(spec.tls === undefined
      ? {}
      : {
          tls: {
            certificates: [{ certFile: tlsCertificatePath, keyFile: tlsPrivateKeyPath }],
            minVersion: spec.tls.minVersion,
            ciphers: spec.tls.ciphers,
          },
        }),
    ...(spec.auth === undefined
      ? {}
      : {
          auth: {
            usersFile: usersFilePath,
            maxFailuresPerConnection: spec.auth.maxFailuresPerConnection,
            loginCacheSeconds: relayDefaults.auth?.loginCacheSeconds ?? 300,
            failuresPerClientIp: relayDefaults.auth?.failuresPerClientIp ?? { perMinute: 10, burst: 10 },
            failuresPerUser: relayDefaults.auth?.failuresPerUser ?? { perMinute: 10, burst: 10 },
          },
        }),
    ...(tokens.tokenAuth === undefined ? {} : { tokenAuth: tokens.tokenAuth }),
    policy: {
      allowedNetworks: [...(spec.clientNetworks ?? [])],
      senderDomains: senderDomains(relay, domains),
      maxMessageBytes: parseByteQuantity(spec.limits.messageSize),
      maxRecipients: spec.limits.recipientsPerMessage,
      maxReceivedHeaders: relayDefaults.policy.maxReceivedHeaders,
      bareLineEndings: relayDefaults.policy.bareLineEndings,
      pipelining: relayDefaults.policy.pipelining,
      rateLimits: rateLimits(relay),
    },
    limits: {
      maxConnections: spec.limits.connections,
      maxConnectionsPerIp: spec.limits.connectionsPerClient,
      commandTimeoutSeconds: relayDefaults.limits.commandTimeoutSeconds,
      stressThreshold: relayDefaults.limits.stressThreshold,
      stressCommandTimeoutSeconds: relayDefaults.limits.stressCommandTimeoutSeconds,
      sessionTimeoutSeconds: relayDefaults.limits.sessionTimeoutSeconds,
      greetingDelayMs: relayDefaults.limits.greetingDelayMs,
      drainTimeoutSeconds: parseDurationSeconds(spec.queue.drainTimeout),
    },
    http: { port: httpPort },
    log: { level: relayDefaults.log.level },
    queue: {
      dir: queueDir,
      minFreeBytes: minFreeBytesFor(volumeBytes),
      maxLifetimeSeconds: Math.max(60, Math.ceil(parseDurationSeconds(spec.delivery.maxQueueLifetime))),
      delayWarningSeconds: Math.ceil(parseDurationSeconds(spec.delivery.bounces.delayWarningAfter)),
      sendReports: spec.delivery.bounces.enabled,
      ...(spec.delivery.bounces.from === undefined ? {} : { reportsFrom: spec.delivery.bounces.from }),
      adminPort: queueAdminPort,
      commitDelayMs: relayDefaults.queue.commitDelayMs,
    },
    delivery: retiring
      ? { ...delivery(relay, clusterDomain), drainPeers: [] }
      : delivery(relay, clusterDomain),
    retiring,
  };
  return {
    config,
    unsupported: unsupportedSettings(relay),
    errors: [...portConflicts(relay), ...tokens.errors],
  };
}
