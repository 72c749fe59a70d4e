// Each image's entrypoint starts from a production install: the package manifests and the paths the
// Dockerfile copies, `npm ci --omit=dev` (offline, from the npm cache `make deps` filled), then
// `node <program>/main.ts --help` as the image would run it — no dev dependency, no test file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { contextSources, entrypoint, images, readDockerfile, repoRoot } from './dockerfile.ts';

const run = promisify(execFile);
const installDir = await mkdtemp(join(tmpdir(), 'mailfleet-image-'));
after(() => rm(installDir, { recursive: true, force: true }));

before(async () => {
  for (const file of ['package.json', 'package-lock.json'])
    await cp(join(repoRoot, file), join(installDir, file));
  await run('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: installDir,
    maxBuffer: 16 << 20,
  });
});

for (const { program, dockerfile } of images) {
  test(`${dockerfile}: \`${program}/main.ts --help\` runs from a production install`, async () => {
    const { stages } = await readDockerfile(dockerfile);
    const runtime = stages.at(-1);
    assert.ok(runtime);
    for (const source of contextSources(runtime)) {
      await cp(join(repoRoot, source), join(installDir, source), { recursive: true, force: true });
    }
    const [, ...args] = entrypoint(runtime);
    const { stdout } = await run(process.execPath, [...args, '--help'], {
      cwd: installDir,
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' },
    });
    assert.match(stdout, /usage|--help/i);
  });
}
