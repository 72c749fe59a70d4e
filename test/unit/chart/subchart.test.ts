// The chart as a dependency of another: Helm hands a subchart the parent's `global` values, which the
// values schema (additionalProperties: false at the top) must allow, and the parent's values under
// `mailfleet:` reach it.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, render } from './helm.ts';

test('mailfleet renders as a subchart with global values set by the parent', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'mailfleet-parent-chart-'));
  try {
    await writeFile(
      join(parent, 'Chart.yaml'),
      'apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n  - name: mailfleet\n    version: 0.1.0\n',
    );
    await writeFile(join(parent, 'values.yaml'), 'global:\n  imageRegistry: registry.example.com\n');
    await cp(chartDir, join(parent, 'charts', 'mailfleet'), { recursive: true });
    const manifests = await render({ chart: parent, set: ['mailfleet.operator.replicas=1'] });
    const deployment = manifests.find((manifest) => manifest.kind === 'Deployment');
    assert.equal((deployment?.['spec'] as { replicas?: number } | undefined)?.replicas, 1);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
