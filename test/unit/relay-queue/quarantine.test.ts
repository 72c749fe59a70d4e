// Rollback safety: a spool written by a newer relay, or a file nobody can parse, is moved aside and
// never deleted; the queue CLI lists and restores it through the admin endpoint of a live spool.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { runQueueCommand } from '../../../relay/admin/cli.ts';
import { startQueueAdmin } from '../../../relay/admin/server.ts';
import { readAdminToken } from '../../../relay/admin/token.ts';
import { createQueueMetrics } from '../../../relay/queue/metrics.ts';
import { openSpool } from '../../../relay/queue/spool.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailfleet-quarantine-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const queueId = '3fmq2abcde12345';
const header = (version: number) =>
  `MAILFLEET-SPOOL-${String(version)} {"mailFrom":"a@example.org","recipients":[{"address":"b@x.test"}],"smtpUtf8":false,"eightBitMime":false,"client":{"address":"127.0.0.1"},"receivedAt":1000}\n`;
const message = (version: number) => `${header(version)}From: a@example.org\r\n\r\nkeep me\r\n`;
const stateLog = '{"indexes":[0],"status":"deferred","attempts":1,"nextAttemptAt":9}\n';

/** A spool as a newer relay left it: FORMAT 2, one message file with a state log, one segment. */
async function futureSpool(dir: string): Promise<void> {
  await mkdir(join(dir, '3f'), { recursive: true });
  await mkdir(join(dir, 'segments'), { recursive: true });
  await writeFile(join(dir, 'FORMAT'), '2\n');
  await writeFile(join(dir, '3f', `${queueId}.msg`), message(2));
  await writeFile(join(dir, '3f', `${queueId}.log`), stateLog);
  await writeFile(join(dir, 'segments', '0000000000000001.seg'), 'MFS2 a future segment');
}

test('a spool of a newer format: start refused with the path and both versions, nothing touched', async () => {
  const dir = join(root, 'refused');
  await futureSpool(dir);
  await assert.rejects(openSpool({ dir, minFreeBytes: 0, now: () => 1 }), {
    name: 'SpoolFormatError',
    message: new RegExp(
      `^queue\\.dir: ${join(dir, 'FORMAT')} says spool format 2, newer than this relay reads \\(format 1\\).*queue\\.quarantineNewerSpool: true`,
    ),
  });
  assert.equal(await readFile(join(dir, '3f', `${queueId}.msg`), 'utf8'), message(2));
  assert.equal(await readFile(join(dir, 'FORMAT'), 'utf8'), '2\n');
});

test('with quarantineNewerSpool every file of the newer spool is quarantined, not deleted', async () => {
  const dir = join(root, 'newer');
  await futureSpool(dir);
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 1, quarantineNewerSpool: true });
  try {
    assert.equal(spool.size(), 0);
    assert.equal(spool.recovery.quarantinedNewerSpool, 3);
    const moved = join(dir, 'quarantine', 'future_version');
    assert.deepEqual((await readdir(moved)).sort(), [
      '0000000000000001.seg',
      `${queueId}.log`,
      `${queueId}.msg`,
    ]);
    assert.equal(await readFile(join(moved, `${queueId}.msg`), 'utf8'), message(2));
    assert.equal(await readFile(join(moved, `${queueId}.log`), 'utf8'), stateLog);
    assert.deepEqual(await readdir(join(dir, '3f')), []);
    assert.equal(await readFile(join(dir, 'FORMAT'), 'utf8'), '1\n');
    assert.deepEqual(spool.quarantine.counts(), { unparseable: 0, future_version: 3 });
  } finally {
    spool.close();
  }
});

test('a FORMAT file that is not a version stops the start, naming the file', async () => {
  const dir = join(root, 'garbled');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'FORMAT'), 'two\n');
  await assert.rejects(openSpool({ dir, minFreeBytes: 0, now: () => 1 }), {
    message: `queue.dir: ${join(dir, 'FORMAT')} must hold a spool format version (a positive integer), found "two"`,
  });
});

/** Every file under dir with its contents, wherever recovery put it. */
async function contentsUnder(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    names
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')),
  );
}

test('nothing recovery cannot read is deleted: the bytes are still in the spool after a start', async () => {
  const dir = join(root, 'kept');
  await mkdir(join(dir, '3f'), { recursive: true });
  const unreadable = ['\u0000\u0001 binary junk\n', 'MAILFLEET-SPOOL-1 {not json\nbody\n', message(9)];
  for (const [index, text] of unreadable.entries()) {
    await writeFile(join(dir, '3f', `3fmq2kept000${String(index)}.msg`), text);
  }
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  spool.close();
  const left = await contentsUnder(dir);
  for (const text of unreadable) assert.ok(left.includes(text), `${JSON.stringify(text)} was deleted`);
});

test('unparseable and future message files are quarantined and counted; the CLI lists and restores them', async () => {
  const dir = join(root, 'unparseable');
  const first = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  first.close();
  assert.equal(await readFile(join(dir, 'FORMAT'), 'utf8'), '1\n', 'the first start writes the version');
  const garbage = 'not a spool file at all\n';
  await writeFile(join(dir, '3f', `${queueId}.msg`), garbage);
  await writeFile(join(dir, '3f', `${queueId}.log`), stateLog);
  await writeFile(join(dir, '3f', '3fmq2future0001.msg'), message(7));

  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  const registry = new Registry();
  createQueueMetrics(registry, spool, () => 1);
  const admin = await startQueueAdmin({
    spool,
    drain: () => Promise.resolve({ handedOff: 0, remaining: 0 }),
    now: () => 1,
    port: 0,
    tokenDir: dir,
    logger: pino({ level: 'silent' }),
  });
  const output: string[] = [];
  const token = await readAdminToken(admin.tokenFile);
  const run = (...argv: string[]) =>
    runQueueCommand(argv, {
      adminUrl: `http://127.0.0.1:${String(admin.port)}`,
      token,
      fetch: globalThis.fetch,
      out: (text) => output.push(text),
      err: (text) => output.push(`ERR ${text}`),
    });
  try {
    assert.deepEqual(spool.recovery.quarantined, { unparseable: 1, future_version: 1 });
    assert.equal(await readFile(join(dir, 'quarantine', 'unparseable', `${queueId}.msg`), 'utf8'), garbage);
    assert.equal(await readFile(join(dir, 'quarantine', 'unparseable', `${queueId}.log`), 'utf8'), stateLog);
    assert.deepEqual(await readdir(join(dir, '3f')), []);
    const metrics = await registry.metrics();
    assert.match(metrics, /^mailfleet_relay_queue_quarantined_files\{reason="unparseable"\} 2$/m);
    assert.match(metrics, /^mailfleet_relay_queue_quarantined_files\{reason="future_version"\} 1$/m);

    assert.equal(await run('quarantine', 'list'), 0);
    const listed = JSON.parse(output.pop() ?? '{}') as { files: { name: string; size: number }[] };
    assert.deepEqual(
      listed.files.map((file) => [file.name, file.size]),
      [
        [`unparseable/${queueId}.log`, stateLog.length],
        [`unparseable/${queueId}.msg`, garbage.length],
        ['future_version/3fmq2future0001.msg', message(7).length],
      ],
    );

    await writeFile(join(dir, 'quarantine', 'unparseable', `${queueId}.msg`), message(1));
    assert.equal(await run('quarantine', 'restore', `unparseable/${queueId}.msg`), 0);
    assert.equal((JSON.parse(output.pop() ?? '{}') as { to: string }).to, join(dir, '3f', `${queueId}.msg`));
    assert.equal(await run('quarantine', 'restore', `unparseable/${queueId}.log`), 0);
    output.pop();
    assert.equal(await run('quarantine', 'restore', `unparseable/${queueId}.msg`), 1);
    assert.match(output.pop() ?? '', /quarantine\/unparseable\/3fmq2abcde12345\.msg does not exist/);
    assert.equal(await run('quarantine', 'restore', '../../etc/passwd'), 2);
    assert.match(output.pop() ?? '', /is not a quarantined file name/);
    assert.match(
      await registry.metrics(),
      /^mailfleet_relay_queue_quarantined_files\{reason="unparseable"\} 0$/m,
    );
  } finally {
    await admin.close();
    spool.close();
  }
  const restarted = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  try {
    assert.equal(restarted.show(queueId)?.recipients[0]?.status, 'deferred', 'the next start queues it');
  } finally {
    restarted.close();
  }
});
