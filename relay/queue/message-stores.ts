// Where the spool's messages live on disk, and their bodies in memory: the segment log for messages
// on their first attempt, a file per message for the rest, and the body cache for the first attempt.
// Each queued message carries a BodyPlace saying which store holds it; only this class changes it.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BodyCache } from './body-cache.ts';
import type { MessageFiles } from './message-files.ts';
import type { InboundEnvelope } from './message-sink.ts';
import type { QueuedMessage, RecipientUpdate } from './queued-message.ts';
import { encodeMessageRecord } from './segment-format.ts';
import type { Segment, SegmentLog } from './segment-log.ts';

export interface BodyPlace {
  /** The segment holding the message, while it is in the segment log; undefined once it has a file. */
  segment: Segment | undefined;
  /** Where the body starts: in the message's own file, or in its segment. */
  bodyOffset: number;
  /** Its file has a state log beside it. */
  hasLog: boolean;
}

export class MessageStores {
  readonly #log: SegmentLog;
  readonly #files: MessageFiles;
  readonly #bodies: BodyCache;

  constructor(log: SegmentLog, files: MessageFiles, bodies: BodyCache) {
    this.#log = log;
    this.#files = files;
    this.#bodies = bodies;
  }

  get files(): MessageFiles {
    return this.#files;
  }

  /**
   * Appends a whole message to the segment log and waits for the group commit that makes it durable.
   * When that fails the record is marked done, so a restart does not bring back what was refused.
   */
  async appendToSegment(queueId: string, envelope: InboundEnvelope, body: Buffer): Promise<BodyPlace> {
    const record = encodeMessageRecord(queueId, envelope, body);
    const placed = this.#log.appendMessage(record);
    try {
      await this.#log.durable();
    } catch (error) {
      this.#log.done(placed.segment, queueId);
      throw error;
    }
    const recordBytes = record.reduce((sum, piece) => sum + piece.length, 0);
    return { segment: placed.segment, bodyOffset: placed.offset + recordBytes - body.length, hasLog: false };
  }

  /** Keeps a body in memory for the message's first attempt, when the cache has room. */
  keepBody(queueId: string, body: Buffer): void {
    this.#bodies.keep(queueId, body);
  }

  keptBody(queueId: string): Buffer | undefined {
    return this.#bodies.get(queueId);
  }

  /** The body as received (headers included): from memory when kept, else streamed from its store. */
  openBody(message: QueuedMessage, place: BodyPlace): Readable {
    const kept = this.#bodies.get(message.queueId);
    if (kept !== undefined) return Readable.from([kept], { objectMode: false });
    if (message.size === 0) return Readable.from([], { objectMode: false });
    const path = place.segment?.path ?? this.#files.path(message.queueId, '.msg');
    const end = place.bodyOffset + message.size - 1;
    return createReadStream(path, { start: place.bodyOffset, end, highWaterMark: 65536 });
  }

  /** The header section of the body, at most maxBytes. */
  async readHeaderSection(message: QueuedMessage, place: BodyPlace, maxBytes: number): Promise<Buffer> {
    const kept = this.#bodies.get(message.queueId);
    if (kept !== undefined) return headerSection(kept.subarray(0, maxBytes));
    const handle = await open(place.segment?.path ?? this.#files.path(message.queueId, '.msg'), 'r');
    try {
      const buffer = Buffer.alloc(Math.min(maxBytes, message.size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, place.bodyOffset);
      return headerSection(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  }

  /**
   * Makes the outcomes of an attempt on a message still queued durable. A message in the segment log
   * moves to a file of its own (unless the disk is full: then its new state stays in memory until a
   * later attempt can move it, and a crash meanwhile retries it at once: duplicates, no loss).
   */
  async recordState(
    message: QueuedMessage,
    place: BodyPlace,
    updates: readonly RecipientUpdate[],
    hasSpace: boolean,
  ): Promise<void> {
    if (updates.length > 0 && place.segment !== undefined) {
      if (hasSpace) await this.#moveToFile(message, place, updates);
    } else if (updates.length > 0) {
      const created = !place.hasLog;
      await this.#files.appendState(message.queueId, updates);
      place.hasLog = true;
      if (created) await this.#files.syncShard(message.queueId);
    }
    // A retry comes later, if at all: the first attempt was what the kept body was for.
    this.#bodies.drop(message.queueId);
  }

  /** Deletes a message from its store (and its body from memory). */
  async forget(queueId: string, place: BodyPlace): Promise<void> {
    this.#bodies.drop(queueId);
    if (place.segment !== undefined) {
      this.#log.done(place.segment, queueId);
      return;
    }
    await this.#files.remove(queueId, place.hasLog);
  }

  close(): void {
    this.#log.close();
  }

  /**
   * A message whose first attempt left recipients to retry leaves the segment log for a file of its
   * own with a state log: the state log is written first, and the message file's rename is the
   * moment both count (recovery deletes a state log without its message). Only then is the segment
   * told the message left it.
   */
  async #moveToFile(
    message: QueuedMessage,
    place: BodyPlace,
    updates: readonly RecipientUpdate[],
  ): Promise<void> {
    const { queueId } = message;
    const segment = place.segment;
    if (segment === undefined) return;
    const body =
      this.#bodies.get(queueId) ?? (await readSegmentBody(segment, place.bodyOffset, message.size));
    await this.#files.createState(queueId, updates);
    const draft = this.#files.draft(queueId, message.envelope);
    try {
      draft.write(body);
      await draft.commit();
    } catch (error) {
      this.#files.removeState(queueId);
      throw error;
    }
    this.#log.done(segment, queueId);
    place.segment = undefined;
    place.bodyOffset = this.#files.bodyOffset(message.envelope);
    place.hasLog = true;
  }
}

async function readSegmentBody(segment: Segment, offset: number, size: number): Promise<Buffer> {
  const handle = await open(segment.path, 'r');
  try {
    const body = Buffer.alloc(size);
    const { bytesRead } = await handle.read(body, 0, body.length, offset);
    if (bytesRead !== body.length) throw new Error(`segment ${segment.path} ends inside a message`);
    return body;
  } finally {
    await handle.close();
  }
}

/** The header section (up to and including the CRLF before the blank line) of a body's first bytes. */
function headerSection(bytes: Buffer): Buffer {
  const end = bytes.indexOf('\r\n\r\n');
  return end < 0 ? bytes : bytes.subarray(0, end + 2);
}
