// What the builders promise beyond the golden files: hardening, what rolls pods and what does not,
// objects that come and go with the spec, and optional kinds only where served.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SmtpRelay } from '../../../operator/api/types.generated.ts';
import type { KubeObject } from '../../../operator/kube/resource.ts';
import { restartHashAnnotation } from '../../../operator/render/relay-stateful-set.ts';
import { renderSmtpRelay, type SmtpRelayInputs } from '../../../operator/render/smtp-relay-objects.ts';
import type { SecretObject } from '../../../operator/render/sender-domain-binding.ts';
import {
  boundDomainsOf,
  everyOptionalKindServed,
  exampleSecrets,
  relayExamples,
  servedRelay,
} from './fixtures.ts';

const production = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
const minimal = relayExamples.find(({ file }) => file === 'smtprelay-minimal')?.relay;

function inputs(relay: SmtpRelay, overrides: Partial<SmtpRelayInputs> = {}): SmtpRelayInputs {
  const secrets = exampleSecrets();
  return {
    relay,
    domains: boundDomainsOf(relay),
    secrets: (name) => secrets.get(name),
    relayImage: 'relay:test',
    clusterDomain: 'cluster.local',
    served: everyOptionalKindServed,
    ...overrides,
  };
}

function find(relay: SmtpRelay, kind: string, overrides: Partial<SmtpRelayInputs> = {}): KubeObject[] {
  return renderSmtpRelay(inputs(relay, overrides)).objects.flatMap(({ object }) =>
    object.kind === kind ? [object] : [],
  );
}

interface PodSpec {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken: boolean;
  terminationGracePeriodSeconds: number;
  containers: { securityContext: Record<string, unknown>; args: string[]; image: string }[];
}

function podOf(relay: SmtpRelay, overrides: Partial<SmtpRelayInputs> = {}) {
  const [statefulSet] = find(relay, 'StatefulSet', overrides);
  const template = (
    statefulSet?.['spec'] as {
      template: { metadata: { annotations: Record<string, string> }; spec: PodSpec };
    }
  ).template;
  return { hash: template.metadata.annotations[restartHashAnnotation], spec: template.spec };
}

function withSpec(relay: SmtpRelay, change: (spec: Record<string, unknown>) => void): SmtpRelay {
  const copy = structuredClone(relay) as { spec: Record<string, unknown> } & SmtpRelay;
  change(copy.spec);
  return copy;
}

test('relay pods are hardened (case 27) and carry no secret on their command line', () => {
  assert.ok(production);
  const { spec } = podOf(production);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.deepEqual(spec.securityContext['seccompProfile'], { type: 'RuntimeDefault' });
  assert.equal(spec.securityContext['runAsNonRoot'], true);
  const [container] = spec.containers;
  assert.ok(container);
  assert.deepEqual(container.args, ['--config', '/etc/mailfleet/config/relay.yaml']);
  assert.equal(container.image, 'relay:test');
  assert.equal(container.securityContext['readOnlyRootFilesystem'], true);
  assert.equal(container.securityContext['allowPrivilegeEscalation'], false);
  assert.equal(container.securityContext['runAsUser'], 65532);
  assert.deepEqual(container.securityContext['capabilities'], { drop: ['ALL'] });
  assert.equal(JSON.stringify(container).includes('env'), false);
  // Longer than the 10m drain, with time for the handoff.
  assert.ok(spec.terminationGracePeriodSeconds > 600);
});

test('live-reloadable changes keep the restart hash; start-only ones change it', () => {
  assert.ok(production);
  const base = podOf(production).hash;
  assert.match(base ?? '', /^[0-9a-f]{32}$/);
  const same = [
    withSpec(production, (spec) => (spec['clientNetworks'] = ['10.0.0.0/8'])),
    withSpec(
      production,
      (spec) => ((spec['limits'] as Record<string, unknown>)['recipientsPerMessage'] = 10),
    ),
    withSpec(production, (spec) => (spec['replicas'] = 5)),
  ];
  for (const relay of same) assert.equal(podOf(relay).hash, base, JSON.stringify(relay.spec).slice(0, 80));
  const rolls = [
    withSpec(production, (spec) => {
      const [first, ...rest] = spec['listeners'] as { port: number }[];
      spec['listeners'] = [{ ...first, port: 26 }, ...rest];
    }),
    withSpec(
      production,
      (spec) => ((spec['delivery'] as Record<string, unknown>)['maxQueueLifetime'] = '24h'),
    ),
  ];
  for (const relay of rolls) assert.notEqual(podOf(relay).hash, base);
  // New smarthost credentials and rotated DKIM keys reach the pods through the Secret volume and
  // reload live: no roll.
  const secrets = exampleSecrets();
  const rotated: SecretObject = {
    ...secrets.get('outbound-smarthost'),
    metadata: { name: 'outbound-smarthost', namespace: 'mail', resourceVersion: '2' },
    data: { username: 'bmV3', password: 'bmV3' },
  };
  assert.equal(
    podOf(production, { secrets: (name) => (name === 'outbound-smarthost' ? rotated : secrets.get(name)) })
      .hash,
    base,
  );
  const domains = boundDomainsOf(production).map((bound) => ({
    ...bound,
    keys: bound.keys.map((key) => ({ ...key, selector: 'mf-2' })),
  }));
  assert.equal(podOf(production, { domains }).hash, base);
});

test('the PodDisruptionBudget exists only with more than one replica', () => {
  assert.ok(minimal);
  assert.equal(find(minimal, 'PodDisruptionBudget').length, 1);
  assert.equal(
    find(
      withSpec(minimal, (spec) => (spec['replicas'] = 1)),
      'PodDisruptionBudget',
    ).length,
    0,
  );
});

test('optional kinds: rendered only when asked for and served, else reported naming the field', () => {
  assert.ok(production && minimal);
  assert.deepEqual(
    ['Certificate', 'ServiceMonitor', 'PrometheusRule'].map((kind) => find(minimal, kind).length),
    [0, 0, 0],
  );
  const rendered = renderSmtpRelay(inputs(production, { served: new Set() }));
  assert.deepEqual(
    // NetworkPolicy is core Kubernetes (networking.k8s.io/v1): always served, never optional.
    rendered.objects.map(({ object }) => object.kind).filter((kind) => kind !== 'Service'),
    ['Secret', 'ConfigMap', 'StatefulSet', 'PodDisruptionBudget', 'NetworkPolicy'],
  );
  assert.equal(rendered.notServed.length, 3);
  assert.match(
    rendered.notServed[0] ?? '',
    /^spec\.tls\.issuerRef asks for a Certificate but cert-manager\.io\/v1/,
  );
});

test('an ephemeral queue is a size-limited emptyDir, a persistent one a claim template', () => {
  const relay = servedRelay('small', {
    listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
    queue: { storage: 'Ephemeral', size: '2Gi' },
  });
  const [statefulSet] = find(relay, 'StatefulSet');
  const spec = statefulSet?.['spec'] as {
    volumeClaimTemplates: unknown[];
    template: { spec: { volumes: { name: string; emptyDir?: unknown }[] } };
  };
  assert.deepEqual(spec.volumeClaimTemplates, []);
  assert.deepEqual(spec.template.spec.volumes.find((volume) => volume.name === 'queue')?.emptyDir, {
    sizeLimit: '2Gi',
  });
});

test('the relay-owned Secret copies signing keys and composes the credentials line', () => {
  assert.ok(production);
  const [secret] = find(production, 'Secret') as SecretObject[];
  const data = secret?.data ?? {};
  assert.deepEqual(Object.keys(data).sort(), [
    'example.com.mf-1-ed25519.ed25519.pem',
    'example.com.mf-1-rsa.rsa.pem',
    'smarthost-credentials',
  ]);
  assert.equal(
    Buffer.from(data['smarthost-credentials'] ?? '', 'base64').toString(),
    'relay@example.com:s3cret\n',
  );
});

test('quantities are rendered as the apiserver stores them, so unchanged objects compare equal', () => {
  const relay = servedRelay('quantities', {
    listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
    queue: { storage: 'Ephemeral', size: '1024Mi' },
    pod: { resources: { requests: { cpu: 0.5, memory: '1024Mi' }, limits: { memory: '1.5Gi' } } },
  });
  const [statefulSet] = find(relay, 'StatefulSet');
  const pod = (
    statefulSet?.['spec'] as {
      template: {
        spec: { containers: { resources: unknown }[]; volumes: { name: string; emptyDir?: unknown }[] };
      };
    }
  ).template.spec;
  assert.deepEqual(pod.containers[0]?.resources, {
    requests: { cpu: '500m', memory: '1Gi' },
    limits: { memory: '1536Mi' },
  });
  assert.deepEqual(pod.volumes.find((volume) => volume.name === 'queue')?.emptyDir, { sizeLimit: '1Gi' });
});

test("spec.pod.image overrides the operator's relay image for this relay alone", () => {
  assert.ok(production);
  const pinned = withSpec(production, (spec) => {
    spec['pod'] = {
      ...(spec['pod'] as object),
      image: 'registry.example.com/relay:0.0.9@sha256:' + 'a'.repeat(64),
    };
  });
  assert.equal(
    podOf(pinned).spec.containers[0]?.image,
    `registry.example.com/relay:0.0.9@sha256:${'a'.repeat(64)}`,
  );
  assert.equal(podOf(production).spec.containers[0]?.image, 'relay:test');
});
