// The contract between the chart and the operator: the command line and environment the chart
// gives the operator container are accepted by the operator's own option parser, and mean what the
// values say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions } from '../../../operator/options.ts';
import { fullValuesPath, only, render, type RenderOptions } from './helm.ts';

interface Container {
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

/** The container's argv and environment as the kubelet would give them to a pod in the namespace. */
async function operatorInvocation(options: RenderOptions, pod: { name: string; namespace: string }) {
  const deployment = only(await render({ ...options, namespace: pod.namespace }), 'Deployment');
  const [container] = (deployment['spec'] as { template: { spec: { containers: Container[] } } }).template
    .spec.containers;
  assert.ok(container);
  const fieldValues: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
  };
  const env = Object.fromEntries(
    container.env.map(({ name, valueFrom }) => [
      name,
      fieldValues[valueFrom?.fieldRef?.fieldPath ?? ''] ?? '',
    ]),
  );
  const argv = container.args.map((arg) => arg.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? ''));
  return { argv, env };
}

const cases = [
  {
    name: 'default values',
    options: {},
    expected: {
      namespaces: undefined,
      relayImage: 'ghcr.io/mailfleet/relay:0.1.0',
      logLevel: 'info',
      clusterDomain: 'cluster.local',
      httpPort: 8080,
      lease: {
        enabled: true,
        name: 'mailfleet',
        durationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
    },
  },
  {
    name: 'full values',
    options: { valuesFiles: [fullValuesPath] },
    expected: {
      namespaces: ['mail-a', 'mail-b'],
      relayImage:
        'registry.example.com/mailfleet/relay:0.1.0-rc.1@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210',
      logLevel: 'debug',
      clusterDomain: 'corp.internal',
      httpPort: 9090,
      lease: {
        enabled: true,
        name: 'mailfleet-full-leader',
        durationMs: 20_000,
        renewDeadlineMs: 12_000,
        retryPeriodMs: 3_000,
      },
    },
  },
  {
    name: 'leader election off',
    options: { set: ['operator.leaderElection.enabled=false', 'operator.replicas=1'] },
    expected: {
      namespaces: undefined,
      relayImage: 'ghcr.io/mailfleet/relay:0.1.0',
      logLevel: 'info',
      clusterDomain: 'cluster.local',
      httpPort: 8080,
      lease: {
        enabled: false,
        name: 'mailfleet',
        durationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
    },
  },
] as const;

for (const { name, options, expected } of cases) {
  test(`${name}: the operator accepts the chart's flags and they mean what the values say`, async () => {
    const pod = { name: 'mailfleet-7d9f-abcde', namespace: 'mailfleet-system' };
    const { argv, env } = await operatorInvocation(options, pod);
    const parsed = parseOptions(argv, env, 'unused-default-identity');
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
    const { options: operator } = parsed;
    assert.deepEqual(operator.namespaces, expected.namespaces);
    assert.equal(operator.relayImage, expected.relayImage);
    assert.equal(operator.logLevel, expected.logLevel);
    assert.equal(operator.clusterDomain, expected.clusterDomain);
    assert.equal(operator.http.port, expected.httpPort);
    assert.deepEqual(operator.leaderElection, {
      enabled: expected.lease.enabled,
      namespace: pod.namespace,
      name: expected.lease.name,
      identity: pod.name,
      leaseDurationMs: expected.lease.durationMs,
      renewDeadlineMs: expected.lease.renewDeadlineMs,
      retryPeriodMs: expected.lease.retryPeriodMs,
    });
  });
}
