// Start-up recovery: the spool directory is the only state. Temporary files (a DATA that never
// committed) are deleted, complete messages are loaded with their state log replayed, and state logs
// without a message (a removal cut short) are deleted. A message file this relay cannot read is
// never deleted: it goes to the quarantine with its state log (quarantine.ts). This is the only full
// scan, done once.
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { shardCount, shardName } from './queue-id.ts';
import { quarantineFile, type QuarantineReason } from './quarantine.ts';
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
  /** Message files moved to the quarantine by this start, by reason. */
  readonly quarantined: Readonly<Record<QuarantineReason, number>>;
}

export async function ensureShards(dir: string): Promise<void> {
  await Promise.all(
    Array.from({ length: shardCount }, (_, shard) => mkdir(join(dir, shardName(shard)), { recursive: true })),
  );
}

export async function recoverSpool(dir: string): Promise<RecoveryReport> {
  const messages: RecoveredMessage[] = [];
  let discardedPartial = 0;
  const quarantined = { unparseable: 0, future_version: 0 };
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
        const hasLog = names.has(`${queueId}.log`);
        const recovered = await loadMessage(shardDir, queueId, hasLog);
        if ('reason' in recovered) {
          quarantined[recovered.reason] += 1;
          await quarantineFile(dir, path, name, recovered.reason);
          const log = `${queueId}.log`;
          if (hasLog) await quarantineFile(dir, join(shardDir, log), log, recovered.reason);
        } else {
          messages.push(recovered);
        }
      }
    }
  }
  return { messages, discardedPartial, quarantined };
}

async function loadMessage(
  shardDir: string,
  queueId: string,
  hasLog: boolean,
): Promise<RecoveredMessage | { readonly reason: QuarantineReason }> {
  const path = join(shardDir, `${queueId}.msg`);
  const head = await readHeaderBytes(path);
  const decoded = decodeHeader(head.bytes);
  if (!decoded.ok) return { reason: decoded.newerFormat ? 'future_version' : 'unparseable' };
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
