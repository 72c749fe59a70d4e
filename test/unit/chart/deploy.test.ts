// deploy/mailfleet.yaml is the chart rendered with its default values: it must not go stale.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { parseManifests, repoRoot } from './helm.ts';

const run = promisify(execFile);
const workDir = await mkdtemp(join(tmpdir(), 'mailfleet-deploy-'));
after(() => rm(workDir, { recursive: true, force: true }));

test('deploy/mailfleet.yaml is up to date with the chart (run deploy/render.sh)', async () => {
  const fresh = join(workDir, 'mailfleet.yaml');
  await run('bash', [join(repoRoot, 'deploy', 'render.sh'), fresh]);
  const checkedIn = await readFile(join(repoRoot, 'deploy', 'mailfleet.yaml'), 'utf8');
  assert.equal(checkedIn, await readFile(fresh, 'utf8'));
});

test('deploy/ installs into the namespace deploy/namespace.yaml creates', async () => {
  const [namespace] = parseManifests(await readFile(join(repoRoot, 'deploy', 'namespace.yaml'), 'utf8'));
  assert.equal(namespace?.kind, 'Namespace');
  const manifests = parseManifests(await readFile(join(repoRoot, 'deploy', 'mailfleet.yaml'), 'utf8'));
  const namespaces = new Set(manifests.flatMap((manifest) => manifest.metadata.namespace ?? []));
  assert.deepEqual([...namespaces], [namespace.metadata.name]);
});
