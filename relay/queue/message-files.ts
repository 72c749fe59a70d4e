// The store of a file per message: `<shard>/<id>.msg` (header line + body) and `<id>.log` (the
// append-only state log), for messages too large for a segment record and for every message waiting
// for a retry. Every directory fsync goes through the group-committed DirectorySync.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DirectorySync } from './directory-sync.ts';
import { MessageDraft, removeIfPresent } from './message-draft.ts';
import type { InboundEnvelope } from './message-sink.ts';
import { shardOf } from './queue-id.ts';
import type { RecipientUpdate } from './queued-message.ts';
import { encodeHeader, encodeUpdate } from './spool-format.ts';

/** Buffered body bytes written out before the end of a message that gets a file of its own. */
const draftFlushBytes = 64 * 1024;

export type MessageFileSuffix = '.tmp' | '.msg' | '.log';

export class MessageFiles {
  readonly #dir: string;
  readonly #directorySync: DirectorySync;

  constructor(dir: string, directorySync: DirectorySync) {
    this.#dir = dir;
    this.#directorySync = directorySync;
  }

  path(queueId: string, suffix: MessageFileSuffix): string {
    return join(this.#dir, shardOf(queueId), `${queueId}${suffix}`);
  }

  /** A message file being written; its commit renames it into place and syncs the shard directory. */
  draft(queueId: string, envelope: InboundEnvelope): MessageDraft {
    return new MessageDraft({
      paths: { temporary: this.path(queueId, '.tmp'), committed: this.path(queueId, '.msg') },
      header: encodeHeader(envelope),
      flushBytes: draftFlushBytes,
      syncDirectory: () => this.syncShard(queueId),
    });
  }

  /** Where the body starts in a message file: after its header line. */
  bodyOffset(envelope: InboundEnvelope): number {
    return encodeHeader(envelope).length;
  }

  /**
   * Writes a new state log holding `updates` and fsyncs it. Its directory entry is made durable by
   * the shard fsync of the message file renamed after it (recovery deletes a log without a message).
   */
  async createState(queueId: string, updates: readonly RecipientUpdate[]): Promise<void> {
    await this.#writeState(queueId, updates, 'w');
  }

  /** Appends `updates` to the state log and fsyncs it (a new log's directory entry needs syncShard too). */
  async appendState(queueId: string, updates: readonly RecipientUpdate[]): Promise<void> {
    await this.#writeState(queueId, updates, 'a');
  }

  removeState(queueId: string): void {
    removeIfPresent(this.path(queueId, '.log'));
  }

  /** Deletes the message file, then its state log, and makes the deletion durable. */
  async remove(queueId: string, hasLog: boolean): Promise<void> {
    removeIfPresent(this.path(queueId, '.msg'));
    if (hasLog) this.removeState(queueId);
    await this.syncShard(queueId);
  }

  /** Makes the shard directory's entries durable (grouped with other messages' syncs). */
  syncShard(queueId: string): Promise<void> {
    return this.#directorySync.sync(join(this.#dir, shardOf(queueId)));
  }

  async #writeState(queueId: string, updates: readonly RecipientUpdate[], flags: 'w' | 'a'): Promise<void> {
    const handle = await open(this.path(queueId, '.log'), flags);
    try {
      await handle.write(updates.map(encodeUpdate).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
