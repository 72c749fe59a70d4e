import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, type OperatorOptions } from '../../../operator/options.ts';

function parsed(argv: string[], env: Record<string, string> = {}): OperatorOptions {
  const result = parseOptions(argv, env, 'host-1234');
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  return result.options;
}

function errors(argv: string[], env: Record<string, string> = {}): readonly string[] {
  const result = parseOptions(argv, env, 'host-1234');
  if (result.ok) assert.fail(`accepted ${argv.join(' ')}`);
  return result.errors;
}

test('defaults: all namespaces, leader election on, port 8080, info logs', () => {
  const options = parsed([]);
  assert.equal(options.namespaces, undefined);
  assert.equal(options.logLevel, 'info');
  assert.deepEqual(options.http, { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(
    options.metrics,
    { secure: false, port: 8443, certDir: undefined },
    'plain (the chart turns it on)',
  );
  assert.deepEqual(options.leaderElection, {
    enabled: true,
    namespace: 'mailfleet-system',
    name: 'mailfleet-operator',
    identity: 'host-1234',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  assert.equal(options.resyncPeriodMs, 600_000);
  assert.equal(options.kubeconfig, undefined);
  assert.equal(options.dnsResolver, undefined, 'the system resolvers');
  assert.equal(options.clusterDomain, 'cluster.local');
  assert.equal(options.dnsPublishing, 'Manual', 'records published by hand unless asked');
});

test('--cluster-domain: a DNS name, from the flag or MAILFLEET_CLUSTER_DOMAIN, a trailing dot dropped', () => {
  assert.equal(parsed(['--cluster-domain=Corp.Internal.']).clusterDomain, 'corp.internal');
  assert.equal(parsed([], { MAILFLEET_CLUSTER_DOMAIN: 'k8s.example' }).clusterDomain, 'k8s.example');
  for (const bad of ['', 'under_score.local', '-lead.local', 'a..b', `${'x'.repeat(64)}.local`]) {
    const [message] = errors([`--cluster-domain=${bad}`]);
    assert.match(
      message ?? '',
      /^--cluster-domain \(env MAILFLEET_CLUSTER_DOMAIN\): ".*" is not a DNS domain name/,
    );
  }
});

test('flags and environment, a flag winning over its variable', () => {
  const table: [string, string[], Record<string, string>, (options: OperatorOptions) => unknown, unknown][] =
    [
      ['namespace list', ['--namespaces=a, b,a'], {}, (o) => o.namespaces, ['a', 'b']],
      ['star is all', ['--namespaces=*'], {}, (o) => o.namespaces, undefined],
      ['env namespaces', [], { MAILFLEET_NAMESPACES: 'mail' }, (o) => o.namespaces, ['mail']],
      [
        'flag beats env',
        ['--namespaces', 'flag'],
        { MAILFLEET_NAMESPACES: 'env' },
        (o) => o.namespaces,
        ['flag'],
      ],
      [
        'relay image',
        ['--relay-image=registry.local/relay:1.2'],
        {},
        (o) => o.relayImage,
        'registry.local/relay:1.2',
      ],
      ['log level', [], { MAILFLEET_LOG_LEVEL: 'debug' }, (o) => o.logLevel, 'debug'],
      ['leader election off', ['--leader-elect=false'], {}, (o) => o.leaderElection.enabled, false],
      [
        'lease namespace from the pod',
        [],
        { POD_NAMESPACE: 'ops' },
        (o) => o.leaderElection.namespace,
        'ops',
      ],
      [
        'identity from the pod',
        [],
        { POD_NAME: 'operator-0' },
        (o) => o.leaderElection.identity,
        'operator-0',
      ],
      [
        'port 0 picks a free one',
        ['--http-port=0', '--http-host=127.0.0.1'],
        {},
        (o) => o.http,
        { host: '127.0.0.1', port: 0 },
      ],
      [
        'metrics over HTTPS with a mounted certificate',
        ['--metrics-secure=true', '--metrics-port=9443'],
        { MAILFLEET_METRICS_CERT_DIR: '/var/run/metrics-cert' },
        (o) => o.metrics,
        { secure: true, port: 9443, certDir: '/var/run/metrics-cert' },
      ],
      ['fractional seconds', ['--retry-period=0.5'], {}, (o) => o.leaderElection.retryPeriodMs, 500],
      ['kubeconfig from env', [], { KUBECONFIG: '/tmp/kc' }, (o) => o.kubeconfig, '/tmp/kc'],
      [
        'dns resolver with port',
        ['--dns-resolver=127.0.0.1:5353'],
        {},
        (o) => o.dnsResolver,
        '127.0.0.1:5353',
      ],
      [
        'dns resolver without port',
        [],
        { MAILFLEET_DNS_RESOLVER: '192.0.2.53' },
        (o) => o.dnsResolver,
        '192.0.2.53',
      ],
      [
        'dns resolver IPv6',
        ['--dns-resolver=[2001:db8::53]:53'],
        {},
        (o) => o.dnsResolver,
        '[2001:db8::53]:53',
      ],
      [
        'dns publishing through external-dns',
        [],
        { MAILFLEET_DNS_PUBLISHING: 'ExternalDNS' },
        (o) => o.dnsPublishing,
        'ExternalDNS',
      ],
      [
        'dns resolver empty is the system',
        [],
        { MAILFLEET_DNS_RESOLVER: '' },
        (o) => o.dnsResolver,
        undefined,
      ],
    ];
  for (const [name, argv, env, pick, expected] of table)
    assert.deepEqual(pick(parsed(argv, env)), expected, name);
});

test('every invalid value is reported with its flag, variable and what is valid', () => {
  const reported = errors([
    '--namespaces=ok,Not_OK',
    '--log-level=loud',
    '--http-port=70000',
    '--leader-elect=yes',
    '--metrics-secure=on',
    '--concurrency=0',
    '--resync-period=soon',
    '--dns-resolver=dns.example:53',
    '--dns-publishing=externaldns',
  ]);
  const expected = [
    /--namespaces \(env MAILFLEET_NAMESPACES\): "Not_OK" is not a namespace name/,
    /--log-level \(env MAILFLEET_LOG_LEVEL\): "loud" is not one of fatal, error, warn, info/,
    /--http-port \(env MAILFLEET_HTTP_PORT\): "70000" is not an integer from 0 to 65535/,
    /--leader-elect \(env MAILFLEET_LEADER_ELECT\): "yes" is not true or false/,
    /--metrics-secure \(env MAILFLEET_METRICS_SECURE\): "on" is not true or false/,
    /--concurrency \(env MAILFLEET_CONCURRENCY\): "0" is not an integer from 1 to 64/,
    /--resync-period \(env MAILFLEET_RESYNC_PERIOD_SECONDS\): "soon" is not a number of seconds/,
    /--dns-resolver \(env MAILFLEET_DNS_RESOLVER\): "dns.example:53" is not a DNS server address: use an IP address/,
    /--dns-publishing \(env MAILFLEET_DNS_PUBLISHING\): "externaldns" is not a publishing provider: use Manual or ExternalDNS/,
  ];
  assert.equal(reported.length, expected.length, reported.join('\n'));
  for (const pattern of expected)
    assert.ok(
      reported.some((error) => pattern.test(error)),
      `${pattern}`,
    );
});

test('lease timings that would let two replicas lead are refused', () => {
  const [error] = errors(['--lease-duration=10', '--renew-deadline=10', '--retry-period=2']);
  assert.match(error ?? '', /0 < --retry-period < --renew-deadline < --lease-duration, got 2 s, 10 s, 10 s/);
});

test('an unknown flag is refused with the usage', () => {
  const [error] = errors(['--namespace=typo']);
  assert.match(error ?? '', /Unknown option '--namespace'/);
  assert.match(error ?? '', /--namespaces=<value>/);
});
