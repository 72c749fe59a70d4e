// A spool's start alone: what openSpoolDirectory makes of a fresh and of a used directory, and how
// indexRecovered fills a bare QueueIndex from both stores, real files in a temp directory.
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDirectorySync } from '../../../relay/queue/directory-sync.ts';
import { MessageFiles } from '../../../relay/queue/message-files.ts';
import { QueueIndex } from '../../../relay/queue/queue-index.ts';
import { encodeMessageRecord } from '../../../relay/queue/segment-format.ts';
import { SegmentLog, segmentsDirectoryName } from '../../../relay/queue/segment-log.ts';
import { recoverSegments } from '../../../relay/queue/segment-recover.ts';
import { indexRecovered, openSpoolDirectory } from '../../../relay/queue/spool-startup.ts';
import { envelopeTo, tempRoot } from './fixtures.ts';

const root = tempRoot('mailfleet-spool-startup-');

const envelope = envelopeTo(['a@x.test']);
const body = Buffer.from('Subject: start\r\n\r\nbody\r\n');

test('a fresh directory gets its FORMAT, 64 shards and segments/, and an empty index', async () => {
  const dir = join(root(), 'fresh');
  const opened = await openSpoolDirectory(dir, false, 0);
  assert.equal((await readFile(join(dir, 'FORMAT'), 'utf8')).trim(), '1');
  const names = await readdir(dir);
  assert.equal(names.filter((name) => /^[0-9a-f]{2}$/.test(name)).length, 64);
  assert.ok((await stat(join(dir, segmentsDirectoryName))).isDirectory());
  assert.deepEqual(
    [opened.recovery.messages, opened.recovery.segmentMessages, opened.recovery.tornSegments],
    [[], 0, 0],
  );
  const index = new QueueIndex();
  indexRecovered(index, opened);
  assert.equal(index.size, 0);
  opened.log.close();
});

test('indexRecovered takes messages from both stores; one in both (a move cut short) comes from its file', async () => {
  const dir = join(root(), 'used');
  const first = await openSpoolDirectory(dir, false, 0);
  first.log.close();
  const log = new SegmentLog(join(dir, segmentsDirectoryName), 1024 * 1024, 1);
  const appended = ['00insegment1', '00moved00001'].map((queueId) =>
    log.appendMessage(encodeMessageRecord(queueId, envelope, body)),
  );
  await log.durable();
  log.close();
  const files = new MessageFiles(dir, createDirectorySync());
  for (const queueId of ['00moved00001', '00onlyfile01']) {
    const draft = files.draft(queueId, envelope);
    draft.write(body);
    await draft.commit();
  }
  await files.createState('00moved00001', [
    { indexes: [0], status: 'deferred', attempts: 1, nextAttemptAt: 5000 },
  ]);

  const opened = await openSpoolDirectory(dir, false, 0);
  assert.equal(opened.recovery.segmentMessages, 2);
  const index = new QueueIndex();
  indexRecovered(index, opened);
  assert.equal(index.size, 3);
  const inSegment = index.require('00insegment1');
  assert.equal(inSegment.place.segment?.sequence, appended[0]?.segment.sequence);
  const segmentBytes = await readFile(inSegment.place.segment?.path ?? '');
  const start = inSegment.place.bodyOffset;
  assert.deepEqual(segmentBytes.subarray(start, start + inSegment.message.size), body);
  const moved = index.require('00moved00001');
  assert.deepEqual(moved.place, { segment: undefined, bodyOffset: files.bodyOffset(envelope), hasLog: true });
  assert.equal(moved.message.recipients[0]?.status, 'deferred', 'the state log was replayed');
  assert.equal(moved.dueAt, 5000);
  const onlyFile = index.require('00onlyfile01');
  assert.equal(onlyFile.place.hasLog, false);
  assert.equal(onlyFile.dueAt, 1000);
  opened.log.close();
  const segments = await recoverSegments(join(dir, segmentsDirectoryName));
  assert.deepEqual(
    segments.messages.map(({ queueId }) => queueId),
    ['00insegment1'],
    'the moved message was marked done in its segment',
  );
});
