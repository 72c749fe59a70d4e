import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { openSpool } from '../../../relay/queue/spool.ts';
import { envelopeTo } from './fixtures.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailfleet-spool-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const body = 'From: sender@example.org\r\nSubject: hi\r\n\r\nhello\r\n';
/** The files of every shard directory (not FORMAT, segments/ or quarantine/). */
const shardFiles = async (dir: string): Promise<string[]> =>
  (
    await Promise.all(
      (await readdir(dir))
        .filter((name) => /^[0-9a-f]{2}$/.test(name))
        .map((shard) => readdir(join(dir, shard))),
    )
  ).flat();

test('accept stores the body, survives a reopen, and the lease/complete cycle removes it', async () => {
  const dir = join(root, 'cycle');
  let time = 5000;
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => time });
  const queueId = spool.newQueueId();
  const accepted = await spool.accept(queueId, envelopeTo(['a@x.test', 'b@y.test']), Readable.from([body]));
  assert.equal(accepted.size, Buffer.byteLength(body));
  assert.equal(await text(spool.openBody(queueId)), body);
  assert.equal(
    (await spool.readHeaderSection(queueId, 4096)).toString(),
    'From: sender@example.org\r\nSubject: hi\r\n',
  );
  const [leased] = spool.leaseDue(10);
  assert.equal(leased?.queueId, queueId);
  assert.deepEqual(spool.leaseDue(10), [], 'a leased message is not leased twice');
  await spool.complete(queueId, [
    { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: time, reply: '250 ok' },
    { indexes: [1], status: 'deferred', attempts: 1, nextAttemptAt: time + 60_000, reply: '451 later' },
  ]);
  assert.deepEqual(spool.leaseDue(10), [], 'deferred until its next attempt');
  assert.equal(spool.nextDueAt(), time + 60_000);
  spool.close();

  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => time });
  const shown = reopened.show(queueId);
  assert.deepEqual(
    shown?.recipients.map((state) => [state.status, state.attempts, state.lastReply]),
    [
      ['delivered', 1, '250 ok'],
      ['deferred', 1, '451 later'],
    ],
  );
  time += 60_000;
  assert.equal(reopened.leaseDue(10).length, 1);
  await reopened.complete(queueId, [{ indexes: [1], status: 'bounced', attempts: 2, nextAttemptAt: time }]);
  assert.equal(reopened.size(), 0);
  const files = await shardFiles(dir);
  assert.deepEqual(files, []);
  reopened.close();
});

test('recovery discards partial files and orphan logs, and drops a torn state line', async () => {
  const dir = join(root, 'recovery');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const queueId = spool.newQueueId();
  await spool.accept(queueId, envelopeTo(['a@x.test']), Readable.from([body]));
  // A deferral moves the message out of the segment log into a file of its own with a state log.
  const [leased] = spool.leaseDue(1);
  assert.equal(leased?.queueId, queueId);
  await spool.complete(queueId, [{ indexes: [0], status: 'deferred', attempts: 1, nextAttemptAt: 5 }]);
  const shard = join(dir, queueId.slice(0, 2));
  spool.close();
  await writeFile(join(shard, '00partial0000.tmp'), 'MAILFLEET-SPOOL-1 {"mailFrom":');
  await writeFile(join(shard, '00orphan00000.log'), '{}\n');
  await writeFile(
    join(shard, `${queueId}.log`),
    '{"indexes":[0],"status":"deferred","attempts":1,"nextAttemptAt":9}\n{"ind',
  );
  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  assert.equal(reopened.recovery.discardedPartial, 1);
  assert.equal(reopened.show(queueId)?.recipients[0]?.status, 'deferred');
  assert.deepEqual((await readdir(shard)).sort(), [`${queueId}.log`, `${queueId}.msg`]);
  reopened.close();
});

test('a body stream that fails leaves nothing queued', async () => {
  const dir = join(root, 'failing');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  const failing = new Readable({
    read() {
      this.push('From: x\r\n');
      this.destroy(new Error('client went away'));
    },
  });
  await assert.rejects(
    spool.accept(spool.newQueueId(), envelopeTo(['a@x.test']), failing),
    /client went away/,
  );
  assert.equal(spool.size(), 0);
  const files = await shardFiles(dir);
  assert.deepEqual(files, []);
  spool.close();
});

test('running out of space mid-write is a SpoolFullError (452 4.3.1), and leaves nothing queued', async () => {
  const dir = join(root, 'enospc');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 1 });
  const filling = new Readable({
    read() {
      this.push('From: x\r\n');
      this.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    },
  });
  await assert.rejects(
    spool.accept(spool.newQueueId(), envelopeTo(['a@x.test']), filling),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'SpoolFullError');
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
      return true;
    },
  );
  assert.equal(spool.size(), 0);
  const files = await shardFiles(dir);
  assert.deepEqual(files, []);
  spool.close();
});

test('hasSpace and freeBytes follow the free-space probe and recover when space returns', async () => {
  let free = 10;
  const spool = await openSpool({
    dir: join(root, 'space'),
    minFreeBytes: 100,
    now: () => 1,
    freeBytes: () => Promise.resolve(free),
    spaceCheckIntervalMs: 5,
  });
  assert.equal(spool.hasSpace(), false);
  assert.equal(spool.freeBytes(), 10);
  assert.equal(spool.minFreeBytes, 100);
  await assert.rejects(
    spool.accept(spool.newQueueId(), envelopeTo(['a@x.test']), Readable.from([body])),
    /bytes free/,
  );
  free = 1000;
  while (!spool.hasSpace()) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(spool.hasSpace(), true);
  assert.equal(spool.freeBytes(), 1000);
  spool.close();
});

test('concurrent accepts share fdatasyncs (group commit) and list/retry/remove work', async () => {
  const spool = await openSpool({ dir: join(root, 'group'), minFreeBytes: 0, now: () => 1 });
  const ids = Array.from({ length: 50 }, () => spool.newQueueId());
  await Promise.all(ids.map((id) => spool.accept(id, envelopeTo(['a@x.test']), Readable.from([body]))));
  assert.equal(spool.size(), 50);
  assert.equal(spool.segmentLog.appends, 50);
  assert.ok(spool.segmentLog.rounds < 50, `${spool.segmentLog.rounds} fdatasync rounds for 50`);
  assert.equal(spool.list({ recipient: 'x.test' }).length, 50);
  assert.equal(spool.list({ sender: 'nobody' }).length, 0);
  assert.equal(await spool.remove(ids[0] ?? ''), true);
  assert.equal(spool.retryNow(), 49);
  spool.close();
});
