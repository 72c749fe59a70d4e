// Start-up recovery: the spool directory is the only state. Temporary files (a DATA that never
// committed) are deleted, complete messages are loaded with their state log replayed, and state logs
// without a message (a removal cut short) are deleted. This is the only full scan, done once.
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { shardCount, shardName } from './queue-id.ts';
import { decodeHeader, decodeUpdates } from './spool-format.ts';
import { applyUpdates, initialRecipients, type QueuedMessage } from './queued-message.ts';

export interface RecoveredMessage {
  readonly message: QueuedMessage;
  readonly bodyOffset: number;
  readonly hasLog: boolean;
}

export interface RecoveryReport {
  readonly messages: RecoveredMessage[];
  readonly discardedPartial: number;
  readonly discardedCorrupt: number;
}

export async function ensureShards(dir: string): Promise<void> {
  await Promise.all(
    Array.from({ length: shardCount }, (_, shard) => mkdir(join(dir, shardName(shard)), { recursive: true })),
  );
}

export async function recoverSpool(dir: string): Promise<RecoveryReport> {
  const messages: RecoveredMessage[] = [];
  let discardedPartial = 0;
  let discardedCorrupt = 0;
  for (let shard = 0; shard < shardCount; shard += 1) {
    const shardDir = join(dir, shardName(shard));
    const names = new Set(await readdir(shardDir));
    for (const name of names) {
      const path = join(shardDir, name);
      if (name.endsWith('.tmp')) {
        await unlink(path);
        discardedPartial += 1;
      } else if (name.endsWith('.log') && !names.has(name.replace(/\.log$/, '.msg'))) {
        await unlink(path);
      } else if (name.endsWith('.msg')) {
        const queueId = name.slice(0, -'.msg'.length);
        const recovered = await loadMessage(shardDir, queueId, names.has(`${queueId}.log`));
        if (recovered === undefined) {
          discardedCorrupt += 1;
          await unlink(path);
        } else {
          messages.push(recovered);
        }
      }
    }
  }
  return { messages, discardedPartial, discardedCorrupt };
}

async function loadMessage(
  shardDir: string,
  queueId: string,
  hasLog: boolean,
): Promise<RecoveredMessage | undefined> {
  const path = join(shardDir, `${queueId}.msg`);
  const head = await readHeaderBytes(path);
  const decoded = decodeHeader(head.bytes);
  if (!decoded.ok) return undefined;
  const updates = hasLog ? decodeUpdates(await readFile(join(shardDir, `${queueId}.log`), 'utf8')) : [];
  const recipients = applyUpdates(initialRecipients(decoded.envelope), updates);
  return {
    message: { queueId, envelope: decoded.envelope, size: head.fileSize - decoded.bodyOffset, recipients },
    bodyOffset: decoded.bodyOffset,
    hasLog,
  };
}

/** Reads until the first LF (the header line may be long: one entry per recipient). */
async function readHeaderBytes(path: string): Promise<{ bytes: Buffer; fileSize: number }> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    let length = 16384;
    for (;;) {
      const buffer = Buffer.alloc(Math.min(length, fileSize));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const bytes = buffer.subarray(0, bytesRead);
      if (bytes.includes(0x0a) || bytesRead >= fileSize) return { bytes, fileSize };
      length *= 4;
    }
  } finally {
    await handle.close();
  }
}
