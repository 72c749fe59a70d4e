// The operator's configuration from flags and environment (a flag wins over its variable), checked
// once: every problem is reported, naming the flag, the value and what would be valid. Pure: argv
// and env come in as parameters.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { leaderElectionTimingsProblem, type LeaderElectionConfig } from './kube/lease.ts';
import { logLevels, type LogLevel } from './log.ts';

export interface OperatorOptions {
  /** Namespaces to watch; undefined means all. */
  readonly namespaces: readonly string[] | undefined;
  readonly relayImage: string;
  readonly logLevel: LogLevel;
  readonly kubeconfig: string | undefined;
  readonly http: { readonly host: string; readonly port: number };
  /**
   * Metrics over HTTPS for callers the API server authenticates and authorizes (case 38), on their
   * own port; when `secure` is false they are served in plain HTTP on the probes' port.
   */
  readonly metrics: { readonly secure: boolean; readonly port: number; readonly certDir: string | undefined };
  readonly leaderElection: LeaderElectionConfig & { readonly enabled: boolean };
  readonly resyncPeriodMs: number;
  readonly concurrency: number;
  /** The DNS server SenderDomain verification asks (`host:port`, as Resolver.setServers takes it); undefined for the system's. */
  readonly dnsResolver: string | undefined;
  /** How the records of a SenderDomain without spec.dnsPublishing.provider reach DNS. */
  readonly dnsPublishing: DnsPublishingProvider;
  /** The cluster's DNS domain, in the Service and pod names rendered into relay configs and certificates. */
  readonly clusterDomain: string;
  /**
   * The namespace the operator runs in (POD_NAMESPACE, from the downward API), admitted to the relay
   * pods' metrics port by their NetworkPolicy: it reads /queuez there while a relay is deleted.
   */
  readonly ownNamespace: string | undefined;
  /**
   * TEST ONLY (`MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN=1`, no flag): relays get no drain finalizer
   * and a deleted relay goes at once, so the real-node deletion test's negative control can show
   * the loss the finalizer prevents. Never set in a deployment; the operator logs a warning.
   */
  readonly testOnlySkipDeletionDrain: boolean;
  /**
   * TEST ONLY (`MAILFLEET_TEST_ONLY_NO_WRITE_FENCE=1`, no flag): the API client sends writes without
   * the leader's fence, so the fenced-leadership test can show what the API server's fence refuses
   * on its own, and that the test catches a late write with neither. Never set in a deployment; the
   * operator logs a warning.
   */
  readonly testOnlyNoWriteFence: boolean;
}

export const dnsPublishingProviders = ['Manual', 'ExternalDNS'] as const;
export type DnsPublishingProvider = (typeof dnsPublishingProviders)[number];

export type ParsedOptions =
  | { readonly ok: true; readonly options: OperatorOptions }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Each flag, its environment variable and its default (undefined: no default). */
const settings = {
  namespaces: { env: 'MAILFLEET_NAMESPACES', fallback: '' },
  'relay-image': { env: 'MAILFLEET_RELAY_IMAGE', fallback: 'ghcr.io/mailfleet/relay:0.1.0' },
  'log-level': { env: 'MAILFLEET_LOG_LEVEL', fallback: 'info' },
  kubeconfig: { env: 'KUBECONFIG', fallback: undefined },
  'http-host': { env: 'MAILFLEET_HTTP_HOST', fallback: '0.0.0.0' },
  'http-port': { env: 'MAILFLEET_HTTP_PORT', fallback: '8080' },
  'metrics-secure': { env: 'MAILFLEET_METRICS_SECURE', fallback: 'false' },
  'metrics-port': { env: 'MAILFLEET_METRICS_PORT', fallback: '8443' },
  'metrics-cert-dir': { env: 'MAILFLEET_METRICS_CERT_DIR', fallback: '' },
  'leader-elect': { env: 'MAILFLEET_LEADER_ELECT', fallback: 'true' },
  'leader-election-namespace': { env: 'MAILFLEET_LEADER_ELECTION_NAMESPACE', fallback: undefined },
  'leader-election-name': { env: 'MAILFLEET_LEADER_ELECTION_NAME', fallback: 'mailfleet-operator' },
  'leader-election-identity': { env: 'POD_NAME', fallback: undefined },
  'lease-duration': { env: 'MAILFLEET_LEASE_DURATION_SECONDS', fallback: '15' },
  'renew-deadline': { env: 'MAILFLEET_RENEW_DEADLINE_SECONDS', fallback: '10' },
  'retry-period': { env: 'MAILFLEET_RETRY_PERIOD_SECONDS', fallback: '2' },
  'resync-period': { env: 'MAILFLEET_RESYNC_PERIOD_SECONDS', fallback: '600' },
  concurrency: { env: 'MAILFLEET_CONCURRENCY', fallback: '2' },
  'dns-resolver': { env: 'MAILFLEET_DNS_RESOLVER', fallback: '' },
  'dns-publishing': { env: 'MAILFLEET_DNS_PUBLISHING', fallback: 'Manual' },
  'cluster-domain': { env: 'MAILFLEET_CLUSTER_DOMAIN', fallback: 'cluster.local' },
} as const satisfies Record<string, { env: string; fallback: string | undefined }>;

type Setting = keyof typeof settings;

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function usage(): string {
  const lines = Object.entries(settings).map(
    ([flag, { env, fallback }]) =>
      `  --${flag}=<value>  (env ${env}${fallback === undefined ? '' : `, default "${fallback}"`})`,
  );
  return ['usage: node operator/main.ts [flags]', ...lines].join('\n');
}

export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  /** The identity in the lease when no flag or POD_NAME gives one (main passes host name + random). */
  defaultIdentity: string,
): ParsedOptions {
  const errors: string[] = [];
  let flags: Partial<Record<Setting, string>> = {};
  try {
    const options = Object.fromEntries(
      Object.keys(settings).map((flag) => [flag, { type: 'string' as const }]),
    );
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    errors.push(`${error instanceof Error ? error.message : String(error)}\n${usage()}`);
  }
  const raw = (setting: Setting): string | undefined =>
    flags[setting] ?? env[settings[setting].env] ?? settings[setting].fallback;
  const describe = (setting: Setting) => `--${setting} (env ${settings[setting].env})`;

  const seconds = (setting: Setting, minimum: number): number => {
    const value = raw(setting) ?? '';
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < minimum) {
      errors.push(`${describe(setting)}: "${value}" is not a number of seconds >= ${minimum}`);
      return 0;
    }
    return Math.round(parsed * 1_000);
  };
  const integer = (setting: Setting, minimum: number, maximum: number): number => {
    const value = raw(setting) ?? '';
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < minimum || parsed > maximum) {
      errors.push(`${describe(setting)}: "${value}" is not an integer from ${minimum} to ${maximum}`);
      return 0;
    }
    return parsed;
  };

  const namespaceList = (raw('namespaces') ?? '').trim();
  let namespaces: string[] | undefined;
  if (namespaceList !== '' && namespaceList !== '*') {
    namespaces = [...new Set(namespaceList.split(',').map((namespace) => namespace.trim()))];
    for (const namespace of namespaces) {
      if (!dnsLabel.test(namespace) || namespace.length > 63) {
        errors.push(
          `${describe('namespaces')}: "${namespace}" is not a namespace name (a DNS label); use a comma list, or "" or "*" for all`,
        );
      }
    }
  }

  const logLevel = raw('log-level') ?? '';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    errors.push(`${describe('log-level')}: "${logLevel}" is not one of ${logLevels.join(', ')}`);
  }
  const relayImage = raw('relay-image') ?? '';
  if (relayImage.trim() === '' || /\s/.test(relayImage)) {
    errors.push(`${describe('relay-image')}: "${relayImage}" is not an image reference`);
  }
  const leaderElect = raw('leader-elect') ?? '';
  if (leaderElect !== 'true' && leaderElect !== 'false') {
    errors.push(`${describe('leader-elect')}: "${leaderElect}" is not true or false`);
  }
  const metricsSecure = raw('metrics-secure') ?? '';
  if (metricsSecure !== 'true' && metricsSecure !== 'false') {
    errors.push(`${describe('metrics-secure')}: "${metricsSecure}" is not true or false`);
  }
  const metricsCertDir = (raw('metrics-cert-dir') ?? '').trim();
  const leaseNamespace = raw('leader-election-namespace') ?? env['POD_NAMESPACE'] ?? 'mailfleet-system';
  if (!dnsLabel.test(leaseNamespace)) {
    errors.push(
      `${describe('leader-election-namespace')}: "${leaseNamespace}" is not a namespace name (a DNS label)`,
    );
  }
  const leaseName = raw('leader-election-name') ?? '';
  if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(leaseName)) {
    errors.push(`${describe('leader-election-name')}: "${leaseName}" is not a Lease name (a DNS subdomain)`);
  }
  const leaseDurationMs = seconds('lease-duration', 1);
  const renewDeadlineMs = seconds('renew-deadline', 1);
  const retryPeriodMs = seconds('retry-period', 0.1);
  const leaderElection = {
    enabled: leaderElect === 'true',
    namespace: leaseNamespace,
    name: leaseName,
    identity: raw('leader-election-identity') ?? defaultIdentity,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
  };
  // A value that did not parse is reported on its own above.
  const timingsParsed = leaseDurationMs > 0 && renewDeadlineMs > 0 && retryPeriodMs > 0;
  const timingsProblem = leaderElectionTimingsProblem(leaderElection);
  if (timingsParsed && timingsProblem !== undefined) errors.push(timingsProblem);
  const dnsResolver = (raw('dns-resolver') ?? '').trim();
  if (dnsResolver !== '' && !isResolverAddress(dnsResolver)) {
    errors.push(
      `${describe('dns-resolver')}: "${dnsResolver}" is not a DNS server address: use an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53), or "" for the system resolvers`,
    );
  }
  const dnsPublishing = raw('dns-publishing') ?? '';
  if (!(dnsPublishingProviders as readonly string[]).includes(dnsPublishing)) {
    errors.push(
      `${describe('dns-publishing')}: "${dnsPublishing}" is not a publishing provider: use ${dnsPublishingProviders.join(' or ')}`,
    );
  }
  const clusterDomain = (raw('cluster-domain') ?? '').trim().toLowerCase().replace(/\.$/, '');
  if (!isDnsName(clusterDomain)) {
    errors.push(
      `${describe('cluster-domain')}: "${raw('cluster-domain') ?? ''}" is not a DNS domain name (the kubelet's --cluster-domain, such as cluster.local)`,
    );
  }
  const options: OperatorOptions = {
    namespaces,
    relayImage,
    logLevel: logLevel as LogLevel,
    kubeconfig: raw('kubeconfig'),
    http: { host: raw('http-host') ?? '', port: integer('http-port', 0, 65_535) },
    metrics: {
      secure: metricsSecure === 'true',
      port: integer('metrics-port', 0, 65_535),
      certDir: metricsCertDir === '' ? undefined : metricsCertDir,
    },
    leaderElection,
    resyncPeriodMs: seconds('resync-period', 1),
    concurrency: integer('concurrency', 1, 64),
    dnsResolver: dnsResolver === '' ? undefined : dnsResolver,
    dnsPublishing: dnsPublishing as DnsPublishingProvider,
    clusterDomain,
    ownNamespace:
      env['POD_NAMESPACE'] !== undefined && dnsLabel.test(env['POD_NAMESPACE'])
        ? env['POD_NAMESPACE']
        : undefined,
    testOnlySkipDeletionDrain: env['MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN'] === '1',
    testOnlyNoWriteFence: env['MAILFLEET_TEST_ONLY_NO_WRITE_FENCE'] === '1',
  };
  return errors.length === 0 ? { ok: true, options } : { ok: false, errors };
}

/** Dot-separated DNS labels, at most 253 characters. */
function isDnsName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 253 &&
    name.split('.').every((label) => label.length <= 63 && dnsLabel.test(label))
  );
}

/** An IP address, optionally with a port (`[v6]:port` for IPv6), as node:dns setServers takes it. */
function isResolverAddress(address: string): boolean {
  if (isIP(address) !== 0) return true;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(address);
  if (match === null) return false;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  return isIP(host) === (match[1] === undefined ? 4 : 6) && port >= 1 && port <= 65_535;
}
