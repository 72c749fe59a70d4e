// One message on its way into a file of its own (a large one, or one leaving the segment log for
// retries). Body bytes are written synchronously: a write to the page
// cache takes microseconds, while a round trip through libuv's thread pool costs two thread wake-ups
// and context switches, which on a virtual machine cost more than the write itself. Only the
// fsyncs, which wait for the device, go to the thread pool. Past `flushBytes` the buffer is written
// out as it fills, so a large message never sits in memory whole.
import { closeSync, fdatasync, openSync, renameSync, unlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { writeAllSync } from './write-all.ts';

const syncData = promisify(fdatasync);

export interface DraftPaths {
  /** Where the message is written (a name recovery discards). */
  readonly temporary: string;
  /** Where a committed message lives. */
  readonly committed: string;
}

export interface DraftOptions {
  readonly paths: DraftPaths;
  /** The header line (envelope) the file starts with. */
  readonly header: Buffer;
  /** Buffered bytes past which the buffer is written out before the end of the message. */
  readonly flushBytes: number;
  /** fsyncs the directory the message was renamed into (grouped with other messages). */
  readonly syncDirectory: () => Promise<void>;
}

/** Writes one message file; write() and discard() are synchronous, commit() waits for the fsyncs. */
export class MessageDraft {
  readonly #options: DraftOptions;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #size = 0;
  #fd: number | undefined;
  #state: 'open' | 'committing' | 'committed' | 'discarded' = 'open';
  #renamed = false;

  constructor(options: DraftOptions) {
    this.#options = options;
    this.#pending.push(options.header);
    this.#pendingBytes = options.header.length;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends body bytes. Throws on a write error (ENOSPC among them); the caller then discards. */
  write(chunk: Buffer): void {
    if (this.#state !== 'open') throw new Error(`write after ${this.#state}`);
    if (chunk.length === 0) return;
    this.#size += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= this.#options.flushBytes) this.#flush();
  }

  /** Makes the message durable (data fsync'd, renamed into place, directory fsync'd); resolves to the body size. */
  async commit(): Promise<number> {
    if (this.#state !== 'open') throw new Error(`commit after ${this.#state}`);
    this.#state = 'committing';
    try {
      this.#flush();
      const fd = this.#fd;
      if (fd === undefined) throw new Error('message file was never opened');
      await syncData(fd);
      this.#closeFile();
      renameSync(this.#options.paths.temporary, this.#options.paths.committed);
      this.#renamed = true;
      await this.#options.syncDirectory();
    } catch (error) {
      this.discard();
      throw error;
    }
    this.#state = 'committed';
    return this.#size;
  }

  /**
   * Throws the message away: nothing of it stays on disk. Safe to call more than once; a committed
   * message belongs to the spool and is not touched.
   */
  discard(): void {
    if (this.#state === 'discarded' || this.#state === 'committed') return;
    this.#state = 'discarded';
    this.#pending = [];
    try {
      this.#closeFile();
    } finally {
      removeIfPresent(this.#options.paths.temporary);
      if (this.#renamed) removeIfPresent(this.#options.paths.committed);
    }
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#fd ??= openSync(this.#options.paths.temporary, 'wx', 0o600);
    const pieces = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    writeAllSync(this.#fd, pieces, bytes);
  }

  #closeFile(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }
}

/** Unlinking is a metadata update in memory: synchronous, without a thread-pool round trip. */
export function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
