// Concurrent test files that find a tool's cache cold build it once: two hack/helm.sh runs started
// together against an empty cache make one Go build (the other waits on the cache directory's lock,
// hack/build-lock.sh) and print the same binary. Go builds offline from the module cache
// (GOPROXY=file://…, filled by the machine's own hack/helm.sh run), so nothing leaves the machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');
const helmScript = join(repoRoot, 'hack', 'helm.sh');

test('two hack/helm.sh runs on an empty cache build Helm once and print the same binary', async () => {
  // The machine's cache (and with it the Go module cache) holds Helm's sources after this.
  await run('bash', [helmScript]);
  const moduleCache = (await run('go', ['env', 'GOMODCACHE'])).stdout.trim();
  const version = /^version=(\S+)$/m.exec(await readFile(helmScript, 'utf8'))?.[1] ?? '';
  const cache = await mkdtemp(join(tmpdir(), 'mailfleet-build-lock-'));
  try {
    const env = {
      ...process.env,
      MAILFLEET_CACHE: cache,
      GOPROXY: `file://${join(moduleCache, 'cache', 'download')}`,
      GOSUMDB: 'off',
    };
    const runs = await Promise.all([1, 2].map(() => run('bash', [helmScript], { env })));
    const binary = join(cache, 'bin', `helm-${version}`, 'helm');
    assert.deepEqual(
      runs.map(({ stdout }) => stdout.trim()),
      [binary, binary],
    );
    const builds = runs.filter(({ stderr }) => stderr.includes('building helm')).length;
    assert.equal(builds, 1, runs.map(({ stderr }) => stderr).join('\n'));
    assert.ok((await run(binary, ['version', '--short'])).stdout.startsWith(`v${version}`));
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});
