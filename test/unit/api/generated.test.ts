// Every generated file in the repository is what hack/generate.ts renders now: a schema change
// without `node hack/generate.ts` (or a hand edit of a generated file) fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { generators, repoRoot } from '../../../hack/generate.ts';

for (const generator of generators) {
  test(`${generator.path} is up to date (run \`node hack/generate.ts\`)`, async () => {
    const checkedIn = await readFile(join(repoRoot, generator.path), 'utf8').catch(() => '');
    assert.ok(
      checkedIn === (await generator.render()),
      `${generator.path} is stale: run node hack/generate.ts`,
    );
  });
}

test('the generators own distinct files, CRDs included', () => {
  const paths = generators.map((generator) => generator.path);
  assert.equal(new Set(paths).size, paths.length);
  assert.ok(paths.includes('crds/mailfleet.dev_smtprelays.yaml'));
  assert.ok(paths.includes('crds/mailfleet.dev_senderdomains.yaml'));
  assert.ok(paths.includes('operator/api/types.generated.ts'));
  assert.ok(paths.includes('docs/reference/crds.md'));
});
