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
