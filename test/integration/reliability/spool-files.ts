// Read-only looks at a spool directory and at smtp-sink's dumps, for tests that check what survived
// a crash. The spool is only inspected while no relay runs on it.
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recoverSegments } from '../../../relay/queue/segment-recover.ts';
import { segmentsDirectoryName } from '../../../relay/queue/spool.ts';
import { endMarker } from './smtp-load.ts';

export interface SpoolFile {
  readonly queueId: string;
  readonly path: string;
}

/** Every file of the spool with the given suffix (.msg, .tmp, .log), across all shards. */
export async function spoolFiles(spoolDir: string, suffix: string): Promise<SpoolFile[]> {
  // Only the shard directories: the spool's root holds other entries too (segments/, a format file).
  const shards = (await readdir(spoolDir)).filter((name) => /^[0-9a-f]{2}$/.test(name));
  const perShard = await Promise.all(
    shards.map(async (shard) =>
      (await readdir(join(spoolDir, shard)))
        .filter((name) => name.endsWith(suffix))
        .map((name) => ({ queueId: name.slice(0, -suffix.length), path: join(spoolDir, shard, name) })),
    ),
  );
  return perShard.flat();
}

/**
 * The Message-ID of every message queued in the spool, in either store: a `.msg` file of its own, or
 * a message record of a segment without its done record (read with the relay's own recovery code).
 */
export async function queuedMessageIds(spoolDir: string): Promise<string[]> {
  const ids: (string | undefined)[] = [];
  for (const file of await spoolFiles(spoolDir, '.msg')) ids.push(await messageIdIn(file.path));
  const segmentsDir = join(spoolDir, segmentsDirectoryName);
  const segments = await recoverSegments(segmentsDir);
  const names = new Map(
    (await readdir(segmentsDir)).map((name) => [Number(name.replace(/\.seg$/, '')), name] as const),
  );
  for (const message of segments.messages) {
    const name = names.get(message.sequence);
    if (name !== undefined) ids.push(await messageIdIn(join(segmentsDir, name), message.bodyStart));
  }
  return ids.filter((id) => id !== undefined);
}

/** The Message-ID in the first bytes of a file (a spool entry or a dump) from `offset`, if any. */
export async function messageIdIn(path: string, offset = 0): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return /^Message-ID: (<[^>\r\n]+>)/m.exec(buffer.toString('latin1', 0, bytesRead))?.[1];
  } finally {
    await handle.close();
  }
}

/**
 * Counts complete copies per Message-ID in smtp-sink's dump directory. A dump is complete once it
 * holds the message's end marker; files already found complete are not read again.
 */
export class SinkTally {
  readonly #dumpDir: string;
  readonly #complete = new Map<string, string>();
  readonly #copies = new Map<string, number>();

  constructor(dumpDir: string) {
    this.#dumpDir = dumpDir;
  }

  /** Reads new and still partial dumps; returns the copies per Message-ID so far. */
  async refresh(): Promise<ReadonlyMap<string, number>> {
    const names = (await readdir(this.#dumpDir)).filter((name) => !this.#complete.has(name));
    for (const name of names) {
      // smtp-sink removes the dump of a transaction that was cut off.
      const text = await readFile(join(this.#dumpDir, name), 'latin1').catch(() => '');
      const messageId = /^Message-ID: (<[^>\r\n]+>)/m.exec(text)?.[1];
      if (messageId === undefined || !text.includes(endMarker(messageId))) continue;
      this.#complete.set(name, messageId);
      this.#copies.set(messageId, (this.#copies.get(messageId) ?? 0) + 1);
    }
    return this.#copies;
  }

  /** Dump files not complete yet (a transaction being received, or cut off). */
  async partialCount(): Promise<number> {
    return (await readdir(this.#dumpDir)).filter((name) => !this.#complete.has(name)).length;
  }
}
