// The chart's crds/ directory holds exact copies of the generated CRDs (hack/sync-chart-crds.sh).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, parseManifests, repoRoot } from './helm.ts';

async function yamlFiles(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  return files.filter((file) => file.endsWith('.yaml')).sort();
}

test('charts/mailfleet/crds holds exact copies of crds/ (run hack/sync-chart-crds.sh)', async () => {
  const generated = await yamlFiles(join(repoRoot, 'crds'));
  assert.deepEqual(await yamlFiles(join(chartDir, 'crds')), generated);
  for (const file of generated) {
    assert.equal(
      await readFile(join(chartDir, 'crds', file), 'utf8'),
      await readFile(join(repoRoot, 'crds', file), 'utf8'),
      file,
    );
  }
});

test('the chart installs the CRDs of both kinds of the mailfleet.dev API', async () => {
  const names: string[] = [];
  for (const file of await yamlFiles(join(chartDir, 'crds'))) {
    const manifests = parseManifests(await readFile(join(chartDir, 'crds', file), 'utf8'));
    names.push(...manifests.filter((m) => m.kind === 'CustomResourceDefinition').map((m) => m.metadata.name));
  }
  assert.deepEqual(names.sort(), ['senderdomains.mailfleet.dev', 'smtprelays.mailfleet.dev']);
});
