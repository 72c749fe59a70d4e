// The segment log's group commit under queue.commitDelayMs: who waits for company, who does not,
// and that a waiting message is still settled only by a sync that covers it. Real files in a temp
// directory; rounds are read from the log's own counters, never from timings.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';
import { decodeSegment, encodeMessageRecord } from '../../../relay/queue/segment-format.ts';
import { SegmentLog, segmentFileName } from '../../../relay/queue/segment-log.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailfleet-group-commit-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const envelope: InboundEnvelope = {
  mailFrom: 'sender@example.org',
  recipients: [{ address: 'rcpt@example.net' }],
  smtpUtf8: false,
  eightBitMime: false,
  client: { address: '127.0.0.1' },
  receivedAt: 1000,
};
const record = (queueId: string): Buffer[] => encodeMessageRecord(queueId, envelope, Buffer.from('body'));
/** Long enough that a test finishing before it shows the round did not wait for it. */
const longDelayMs = 50;

let lastDir = '';
async function openLog(commitDelayMs: number, sessions: () => number): Promise<SegmentLog> {
  lastDir = await mkdtemp(join(root, 'log-'));
  const log = new SegmentLog(lastDir, 1 << 20, 1, commitDelayMs);
  log.waitForSessions(sessions);
  return log;
}

/** One message's append and commit, as the spool does it. */
function commit(log: SegmentLog, queueId: string): Promise<void> {
  log.appendMessage(record(queueId));
  return log.durable();
}

test('a lone sender never waits: each message gets its own round', async () => {
  const log = await openLog(longDelayMs, () => 1);
  for (let index = 0; index < 5; index += 1) await commit(log, `00lone${String(index).padStart(6, '0')}`);
  assert.equal(log.stats.rounds, 5);
  log.close();
});

test('under concurrent load a round waits for company and starts once every open session has a message waiting', async () => {
  const log = await openLog(30_000, () => 3);
  // The first round starts at once (no company seen yet); a message arriving while it syncs shows
  // concurrent load, so the round after it waits.
  const first = commit(log, '00first00000');
  const second = commit(log, '00second0000');
  await first;
  assert.equal(log.stats.rounds, 1);
  // With a 30 s delay, only the third session's message can start the round: all three are waiting.
  const third = commit(log, '00third00000');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(log.stats.rounds, 1, 'the second round waits while a session has no message waiting');
  const fourth = commit(log, '00fourth0000');
  await Promise.all([second, third, fourth]);
  assert.equal(log.stats.rounds, 2, 'the second, third and fourth message share one fdatasync');
  log.close();
});

test('a waiting round starts when its delay is up, with the company it has', async () => {
  const log = await openLog(20, () => Number.POSITIVE_INFINITY);
  // The first message's round starts at once; the two that come while it syncs share the next one,
  // which shows concurrent load.
  await Promise.all([commit(log, '00warm000001'), commit(log, '00warm000002'), commit(log, '00warm000003')]);
  assert.equal(log.stats.rounds, 2);
  const late = commit(log, '00late000001');
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.all([late, commit(log, '00late000002')]);
  assert.equal(log.stats.rounds, 3, 'the first late message waited, and the second joined its round');
  log.close();
});

test('with commitDelayMs 0 a round starts as soon as the one before it ends', async () => {
  const log = await openLog(0, () => Number.POSITIVE_INFINITY);
  const first = commit(log, '00zero000001');
  const second = commit(log, '00zero000002');
  await Promise.all([first, second]);
  assert.equal(log.stats.rounds, 2, 'the message that came during the first round did not wait for a third');
  log.close();
});

test('closing the log while a round waits syncs the messages and settles them, and takes no more', async () => {
  let openSessions = 2;
  const log = await openLog(30_000, () => openSessions);
  // Concurrent load shown: the second round covers two messages, which start it at once.
  const ids = ['00close00001', '00close00002', '00close00003'];
  await Promise.all(ids.map((id) => commit(log, id)));
  assert.equal(log.stats.rounds, 2);
  openSessions = 5;
  const waiting = commit(log, '00close00004');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(log.stats.rounds, 2, 'the third round waits for company');
  log.close();
  await waiting;
  const segment = decodeSegment(await readFile(join(lastDir, segmentFileName(1))));
  assert.deepEqual(
    segment.records.map((found) => found.queueId),
    [...ids, '00close00004'],
  );
  assert.throws(() => log.appendMessage(record('00after00000')), /closed/);
});
