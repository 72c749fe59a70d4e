// One message being received, alone: with real stores on a temp directory and a plain map as the
// queue, which store a draft picks by size, that it is queued only once durable, and how it ends.
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { BodyCache } from '../../../relay/queue/body-cache.ts';
import { createDirectorySync } from '../../../relay/queue/directory-sync.ts';
import { MessageFiles } from '../../../relay/queue/message-files.ts';
import { MessageStores, type BodyPlace } from '../../../relay/queue/message-stores.ts';
import type { QueuedMessage } from '../../../relay/queue/queued-message.ts';
import { SegmentLog } from '../../../relay/queue/segment-log.ts';
import {
  segmentMessageMaxBytes,
  SpoolMessageDraft,
  type DraftQueue,
} from '../../../relay/queue/spool-draft.ts';
import { envelopeTo, tempRoot } from './fixtures.ts';

const root = tempRoot('mailfleet-spool-draft-');

const envelope = envelopeTo(['a@x.test', 'b@y.test']);

interface Queued {
  readonly message: QueuedMessage;
  readonly place: BodyPlace;
  /** Group-commit rounds the segment log had begun when the message was queued. */
  readonly roundsBegun: number;
}

async function queueIn(name: string): Promise<{
  dir: string;
  queue: DraftQueue;
  queued: Map<string, Queued>;
  stores: MessageStores;
  log: SegmentLog;
  writeErrors: unknown[];
}> {
  const dir = join(root(), name);
  await mkdir(join(dir, '1b'), { recursive: true });
  await mkdir(join(dir, 'segments'), { recursive: true });
  const log = new SegmentLog(join(dir, 'segments'), 16 * 1024 * 1024, 1);
  const stores = new MessageStores(
    log,
    new MessageFiles(dir, createDirectorySync()),
    new BodyCache(1024 * 1024),
  );
  const queued = new Map<string, Queued>();
  const writeErrors: unknown[] = [];
  const queue: DraftQueue = {
    stores,
    has: (queueId) => queued.has(queueId),
    add(message, place) {
      queued.set(message.queueId, { message, place: { ...place }, roundsBegun: log.stats.rounds });
    },
    writeError(error, queueId) {
      writeErrors.push(error);
      return new Error(`reported for ${queueId}`, { cause: error });
    },
  };
  return { dir, queue, queued, stores, log, writeErrors };
}

test('a small message goes to the segment log, is queued once durable, and its body is kept', async () => {
  const { dir, queue, queued, stores, log } = await queueIn('small');
  const draft = new SpoolMessageDraft('1bsmall00001', envelope, queue);
  draft.write(Buffer.from('Subject: small\r\n\r\n'));
  draft.write(Buffer.alloc(0));
  draft.write(Buffer.from('hello\r\n'));
  assert.equal(queued.size, 0, 'nothing is queued before commit');
  const committing = draft.commit();
  // Waits in the round after the one carrying the message: that round begins the moment the first
  // one's fdatasync has finished, so a message queued before then sees only one round begun.
  const nextRound = log.durable();
  assert.deepEqual(await committing, { queueId: '1bsmall00001', size: 25 });
  await nextRound;
  const entry = queued.get('1bsmall00001');
  assert.ok(entry?.place.segment, 'in a segment');
  assert.equal(entry.roundsBegun, 2, 'queued only once the fdatasync of its round had finished');
  assert.deepEqual(
    entry.message.recipients.map(({ status, nextAttemptAt }) => [status, nextAttemptAt]),
    [
      ['pending', 1000],
      ['pending', 1000],
    ],
  );
  assert.equal(stores.keptBody('1bsmall00001')?.toString(), 'Subject: small\r\n\r\nhello\r\n');
  assert.deepEqual(await readdir(join(dir, '1b')), []);
  assert.throws(
    () => {
      draft.write(Buffer.from('more'));
    },
    (error: Error) => String(error.cause).includes('write to 1bsmall00001 after commit or discard'),
  );
});

test('a message past segmentMessageMaxBytes streams to a file of its own and is not kept in memory', async () => {
  const { dir, queue, queued, stores } = await queueIn('large');
  const draft = new SpoolMessageDraft('1blarge00001', envelope, queue);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const chunks = Math.ceil(segmentMessageMaxBytes / chunk.length) + 1;
  for (let n = 0; n < chunks; n += 1) draft.write(chunk);
  assert.deepEqual(await readdir(join(dir, '1b')), ['1blarge00001.tmp'], 'written out while it arrives');
  await draft.commit();
  const entry = queued.get('1blarge00001');
  assert.ok(entry);
  assert.equal(entry.place.segment, undefined);
  assert.equal(entry.message.size, chunks * chunk.length);
  assert.deepEqual(await readdir(join(dir, '1b')), ['1blarge00001.msg']);
  assert.equal(stores.keptBody('1blarge00001'), undefined);
  assert.equal((await text(stores.openBody(entry.message, entry.place))).length, chunks * chunk.length);
});

test('exactly segmentMessageMaxBytes still fits a segment record', async () => {
  const { queue, queued } = await queueIn('edge');
  const draft = new SpoolMessageDraft('1bedge000001', envelope, queue);
  draft.write(Buffer.alloc(segmentMessageMaxBytes, 'y'));
  await draft.commit();
  assert.ok(queued.get('1bedge000001')?.place.segment);
});

test('a discarded draft leaves nothing and cannot be committed; discard is safe twice', async () => {
  const { dir, queue, queued } = await queueIn('discard');
  const small = new SpoolMessageDraft('1bdiscard001', envelope, queue);
  small.write(Buffer.from('x'));
  small.discard();
  small.discard();
  await assert.rejects(small.commit(), /commit of 1bdiscard001 after discard/);
  const large = new SpoolMessageDraft('1bdiscard002', envelope, queue);
  large.write(Buffer.alloc(segmentMessageMaxBytes + 1, 'z'));
  large.discard();
  assert.deepEqual(await readdir(join(dir, '1b')), []);
  assert.equal(queued.size, 0);
});

test('a commit never replaces a message of the same id already queued', async () => {
  const { queue } = await queueIn('in-use');
  const first = new SpoolMessageDraft('1binuse00001', envelope, queue);
  const second = new SpoolMessageDraft('1binuse00001', envelope, queue);
  first.write(Buffer.from('first'));
  second.write(Buffer.from('second'));
  await first.commit();
  await assert.rejects(second.commit(), /queue id 1binuse00001 is in use/);
});

test('a write that fails is reported through writeError and discards the draft', async () => {
  const { dir, queue, queued, writeErrors } = await queueIn('fails');
  const draft = new SpoolMessageDraft('1bfails00001', envelope, queue);
  draft.write(Buffer.alloc(segmentMessageMaxBytes, 'a'));
  // The shard directory is gone: the file the draft spills into cannot be created.
  await rm(join(dir, '1b'), { recursive: true });
  assert.throws(() => {
    draft.write(Buffer.from('b'));
  }, /reported for 1bfails00001/);
  assert.equal((writeErrors[0] as NodeJS.ErrnoException).code, 'ENOENT');
  await assert.rejects(draft.commit(), (error: Error) =>
    String(error.cause).includes('commit after discarded'),
  );
  assert.equal(queued.size, 0);
});
