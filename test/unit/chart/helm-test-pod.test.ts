// The `helm test` hook pod: left out of `helm template` unless asked for (deploy/ and the other
// renders), a test hook that runs operator/chart-test/main.ts in the operator image against the
// metrics Service of the release, over HTTPS when metrics are secure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render, type Manifest } from './helm.ts';

interface PodView {
  readonly metadata: { readonly annotations?: Record<string, string> };
  readonly spec: {
    readonly restartPolicy: string;
    readonly serviceAccountName: string;
    readonly containers: readonly { image: string; command: string[]; args: string[] }[];
  };
}

function testPods(manifests: readonly Manifest[]): PodView[] {
  return manifests.filter((manifest) => manifest.kind === 'Pod') as unknown as PodView[];
}

test('helm template leaves the test pod out unless tests are asked for', async () => {
  assert.equal(testPods(await render()).length, 0);
  assert.equal(testPods(await render({ includeTests: true })).length, 1);
});

for (const [secure, url] of [
  ['true', 'https://mailfleet-metrics.mailfleet-system.svc:8443/metrics'],
  ['false', 'http://mailfleet-metrics.mailfleet-system.svc:8443/metrics'],
] as const) {
  test(`metrics.secure=${secure}: the test pod checks the CRDs and ${url}`, async () => {
    const [pod] = testPods(await render({ includeTests: true, set: [`metrics.secure=${secure}`] }));
    assert.ok(pod);
    assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.spec.serviceAccountName, 'mailfleet');
    const container = pod.spec.containers[0];
    assert.ok(container);
    assert.deepEqual(container.command, ['/nodejs/bin/node', 'operator/chart-test/main.ts']);
    assert.deepEqual(container.args, [
      '--crds=smtprelays.mailfleet.dev,senderdomains.mailfleet.dev',
      `--metrics-url=${url}`,
      `--metrics-secure=${secure}`,
    ]);
  });
}

test('the test pod is counted by no selector of the operator: Deployment, PodDisruptionBudget, Service', async () => {
  const manifests = await render({ includeTests: true, set: ['operator.replicas=2'] });
  const [pod] = manifests.filter((manifest) => manifest.kind === 'Pod');
  assert.ok(pod);
  const labels = (pod.metadata as { labels?: Record<string, string> }).labels ?? {};
  assert.equal(labels['app.kubernetes.io/instance'], 'mailfleet', 'it still belongs to the release');
  const selectors = manifests.flatMap((manifest) => {
    const spec = manifest['spec'] as
      { selector?: { matchLabels?: Record<string, string> } | Record<string, string> } | undefined;
    const selector = spec?.selector;
    if (selector === undefined || manifest.kind === 'Pod') return [];
    const matchLabels = ('matchLabels' in selector ? selector.matchLabels : selector) as Record<
      string,
      string
    >;
    return [{ kind: manifest.kind, matchLabels }];
  });
  assert.ok(selectors.some(({ kind }) => kind === 'Deployment'));
  assert.ok(selectors.some(({ kind }) => kind === 'PodDisruptionBudget'));
  for (const { kind, matchLabels } of selectors) {
    const matches = Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
    assert.equal(matches, false, `the test pod matches the ${kind} selector ${JSON.stringify(matchLabels)}`);
  }
});
