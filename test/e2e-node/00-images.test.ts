// The relay and operator images the node runs, checked as a user's image scanner would: a numeric
// non-root user, no shell and no package manager in the runtime image, the entrypoint, the OCI labels,
// the size; the npm registry settings given to the build as secrets are in no layer, and the queue CLI
// is on the relay image's PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { relayNodeFlags } from '../../relay/runtime-flags.ts';
import { sharedCluster } from '../node/shared.ts';

const run = promisify(execFile);
const cluster = sharedCluster();
const containers: string[] = [];
after(async () => {
  for (const container of containers) await run('buildah', ['rm', container]).catch(() => undefined);
});

interface ImageConfig {
  readonly OCIv1: {
    readonly config: {
      readonly User?: string;
      readonly Entrypoint?: string[];
      readonly Env?: string[];
      readonly Labels?: Record<string, string>;
    };
  };
}

async function inspect(image: string): Promise<ImageConfig> {
  const { stdout } = await run('buildah', ['inspect', '--type', 'image', image], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as ImageConfig;
}

/** The image's root filesystem, mounted read-only through a working container. */
async function rootfs(image: string): Promise<string> {
  const container = (await run('buildah', ['from', '--pull-never', image])).stdout.trim();
  containers.push(container);
  return (await run('buildah', ['mount', container])).stdout.trim();
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const images = [
  { program: 'relay', image: cluster.images.RELAY_IMAGE },
  { program: 'operator', image: cluster.images.OPERATOR_IMAGE },
];

for (const { program, image } of images) {
  test(`real node: ${program} image: non-root, entrypoint, OCI labels`, async () => {
    const { config } = (await inspect(image)).OCIv1;
    assert.equal(config.User, '65532:65532');
    // The relay runs with its V8 flags (relay/runtime-flags.ts), in the built image as in the Dockerfile.
    const flags = program === 'relay' ? relayNodeFlags : [];
    assert.deepEqual(config.Entrypoint, ['/nodejs/bin/node', ...flags, `${program}/main.ts`]);
    for (const label of ['title', 'source', 'version', 'revision', 'licenses']) {
      assert.ok(
        config.Labels?.[`org.opencontainers.image.${label}`],
        `label org.opencontainers.image.${label}`,
      );
    }
    assert.ok(!(config.Env ?? []).some((e) => /npm|registry/i.test(e)), 'no npm setting in the environment');
  });

  test(`real node: ${program} image: no shell, no package manager, no npm settings, Node 24, a bounded size`, async () => {
    const root = await rootfs(image);
    for (const shell of ['bin/sh', 'bin/bash', 'bin/dash', 'usr/bin/sh', 'usr/bin/bash', 'bin/busybox']) {
      assert.ok(!(await exists(join(root, shell))), `${shell} is not in the image`);
    }
    for (const tool of [
      'usr/bin/apt',
      'usr/bin/apt-get',
      'usr/bin/dpkg',
      'usr/local/bin/npm',
      'usr/bin/env',
    ]) {
      assert.ok(!(await exists(join(root, tool))), `${tool} is not in the image`);
    }
    for (const secret of ['root/.npmrc', 'home/nonroot/.npmrc', 'app/.npmrc', 'run/secrets/npm-ca']) {
      assert.ok(!(await exists(join(root, secret))), `${secret} (a build secret) is in no layer`);
    }
    assert.ok(await exists(join(root, 'nodejs/bin/node')));
    assert.ok(!(await exists(join(root, 'app/node_modules/typescript'))), 'no dev dependency');
    const megabytes = (await sizeOf(root)) / 1e6;
    assert.ok(megabytes < 400, `${megabytes.toFixed(0)} MB`);
  });
}

test('real node: relay image: mailfleet-relay is on PATH and runs without a shell', async () => {
  const { config } = (await inspect(cluster.images.RELAY_IMAGE)).OCIv1;
  const path =
    config.Env?.find((e) => e.startsWith('PATH='))
      ?.slice(5)
      .split(':') ?? [];
  const root = await rootfs(cluster.images.RELAY_IMAGE);
  const found = [];
  for (const dir of path) if (await exists(join(root, dir, 'mailfleet-relay'))) found.push(dir);
  assert.deepEqual(found, ['/app/relay/bin']);
  const { mode } = await stat(join(root, 'app/relay/bin/mailfleet-relay'));
  assert.ok(mode & 0o001, 'executable by every user');
});
