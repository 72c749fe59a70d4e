// What makes the relay reload, on a real filesystem: a change to a file it reads (the config, a
// referenced file, a Kubernetes atomic-writer swap of `..data`), not any file beside them (a log
// written next to the config once reloaded the relay every time the log paused). And a reload that
// finds the users file unchanged keeps the same table, so its recent-login cache survives.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { loadRelaySettings } from '../../../relay/config/load.ts';
import { concernsWatched, watchFiles } from '../../../relay/reload/watch.ts';
import { writeRelayConfig } from '../../support/relay-process.ts';
import { makeTestCertificates } from '../../support/tls.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-watch-'));
  dirs.push(dir);
  return dir;
}

/** Counts reloads while `act` runs, then waits past the 50 ms debounce. */
async function reloadsDuring(files: string[], act: () => Promise<void>): Promise<number> {
  let reloads = 0;
  const watch = watchFiles(
    files,
    () => {
      reloads += 1;
    },
    50,
  );
  try {
    await sleep(50);
    await act();
    await sleep(400);
    return reloads;
  } finally {
    watch.close();
  }
}

test('which names concern the watch: the watched ones, the atomic writer’s, and an unnamed event', () => {
  const watched = new Set(['relay.yaml', 'users']);
  assert.equal(concernsWatched('relay.yaml', watched), true);
  assert.equal(concernsWatched('..data', watched), true);
  assert.equal(concernsWatched('..2026_12_05_07_00_00.123456789', watched), true);
  assert.equal(concernsWatched(null, watched), true);
  assert.equal(concernsWatched('relay.log', watched), false);
  assert.equal(concernsWatched('relay.yaml.swp', watched), false);
});

test('a file written beside the config does not reload the relay; the config and its files do', async () => {
  const dir = await tempDir();
  const config = join(dir, 'relay.yaml');
  await writeFile(config, 'hostname: a\n');
  const log = join(dir, 'relay.log');
  const logWrites = await reloadsDuring([config], async () => {
    for (let i = 0; i < 5; i++) {
      await writeFile(log, `line ${String(i)}\n`, { flag: 'a' });
      await sleep(100);
    }
  });
  assert.equal(logWrites, 0, 'the log beside the config is not a reason to reload');
  const edits = await reloadsDuring([config], () => writeFile(config, 'hostname: b\n'));
  assert.equal(edits, 1, 'an edit of the config reloads once (debounced)');
  const renamed = await reloadsDuring([config], async () => {
    await writeFile(join(dir, 'relay.yaml.tmp'), 'hostname: c\n');
    await rename(join(dir, 'relay.yaml.tmp'), config);
  });
  assert.equal(renamed, 1, 'an editor’s write-and-rename reloads');
});

test('a Kubernetes volume update (the ..data symlink swapped) reloads', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, '..v1'));
  await writeFile(join(dir, '..v1', 'relay.yaml'), 'hostname: a\n');
  await symlink('..v1', join(dir, '..data'));
  await symlink('..data/relay.yaml', join(dir, 'relay.yaml'));
  const swaps = await reloadsDuring([join(dir, 'relay.yaml')], async () => {
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'relay.yaml'), 'hostname: b\n');
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  });
  assert.equal(swaps, 1);
});

test('a reload that finds the users file unchanged keeps its table (and login cache); a change makes a new one', async () => {
  const certificates = await makeTestCertificates(['relay.test'], await tempDir(), 'reload-users');
  const dir = await tempDir();
  const usersFile = join(dir, 'users');
  // bcrypt of "secret" at cost 4: the table is parsed, never checked here.
  const line = 'alice:$2b$04$C6UzMDM.H6dfI/f/IKcEeO5w9XTvC.U6q0xZ6bQ9S7B9pXx0yV3eK\n';
  await writeFile(usersFile, line);
  const written = await writeRelayConfig({
    hostname: 'relay.test',
    listeners: [{ name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' }],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    auth: { usersFile },
  });
  dirs.push(written.dir);
  const first = await loadRelaySettings(written.configPath);
  const again = await loadRelaySettings(written.configPath);
  assert.ok(first.ok && again.ok, first.ok ? '' : first.errors.join('; '));
  assert.equal(again.settings.users, first.settings.users, 'the same table, with its cache');
  await writeFile(usersFile, `${line}bob:${line.slice('alice:'.length)}`);
  const changed = await loadRelaySettings(written.configPath);
  assert.ok(changed.ok);
  assert.notEqual(changed.settings.users, first.settings.users, 'a changed file starts afresh');
  assert.equal(changed.settings.users.size, 2);
});
