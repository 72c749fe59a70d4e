// The segment log behind the spool: what a restart finds after deliveries, deferrals, a torn tail
// and a message too large for a segment. Real files in a temp directory.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { after, before, test } from 'node:test';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';
import { decodeSegment, encodeDoneRecord, encodeMessageRecord } from '../../../relay/queue/segment-format.ts';
import { SegmentLog } from '../../../relay/queue/segment-log.ts';
import { openSpool, segmentsDirectoryName } from '../../../relay/queue/spool.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailfleet-segments-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const envelope = (recipient: string): InboundEnvelope => ({
  mailFrom: 'sender@example.org',
  recipients: [{ address: recipient }],
  smtpUtf8: false,
  eightBitMime: false,
  client: { address: '127.0.0.1' },
  receivedAt: 1000,
});
const bodyFor = (n: number): string => `From: sender@example.org\r\nSubject: ${n}\r\n\r\nmessage ${n}\r\n`;
const segmentFiles = async (dir: string): Promise<string[]> =>
  (await readdir(join(dir, segmentsDirectoryName))).sort();
const shardFiles = async (dir: string): Promise<string[]> =>
  (
    await Promise.all(
      (await readdir(dir))
        .filter((name) => /^[0-9a-f]{2}$/.test(name))
        .map((shard) => readdir(join(dir, shard))),
    )
  )
    .flat()
    .sort();

test('a record is laid out byte for byte as segment-format.ts documents it (spools written by earlier versions stay readable)', () => {
  const env = { ...envelope('ü@x.test'), smtpUtf8: true };
  const body = Buffer.from('Subject: layout\r\n\r\nbody\r\n');
  const id = Buffer.from('00layoutxxxx', 'latin1');
  const json = Buffer.from(JSON.stringify(env), 'utf8');
  const u32 = (value: number): Buffer => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value);
    return bytes;
  };
  const payload = Buffer.concat([Buffer.from([id.length]), id, u32(json.length), json, body]);
  const header = (kind: number, of: Buffer): Buffer =>
    Buffer.concat([Buffer.from('MFS1'), Buffer.from([kind]), u32(of.length), u32(crc32(of))]);
  assert.deepEqual(
    Buffer.concat(encodeMessageRecord('00layoutxxxx', env, body)),
    Buffer.concat([header(1, payload), payload]),
  );
  assert.deepEqual(encodeDoneRecord('00layoutxxxx'), Buffer.concat([header(2, id), id]));
});

test('records round-trip, and decoding stops at a torn or corrupt record', () => {
  const env = envelope('a@x.test');
  const message = Buffer.concat(encodeMessageRecord('00abcdefgh12', env, Buffer.from('body\r\n')));
  const done = encodeDoneRecord('00abcdefgh12');
  const decoded = decodeSegment(Buffer.concat([message, done]));
  assert.equal(decoded.validBytes, message.length + done.length);
  assert.deepEqual(
    decoded.records.map((record) => record.kind),
    ['message', 'done'],
  );
  const [first] = decoded.records;
  assert.ok(first?.kind === 'message');
  assert.deepEqual(first.envelope, env);
  assert.equal(
    Buffer.concat([message]).toString('latin1', first.bodyStart, first.bodyStart + first.bodyLength),
    'body\r\n',
  );
  for (const cut of [1, 12, 13, message.length - 1]) {
    assert.equal(decodeSegment(Buffer.concat([message, message.subarray(0, cut)])).records.length, 1);
  }
  const corrupt = Buffer.from(message);
  corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 2) ^ 0xff, corrupt.length - 2);
  assert.deepEqual(decodeSegment(Buffer.concat([corrupt, done])).records, []);
});

test('a restart finds exactly the undelivered messages of the segment log, bodies intact', async () => {
  const dir = join(root, 'restart');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const ids = Array.from({ length: 6 }, () => spool.newQueueId());
  await Promise.all(
    ids.map((id, n) => spool.accept(id, envelope(`r${n}@x.test`), Readable.from([Buffer.from(bodyFor(n))]))),
  );
  assert.deepEqual(await shardFiles(dir), [], 'small messages get no file of their own');
  assert.equal((await segmentFiles(dir)).length, 1);
  const leased = spool.leaseDue(3);
  for (const message of leased) {
    await spool.complete(message.queueId, [
      { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 0 },
    ]);
  }
  spool.close();

  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const delivered = new Set(leased.map((message) => message.queueId));
  const waiting = ids.filter((id) => !delivered.has(id));
  assert.equal(reopened.recovery.segmentMessages, 3);
  assert.deepEqual(
    reopened
      .list()
      .map((message) => message.queueId)
      .sort(),
    [...waiting].sort(),
  );
  for (const id of waiting) {
    const n = ids.indexOf(id);
    assert.equal(await text(reopened.openBody(id)), bodyFor(n));
    assert.equal(reopened.show(id)?.size, bodyFor(n).length);
    assert.match((await reopened.readHeaderSection(id, 1000)).toString(), new RegExp(`Subject: ${n}\r\n$`));
  }
  for (const message of reopened.leaseDue(10)) {
    await reopened.complete(message.queueId, [
      { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 0 },
    ]);
  }
  reopened.close();

  // The old segment is empty now: the next start deletes it and opens a new one for new messages.
  const last = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.equal(last.size(), 0);
  await last.accept(last.newQueueId(), envelope('z@x.test'), Readable.from([Buffer.from(bodyFor(9))]));
  assert.deepEqual((await segmentFiles(dir)).length, 1);
  last.close();
});

test('a torn tail (a crash mid-append) loses nothing acknowledged, and later done records still count', async () => {
  const dir = join(root, 'torn');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const ids = [spool.newQueueId(), spool.newQueueId()];
  for (const [n, id] of ids.entries()) {
    await spool.accept(id, envelope(`r${n}@x.test`), Readable.from([Buffer.from(bodyFor(n))]));
  }
  spool.close();
  const [segment] = await segmentFiles(dir);
  const torn = Buffer.concat(encodeMessageRecord('00tornxxxxxx', envelope('t@x.test'), Buffer.from('half')));
  await appendFile(join(dir, segmentsDirectoryName, segment ?? ''), torn.subarray(0, torn.length - 3));

  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.equal(reopened.recovery.tornSegments, 1);
  assert.deepEqual(
    reopened
      .list()
      .map((message) => message.queueId)
      .sort(),
    [...ids].sort(),
  );
  const [first] = reopened.leaseDue(1);
  assert.ok(first);
  await reopened.complete(first.queueId, [
    { indexes: [0], status: 'bounced', attempts: 1, nextAttemptAt: 0 },
  ]);
  reopened.close();

  const again = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.equal(again.recovery.tornSegments, 0, 'the torn tail was cut off when the segment was adopted');
  assert.deepEqual(
    again.list().map((message) => message.queueId),
    ids.filter((id) => id !== first.queueId),
  );
  again.close();
});

test('a deferred message leaves the segment for a file with its state log; the segment then goes', async () => {
  const dir = join(root, 'deferred');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const id = spool.newQueueId();
  await spool.accept(id, envelope('slow@x.test'), Readable.from([Buffer.from(bodyFor(1))]));
  const [leased] = spool.leaseDue(1);
  assert.equal(leased?.queueId, id);
  await spool.complete(id, [
    { indexes: [0], status: 'deferred', attempts: 1, nextAttemptAt: 50, reply: '451 later' },
  ]);
  assert.deepEqual(await shardFiles(dir), [`${id}.log`, `${id}.msg`]);
  assert.equal(await text(spool.openBody(id)), bodyFor(1));
  spool.close();

  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.equal(reopened.recovery.segmentMessages, 0);
  assert.deepEqual(await segmentFiles(dir), [], 'the emptied segment was deleted at start');
  const state = reopened.show(id)?.recipients[0];
  assert.deepEqual([state?.status, state?.attempts, state?.nextAttemptAt], ['deferred', 1, 50]);
  assert.equal(await text(reopened.openBody(id)), bodyFor(1));
  reopened.close();
});

test('a message larger than a segment record streams to a file of its own', async () => {
  const dir = join(root, 'large');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const id = spool.newQueueId();
  const line = `${'x'.repeat(998)}\r\n`;
  const large = `Subject: big\r\n\r\n${line.repeat(400)}`;
  const chunks = Array.from({ length: 40 }, (_, n) =>
    Buffer.from(large.slice(n * (large.length / 40), (n + 1) * (large.length / 40))),
  );
  await spool.accept(id, envelope('big@x.test'), Readable.from(chunks));
  assert.deepEqual(await shardFiles(dir), [`${id}.msg`]);
  assert.equal(spool.segmentLog.appends, 0);
  spool.close();
  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.equal(await text(reopened.openBody(id)), large);
  reopened.close();
});

test('an emptied active segment is cut back and written from the start; a restart reads what follows', async () => {
  const dir = join(root, 'reuse');
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  const big = `Subject: filler\r\n\r\n${'z'.repeat(200 * 1024)}\r\n`;
  for (let n = 0; n < 6; n += 1) {
    await spool.accept(spool.newQueueId(), envelope('a@x.test'), Readable.from([Buffer.from(big)]));
  }
  for (const message of spool.leaseDue(10)) {
    await spool.complete(message.queueId, [
      { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 0 },
    ]);
  }
  const [segment] = await segmentFiles(dir);
  const { size } = await stat(join(dir, segmentsDirectoryName, segment ?? ''));
  assert.equal(size, 0, 'over 1 MiB and empty: truncated');
  const kept = spool.newQueueId();
  await spool.accept(kept, envelope('b@x.test'), Readable.from([Buffer.from(bodyFor(7))]));
  spool.close();
  const reopened = await openSpool({ dir, minFreeBytes: 0, now: () => 5000 });
  assert.deepEqual(
    reopened.list().map((message) => message.queueId),
    [kept],
  );
  assert.equal(await text(reopened.openBody(kept)), bodyFor(7));
  reopened.close();
});

test('a segment emptied while a group commit runs is deleted without failing the commit', async () => {
  const dir = await mkdtemp(join(root, 'log-'));
  const log = new SegmentLog(dir, 4096, 1);
  const record = (id: string): Buffer[] =>
    encodeMessageRecord(id, envelope('a@x.test'), Buffer.from('x'.repeat(1500)));
  const first = log.appendMessage(record('00first00000'));
  const second = log.appendMessage(record('00second0000'));
  await log.durable();
  // The third record does not fit: a new active segment; the first one keeps two live messages.
  const third = log.appendMessage(record('00third00000'));
  assert.notEqual(third.segment.sequence, first.segment.sequence);
  log.done(first.segment, '00first00000');
  const committing = log.durable();
  // Its last message leaves while the fdatasync round is under way: the file goes at once.
  log.done(second.segment, '00second0000');
  await committing;
  assert.equal(log.stats.segments, 1);
  log.close();
});
