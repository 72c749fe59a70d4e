// Looks at a spool directory and at smtp-sink's dumps, for tests that check what survived a crash.
// The spool is only read, and only while no relay runs on it; an audit of the dumps removes them.
import { open, readdir, readFile, unlink } from 'node:fs/promises';
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

/** The value of the first Message-ID header line in a message, a spool entry or a dump, if any. */
export function messageIdOf(text: string): string | undefined {
  return /^Message-ID: (<[^>\r\n]+>)/m.exec(text)?.[1];
}

/** The Message-ID in the first bytes of a file (a spool entry or a dump) from `offset`, if any. */
export async function messageIdIn(path: string, offset = 0): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return messageIdOf(buffer.toString('latin1', 0, bytesRead));
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
      const messageId = messageIdOf(text);
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

export interface SinkAudit {
  /** The Message-ID of each dump that holds a message the load sent, whole and unchanged (one per copy). */
  readonly intact: readonly string[];
  /** Every other dump: its file name and what is wrong with it. */
  readonly bad: readonly string[];
}

/**
 * Checks every dump in smtp-sink's directory against the message the load sent under its Message-ID:
 * after the trace lines smtp-sink and the relay put in front (X-Client-*, Received:), the dump must be
 * that message byte for byte (smtp-sink writes LF line ends and ends a dump with an empty line). A
 * dump whose Message-ID the load never sent, or none, is bad too. Audited dumps are removed, so the
 * next audit sees only what arrived since and a long soak does not fill the disk; audit only while
 * nothing is being delivered (a dump still being written would read as partial).
 */
export async function auditSinkDumps(
  dumpDir: string,
  sentMessage: (messageId: string) => string | undefined,
): Promise<SinkAudit> {
  const intact: string[] = [];
  const bad: string[] = [];
  for (const name of (await readdir(dumpDir)).sort()) {
    const path = join(dumpDir, name);
    const text = await readFile(path, 'latin1');
    const messageId = messageIdOf(text);
    const sent = messageId === undefined ? undefined : sentMessage(messageId);
    if (messageId === undefined || sent === undefined) {
      bad.push(`${name}: not a message the load sent (Message-ID ${messageId ?? 'absent'})`);
    } else {
      const expected = `${sent.replaceAll('\r\n', '\n')}\n`;
      const start = text.indexOf(`\n${expected.slice(0, expected.indexOf('\n') + 1)}`);
      if (start !== -1 && text.slice(start + 1) === expected) intact.push(messageId);
      else bad.push(`${name}: ${messageId} arrived partial or altered`);
    }
    await unlink(path);
  }
  return { intact, bad };
}
