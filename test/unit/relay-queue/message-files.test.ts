// The file-per-message store alone, on a real directory: what a committed draft, a state log and a
// removal leave on disk, and that each goes through the shard's directory fsync.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDirectorySync } from '../../../relay/queue/directory-sync.ts';
import { MessageFiles } from '../../../relay/queue/message-files.ts';
import type { RecipientUpdate } from '../../../relay/queue/queued-message.ts';
import { decodeHeader, decodeUpdates } from '../../../relay/queue/spool-format.ts';
import { envelopeTo, tempRoot } from './fixtures.ts';

const root = tempRoot('mailfleet-message-files-');

const envelope = envelopeTo(['a@x.test', 'b@x.test']);
const queueId = '3fmessage0001';
const deferred: RecipientUpdate = {
  indexes: [0],
  status: 'deferred',
  attempts: 1,
  nextAttemptAt: 60_000,
  reply: '451 later',
};
const delivered: RecipientUpdate = { indexes: [1], status: 'delivered', attempts: 1, nextAttemptAt: 0 };

async function store(
  name: string,
): Promise<{ dir: string; files: MessageFiles; stats: { requests: number } }> {
  const dir = join(root(), name);
  await mkdir(join(dir, '3f'), { recursive: true });
  const directorySync = createDirectorySync();
  return { dir, files: new MessageFiles(dir, directorySync), stats: directorySync.stats };
}

test('paths put a message in the shard its id names', async () => {
  const { dir, files } = await store('paths');
  assert.equal(files.path(queueId, '.msg'), join(dir, '3f', `${queueId}.msg`));
  assert.equal(files.path(queueId, '.log'), join(dir, '3f', `${queueId}.log`));
});

test('a committed draft is the header line then the body, at bodyOffset, with its shard synced', async () => {
  const { dir, files, stats } = await store('draft');
  const draft = files.draft(queueId, envelope);
  draft.write(Buffer.from('Subject: hi\r\n\r\n'));
  draft.write(Buffer.from('hello\r\n'));
  assert.equal(await draft.commit(), 22);
  assert.deepEqual(await readdir(join(dir, '3f')), [`${queueId}.msg`]);
  const bytes = await readFile(files.path(queueId, '.msg'));
  const header = decodeHeader(bytes);
  assert.ok(header.ok);
  assert.deepEqual(header.envelope, envelope);
  assert.equal(files.bodyOffset(envelope), header.bodyOffset);
  assert.equal(bytes.subarray(files.bodyOffset(envelope)).toString(), 'Subject: hi\r\n\r\nhello\r\n');
  assert.equal(stats.requests, 1, 'the rename was made durable by a shard fsync');
});

test('createState writes a new log, appendState adds to it; neither syncs the directory by itself', async () => {
  const { files, stats } = await store('state');
  await files.createState(queueId, [deferred]);
  await files.appendState(queueId, [delivered]);
  const replayed = decodeUpdates(await readFile(files.path(queueId, '.log'), 'utf8'));
  assert.deepEqual(replayed, [deferred, delivered]);
  assert.equal(stats.requests, 0);
  await files.syncShard(queueId);
  assert.equal(stats.requests, 1);
  files.removeState(queueId);
  files.removeState(queueId);
  await assert.rejects(readFile(files.path(queueId, '.log')), { code: 'ENOENT' });
});

test('remove deletes the message and its log, tolerates files already gone, and syncs the shard', async () => {
  const { dir, files, stats } = await store('remove');
  const draft = files.draft(queueId, envelope);
  draft.write(Buffer.from('x'));
  await draft.commit();
  await files.createState(queueId, [deferred]);
  await files.remove(queueId, true);
  assert.deepEqual(await readdir(join(dir, '3f')), []);
  await files.remove(queueId, true);
  assert.equal(stats.requests, 3);
});
