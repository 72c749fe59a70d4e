// The relay configuration the benchmark runs mailfleet with (pure): the relay's own config format
// (relay/config), set up like the reference Postfix — loopback only, relaying for 127.0.0.0/8
// without AUTH, no TLS to the next hop, per-client limits out of the way (every client is 127.0.0.1).
// For the realistic set: STARTTLS, AUTH required of every client, DKIM keys per sender domain.
import type { DkimKeyFiles } from './realistic.ts';
import { dkimDomains } from './realistic.ts';

export interface MailfleetBenchSettings {
  readonly port: number;
  readonly nextHopPort: number;
  readonly spoolDirectory: string;
  /**
   * Hold deliveries back (there is no hold queue): one delivery at a time, to a next hop that never
   * greets, waited for an hour, so everything else stays queued until the relay restarts.
   */
  readonly stalledDelivery: boolean;
  readonly security?: MailfleetSecurity;
}

export interface MailfleetSecurity {
  readonly certFile: string;
  readonly keyFile: string;
  /** bcrypt `user:hash` lines. */
  readonly usersFile: string;
  readonly dkim: DkimKeyFiles;
}

function senderDomains(keys: DkimKeyFiles): Record<string, unknown>[] {
  return Object.values(dkimDomains).map((domain) => ({
    domain: domain.name,
    allowNetworks: false,
    dkim: [
      { selector: domain.rsaSelector, algorithm: 'rsa-sha256', privateKeyFile: keys.rsa },
      ...(domain.ed25519Selector === undefined
        ? []
        : [{ selector: domain.ed25519Selector, algorithm: 'ed25519-sha256', privateKeyFile: keys.ed25519 }]),
    ],
  }));
}

export function mailfleetBenchConfig(settings: MailfleetBenchSettings): Record<string, unknown> {
  const { security } = settings;
  const listener = { name: 'bench', address: '127.0.0.1', port: settings.port, mode: 'relay' };
  return {
    hostname: 'mailfleet.bench.example',
    ...(security === undefined
      ? { listeners: [listener], policy: { allowedNetworks: ['127.0.0.0/8'] } }
      : {
          // Like the realistic Postfix: STARTTLS offered, nobody relays without AUTH.
          listeners: [{ ...listener, requireAuth: true }],
          tls: { certificates: [{ certFile: security.certFile, keyFile: security.keyFile }] },
          auth: { usersFile: security.usersFile },
          policy: { allowedNetworks: [], senderDomains: senderDomains(security.dkim) },
        }),
    limits: {
      maxConnections: 2000,
      maxConnectionsPerIp: 2000,
      // Postfix without postscreen has no pre-greeting pause either.
      greetingDelayMs: 0,
      drainTimeoutSeconds: 5,
    },
    http: { address: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    queue: { dir: settings.spoolDirectory, adminPort: 0 },
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: settings.nextHopPort, tls: 'none' },
      // The sink is on loopback, which the SSRF guard refuses by default.
      allowPrivateDestinations: true,
      ...(settings.stalledDelivery
        ? { concurrencyPerDestination: 1, maxConcurrentDeliveries: 1, connectTimeoutSeconds: 3600 }
        : // Postfix's default_destination_concurrency_limit.
          { concurrencyPerDestination: 20 }),
    },
  };
}
