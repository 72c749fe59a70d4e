// The two stores and the body cache alone, on real files: where a body is read from, how a message
// leaves the segment log for a file of its own (and what a failed move leaves), and what forgetting
// a message removes.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { BodyCache } from '../../../relay/queue/body-cache.ts';
import { createDirectorySync } from '../../../relay/queue/directory-sync.ts';
import { MessageFiles } from '../../../relay/queue/message-files.ts';
import { MessageStores, type BodyPlace } from '../../../relay/queue/message-stores.ts';
import {
  initialRecipients,
  type QueuedMessage,
  type RecipientUpdate,
} from '../../../relay/queue/queued-message.ts';
import { SegmentLog } from '../../../relay/queue/segment-log.ts';
import { recoverSegments } from '../../../relay/queue/segment-recover.ts';
import { decodeUpdates } from '../../../relay/queue/spool-format.ts';
import { envelopeTo, tempRoot } from './fixtures.ts';

const root = tempRoot('mailfleet-message-stores-');

const envelope = envelopeTo(['a@x.test']);
const body = Buffer.from('From: sender@example.org\r\nSubject: stores\r\n\r\nbody line\r\n');
const deferred: RecipientUpdate = { indexes: [0], status: 'deferred', attempts: 1, nextAttemptAt: 9000 };
const messageOf = (queueId: string): QueuedMessage => ({
  queueId,
  envelope,
  size: body.length,
  recipients: initialRecipients(envelope),
});

interface Fixture {
  readonly dir: string;
  readonly stores: MessageStores;
  readonly log: SegmentLog;
  readonly files: MessageFiles;
}

async function fixture(name: string, cacheBytes: number): Promise<Fixture> {
  const dir = join(root(), name);
  await mkdir(join(dir, '0a'), { recursive: true });
  await mkdir(join(dir, 'segments'), { recursive: true });
  const log = new SegmentLog(join(dir, 'segments'), 1024 * 1024, 1);
  const files = new MessageFiles(dir, createDirectorySync());
  return { dir, log, files, stores: new MessageStores(log, files, new BodyCache(cacheBytes)) };
}

test('a segment append is durable when it resolves, and its place points at the body in the segment', async () => {
  const { stores, log } = await fixture('append', 0);
  const appending = stores.appendToSegment('0aappend0001', envelope, body);
  // This waiter's round begins only once the fdatasync of the round carrying the message finished.
  const nextRound = log.durable();
  const place = await appending;
  assert.equal(log.stats.rounds, 2, 'resolved only after its fdatasync finished');
  await nextRound;
  assert.ok(place.segment);
  assert.equal(place.hasLog, false);
  const onDisk = await readFile(place.segment.path);
  assert.deepEqual(onDisk.subarray(place.bodyOffset, place.bodyOffset + body.length), body);
  stores.close();
});

test('bodies come from memory while kept, else from the segment, else from the message file', async () => {
  const { stores, files } = await fixture('read', 1024);
  const message = messageOf('0aread000001');
  const place = await stores.appendToSegment(message.queueId, envelope, body);
  stores.keepBody(message.queueId, body);
  assert.equal(stores.keptBody(message.queueId), body);
  assert.equal(await text(stores.openBody(message, place)), body.toString());

  const fromSegment = messageOf('0aread000002');
  const segmentPlace = await stores.appendToSegment(fromSegment.queueId, envelope, body);
  assert.equal(stores.keptBody(fromSegment.queueId), undefined);
  assert.equal(await text(stores.openBody(fromSegment, segmentPlace)), body.toString());
  assert.equal(
    (await stores.readHeaderSection(fromSegment, segmentPlace, 4096)).toString(),
    'From: sender@example.org\r\nSubject: stores\r\n',
  );
  assert.equal((await stores.readHeaderSection(fromSegment, segmentPlace, 10)).toString(), 'From: send');

  const fromFile = messageOf('0aread000003');
  const draft = files.draft(fromFile.queueId, envelope);
  draft.write(body);
  await draft.commit();
  const filePlace: BodyPlace = { segment: undefined, bodyOffset: files.bodyOffset(envelope), hasLog: false };
  assert.equal(await text(stores.openBody(fromFile, filePlace)), body.toString());
  assert.equal(
    (await stores.readHeaderSection(fromFile, filePlace, 4096)).toString(),
    'From: sender@example.org\r\nSubject: stores\r\n',
  );
  assert.equal(await text(stores.openBody({ ...fromFile, size: 0 }, filePlace)), '');
  stores.close();
});

test('a deferral moves a segment message to a file with its state log, then marks it done in the segment', async () => {
  const { dir, stores, files } = await fixture('move', 1024);
  const message = messageOf('0amove000001');
  const place = await stores.appendToSegment(message.queueId, envelope, body);
  stores.keepBody(message.queueId, body);
  await stores.recordState(message, place, [deferred], true);
  assert.deepEqual(place, { segment: undefined, bodyOffset: files.bodyOffset(envelope), hasLog: true });
  assert.equal(stores.keptBody(message.queueId), undefined, 'the kept body served its first attempt');
  assert.deepEqual((await readdir(join(dir, '0a'))).sort(), ['0amove000001.log', '0amove000001.msg']);
  assert.deepEqual(decodeUpdates(await readFile(files.path(message.queueId, '.log'), 'utf8')), [deferred]);
  assert.equal(await text(stores.openBody(message, place)), body.toString());
  stores.close();
  const recovered = await recoverSegments(join(dir, 'segments'));
  assert.deepEqual(recovered.messages, [], 'the segment holds a done record for it');
});

test('without space the message stays in its segment; a later outcome appends to its file state log', async () => {
  const { dir, stores, files } = await fixture('full', 0);
  const message = messageOf('0afull000001');
  const place = await stores.appendToSegment(message.queueId, envelope, body);
  const segment = place.segment;
  await stores.recordState(message, place, [deferred], false);
  assert.equal(place.segment, segment);
  assert.deepEqual(await readdir(join(dir, '0a')), []);
  await stores.recordState(message, place, [], true);
  assert.equal(place.segment, segment, 'nothing to record: nothing moves');
  await stores.recordState(message, place, [deferred], true);
  assert.equal(place.segment, undefined);
  const second: RecipientUpdate = { ...deferred, attempts: 2, nextAttemptAt: 20_000 };
  await stores.recordState(message, place, [second], true);
  assert.deepEqual(decodeUpdates(await readFile(files.path(message.queueId, '.log'), 'utf8')), [
    deferred,
    second,
  ]);
  stores.close();
});

test('a move that fails leaves no state log and the message in its segment', async () => {
  const { dir, stores, files } = await fixture('move-fails', 0);
  const message = messageOf('0amovefail01');
  const place = await stores.appendToSegment(message.queueId, envelope, body);
  // A leftover temporary file of that name makes the draft's exclusive create fail (EEXIST).
  await writeFile(files.path(message.queueId, '.tmp'), 'leftover');
  await assert.rejects(stores.recordState(message, place, [deferred], true), { code: 'EEXIST' });
  assert.ok(place.segment, 'still in its segment');
  assert.equal(place.hasLog, false);
  assert.deepEqual(
    await readdir(join(dir, '0a')),
    [],
    'no .log left (the discarded draft took its .tmp along)',
  );
  stores.close();
  const recovered = await recoverSegments(join(dir, 'segments'));
  assert.deepEqual(
    recovered.messages.map(({ queueId }) => queueId),
    [message.queueId],
    'no done record: a restart still finds it',
  );
});

test('forget marks a segment message done and deletes a file message with its log', async () => {
  const { dir, stores } = await fixture('forget', 1024);
  const inSegment = messageOf('0aforget0001');
  const segmentPlace = await stores.appendToSegment(inSegment.queueId, envelope, body);
  stores.keepBody(inSegment.queueId, body);
  await stores.forget(inSegment.queueId, segmentPlace);
  assert.equal(stores.keptBody(inSegment.queueId), undefined);

  const inFile = messageOf('0aforget0002');
  const filePlace = await stores.appendToSegment(inFile.queueId, envelope, body);
  await stores.recordState(inFile, filePlace, [deferred], true);
  assert.equal((await readdir(join(dir, '0a'))).length, 2);
  await stores.forget(inFile.queueId, filePlace);
  assert.deepEqual(await readdir(join(dir, '0a')), []);
  stores.close();
  assert.deepEqual((await recoverSegments(join(dir, 'segments'))).messages, []);
});
