// What `helm template` renders for the default values and the full-values file: the operator's
// Deployment (replicas, hardened pod, probes, spread), its Services and the optional objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullValuesPath, only, render, type Manifest } from './helm.ts';

interface Container {
  name: string;
  image: string;
  args: string[];
  ports: { name: string; containerPort: number; protocol: string }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe: { httpGet: { path: string; port: string } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: Container[];
  affinity?: { podAntiAffinity?: unknown };
  topologySpreadConstraints?: unknown[];
  serviceAccountName: string;
}

function podOf(deployment: Manifest): { replicas: number; pod: PodSpec } {
  const spec = deployment['spec'] as { replicas: number; template: { spec: PodSpec } };
  return { replicas: spec.replicas, pod: spec.template.spec };
}

function kinds(manifests: readonly Manifest[]): string[] {
  return manifests.map((manifest) => manifest.kind).sort();
}

const cases = [
  {
    name: 'default values',
    valuesFiles: [],
    replicas: 2,
    operatorImage: 'ghcr.io/mailfleet/operator:0.1.0',
    relayImage: 'ghcr.io/mailfleet/relay:0.1.0',
    httpPort: 8080,
    metricsPort: 8443,
    kinds: [
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ],
  },
  {
    name: 'full values',
    valuesFiles: [fullValuesPath],
    replicas: 3,
    operatorImage:
      'registry.example.com/mailfleet/operator:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    relayImage:
      'registry.example.com/mailfleet/relay:0.1.0-rc.1@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210',
    httpPort: 9090,
    metricsPort: 9443,
    kinds: [
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Role',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ],
  },
] as const;

for (const expected of cases) {
  test(`${expected.name}: the objects rendered`, async () => {
    const manifests = await render({ valuesFiles: expected.valuesFiles });
    assert.deepEqual(kinds(manifests), [...expected.kinds]);
    for (const manifest of manifests) {
      const clusterScoped = [
        'ClusterRole',
        'ClusterRoleBinding',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ].includes(manifest.kind);
      assert.equal(manifest.metadata.namespace === undefined, clusterScoped, `${manifest.kind} namespace`);
      assert.equal(manifest.metadata.labels?.['app.kubernetes.io/part-of'], 'mailfleet');
    }
  });

  test(`${expected.name}: the operator pod is hardened`, async () => {
    const { pod } = podOf(only(await render({ valuesFiles: expected.valuesFiles }), 'Deployment'));
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(pod.containers.length, 1);
    for (const container of pod.containers) {
      assert.deepEqual(container.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.ok(container.resources.requests?.['memory'], 'memory request');
      assert.ok(container.resources.limits?.['memory'], 'memory limit');
    }
  });

  test(`${expected.name}: replicas, leader election, images, probes and spread`, async () => {
    const { replicas, pod } = podOf(only(await render({ valuesFiles: expected.valuesFiles }), 'Deployment'));
    assert.equal(replicas, expected.replicas);
    const [container] = pod.containers;
    assert.ok(container);
    assert.equal(container.image, expected.operatorImage);
    assert.ok(container.args.includes('--leader-elect=true'));
    assert.ok(container.args.includes('--leader-election-namespace=$(POD_NAMESPACE)'));
    assert.ok(container.args.includes(`--relay-image=${expected.relayImage}`));
    assert.deepEqual(container.ports, [
      { name: 'http', containerPort: expected.httpPort, protocol: 'TCP' },
      { name: 'metrics', containerPort: expected.metricsPort, protocol: 'TCP' },
    ]);
    assert.ok(container.args.includes('--metrics-secure=true'), 'metrics over HTTPS with authentication');
    assert.ok(container.args.includes(`--metrics-port=${expected.metricsPort}`));
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.ok(pod.affinity?.podAntiAffinity, 'anti-affinity between replicas');
    assert.ok((pod.topologySpreadConstraints ?? []).length > 0, 'topology spread');
  });

  test(`${expected.name}: the metrics Service selects the operator pods`, async () => {
    const manifests = await render({ valuesFiles: expected.valuesFiles });
    const deployment = only(manifests, 'Deployment');
    const service = only(manifests, 'Service');
    const podLabels = (deployment['spec'] as { template: { metadata: { labels: Record<string, string> } } })
      .template.metadata.labels;
    const spec = service['spec'] as { selector: Record<string, string>; ports: { targetPort: string }[] };
    for (const [key, value] of Object.entries(spec.selector)) assert.equal(podLabels[key], value, key);
    assert.deepEqual(
      spec.ports.map((port) => port.targetPort),
      ['metrics'],
    );
  });
}

test('metrics.secure=false: plain metrics on the probes port, no review RBAC, no metrics reader', async () => {
  const manifests = await render({ set: ['metrics.secure=false', 'metrics.serviceMonitor.enabled=true'] });
  const { pod } = podOf(only(manifests, 'Deployment'));
  const [container] = pod.containers;
  assert.ok(container);
  assert.ok(container.args.includes('--metrics-secure=false'));
  assert.deepEqual(
    container.ports.map((port) => port.name),
    ['http'],
  );
  const service = only(manifests, 'Service')['spec'] as { ports: { targetPort: string }[] };
  assert.deepEqual(
    service.ports.map((port) => port.targetPort),
    ['http'],
  );
  const endpoint = (only(manifests, 'ServiceMonitor')['spec'] as { endpoints: Record<string, unknown>[] })
    .endpoints[0];
  assert.equal(endpoint?.['scheme'], undefined);
  assert.ok(!manifests.some((manifest) => manifest.metadata.name.includes('-metrics-')));
});

test('metrics.secure: the ServiceMonitor scrapes over HTTPS with its token; a mounted certificate is used', async () => {
  const manifests = await render({ valuesFiles: [fullValuesPath] });
  const endpoint = (only(manifests, 'ServiceMonitor')['spec'] as { endpoints: Record<string, unknown>[] })
    .endpoints[0];
  assert.equal(endpoint?.['scheme'], 'https');
  assert.equal(endpoint['bearerTokenFile'], '/var/run/secrets/kubernetes.io/serviceaccount/token');
  assert.ok(endpoint['tlsConfig'], 'tlsConfig');
  const { pod } = podOf(only(manifests, 'Deployment'));
  assert.ok(pod.containers[0]?.args.includes('--metrics-cert-dir=/var/run/mailfleet/metrics-cert'));
  assert.ok(JSON.stringify(pod).includes('"secretName":"mailfleet-metrics-tls"'));
});

test('watchNamespaces is passed to the operator', async () => {
  const { pod } = podOf(only(await render({ set: ['operator.watchNamespaces={a,b}'] }), 'Deployment'));
  assert.ok(pod.containers[0]?.args.includes('--namespaces=a,b'));
});

test('the default anti-affinity and spread can be replaced', async () => {
  const { pod } = podOf(only(await render({ valuesFiles: [fullValuesPath] }), 'Deployment'));
  assert.ok(JSON.stringify(pod.affinity).includes('requiredDuringSchedulingIgnoredDuringExecution'));
  assert.ok(JSON.stringify(pod.topologySpreadConstraints).includes('DoNotSchedule'));
});

test('a single replica gets no PodDisruptionBudget (it would block node drains)', async () => {
  const manifests = await render({ set: ['operator.replicas=1'] });
  assert.ok(!manifests.some((manifest) => manifest.kind === 'PodDisruptionBudget'));
});
