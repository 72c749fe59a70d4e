// The images' Dockerfiles, checked without a container engine: multi-stage with a production
// install, a distroless Node 24 runtime without shell, a numeric non-root user, no HEALTHCHECK,
// OCI labels, and every path they copy exists and is let through by .dockerignore.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { relayNodeFlags } from '../../../relay/runtime-flags.ts';
import { contextSources, entrypoint, images, labels, readDockerfile, repoRoot } from './dockerfile.ts';

const ociLabels = [
  'org.opencontainers.image.title',
  'org.opencontainers.image.description',
  'org.opencontainers.image.source',
  'org.opencontainers.image.licenses',
  'org.opencontainers.image.version',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.created',
];

/** Paths .dockerignore lets into the build context: it excludes everything, then re-includes. */
async function contextAllowList(): Promise<string[]> {
  const patterns = (await readFile(join(repoRoot, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  assert.equal(patterns[0], '*', '.dockerignore starts by excluding everything');
  return patterns.slice(1).map((pattern) => {
    assert.ok(pattern.startsWith('!'), `.dockerignore only re-includes after "*": ${pattern}`);
    return pattern.slice(1).replace(/\/$/, '');
  });
}

for (const { program, dockerfile } of images) {
  test(`${dockerfile}: production install in a build stage, distroless Node 24 at run time`, async () => {
    const { preamble, stages } = await readDockerfile(dockerfile);
    const runtime = stages.at(-1);
    assert.ok(stages.length >= 2 && runtime, 'multi-stage');
    // The base images are build arguments (the real-node tests pass local equivalents); their defaults
    // are what a release builds on.
    const argDefault = (name: string) =>
      preamble.find((i) => i.keyword === 'ARG' && i.args.startsWith(`${name}=`))?.args.slice(name.length + 1);
    assert.equal(runtime.from, '${RUNTIME_IMAGE}');
    assert.match(
      argDefault('RUNTIME_IMAGE') ?? '',
      /^gcr\.io\/distroless\/nodejs24-debian\d+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/,
    );
    assert.equal(stages[0]?.from, '${BUILDER_IMAGE}');
    assert.equal(argDefault('BUILDER_IMAGE'), 'docker.io/library/node:${NODE_VERSION}-bookworm-slim');
    const builds = stages.slice(0, -1).flatMap((stage) => stage.instructions);
    assert.ok(
      builds.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args)),
      'npm ci --omit=dev',
    );
    assert.deepEqual(
      runtime.instructions.filter((i) => i.keyword === 'RUN'),
      [],
      'no RUN at run time: the image has no shell',
    );
    const nodeVersion = preamble.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_VERSION='));
    const nvmrc = (await readFile(join(repoRoot, '.nvmrc'), 'utf8')).trim().replace(/^v/, '');
    assert.equal(nodeVersion?.args, `NODE_VERSION=${nvmrc}`, 'the build stage uses the Node of .nvmrc');
  });

  test(`${dockerfile}: non-root numeric user, no HEALTHCHECK, OCI labels, exec-form entrypoint`, async () => {
    const { stages } = await readDockerfile(dockerfile);
    const runtime = stages.at(-1);
    assert.ok(runtime);
    const user = runtime.instructions.findLast((i) => i.keyword === 'USER');
    assert.match(user?.args ?? '', /^[1-9]\d*(:[1-9]\d*)?$/, 'numeric, not root');
    assert.ok(!stages.some((stage) => stage.instructions.some((i) => i.keyword === 'HEALTHCHECK')));
    const found = labels(runtime);
    for (const label of ociLabels) assert.ok(found.get(label), `label ${label}`);
    // The relay runs with its V8 flags (relay/runtime-flags.ts), as the benchmarks and tests start it.
    const flags = program === 'relay' ? relayNodeFlags : [];
    assert.deepEqual(entrypoint(runtime), ['/nodejs/bin/node', ...flags, `${program}/main.ts`]);
  });

  test(`${dockerfile}: every path it copies exists and is in the build context`, async () => {
    const { stages } = await readDockerfile(dockerfile);
    const allowed = await contextAllowList();
    const sources = stages.flatMap(contextSources);
    assert.ok(sources.length > 0);
    for (const source of sources) {
      const path = source.replace(/^\.\//, '').replace(/\/$/, '');
      await access(join(repoRoot, path));
      assert.ok(allowed.includes(path), `${path} is excluded by .dockerignore`);
    }
    const runtime = stages.at(-1);
    assert.ok(runtime);
    await access(join(repoRoot, entrypoint(runtime).at(-1) ?? ''));
  });
}
