// The segment log's I/O: appends are synchronous writes to the active segment (page cache, no thread
// pool round trip); durable() is a group commit, one fdatasync per round for every message appended
// before it. Under concurrent load a round waits up to commitDelayMs after its first message for
// others to join (as PostgreSQL's commit_delay does when other transactions are active), and starts
// at once when every open SMTP session has a message waiting: fewer fdatasyncs and fewer wake-ups,
// each serving more messages. A lone sender never waits.
// A segment is rotated at maxSegmentBytes and deleted once none of its messages is live; the
// active segment, once empty, is cut back to nothing when it has grown past reuseBytes, so a small
// spool volume gets its space back without waiting for a rotation.
// A message's done record goes into its own segment, so a segment never holds state about another
// one and each can be deleted on its own.
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { encodeDoneRecord } from './segment-format.ts';
import { writeAllSync } from './write-all.ts';

const syncData = promisify(fdatasync);
/** An empty active segment larger than this is truncated and written from the start again. */
const reuseBytes = 1024 * 1024;
const syncAll = promisify(fsync);

export interface Segment {
  readonly sequence: number;
  readonly path: string;
}

interface SegmentFile extends Segment {
  fd: number;
  size: number;
  live: number;
  /** Written since its last fdatasync. */
  dirty: boolean;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface SegmentLogStats {
  /** Group-commit rounds run (each one fdatasync per written segment) and the appends they covered. */
  rounds: number;
  appends: number;
  /** Segment files on disk now. */
  segments: number;
}

export const segmentsDirectoryName = 'segments';

export function segmentFileName(sequence: number): string {
  return `${sequence.toString().padStart(16, '0')}.seg`;
}

export function segmentSequence(name: string): number | undefined {
  const match = /^(\d{16})\.seg$/.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export class SegmentLog {
  readonly #dir: string;
  readonly #maxSegmentBytes: number;
  readonly #segments = new Map<number, SegmentFile>();
  #active: SegmentFile | undefined;
  #nextSequence: number;
  #directoryDirty = false;
  readonly #commitDelayMs: number;
  #waiting: Waiter[] = [];
  /** When the first of the waiting messages asked (performance.now()). */
  #firstWaitAt = 0;
  /** The last round found company: it covered more than one message, or more came while it ran. */
  #concurrent = false;
  /** How many sessions could still join a round (the relay's open SMTP sessions). */
  #sessions: () => number = () => Number.POSITIVE_INFINITY;
  /** Ends a round's commit delay early. */
  #wake: (() => void) | undefined;
  #syncing = false;
  /** Set by close(): what its own last sync found (null: everything written is durable). */
  #closed: { readonly error: unknown } | undefined;
  readonly stats: SegmentLogStats = { rounds: 0, appends: 0, segments: 0 };

  /**
   * `nextSequence` is above every segment already in `dir` (recovery adopts those); `commitDelayMs`
   * is queue.commitDelayMs (0: every round starts at once).
   */
  constructor(dir: string, maxSegmentBytes: number, nextSequence: number, commitDelayMs = 0) {
    this.#dir = dir;
    this.#maxSegmentBytes = maxSegmentBytes;
    this.#nextSequence = nextSequence;
    this.#commitDelayMs = commitDelayMs;
  }

  /**
   * Takes over a segment found at start-up with `live` messages still queued in it. A torn tail past
   * `validBytes` is cut off first, so done records appended later are read back by the next recovery.
   */
  adopt(sequence: number, validBytes: number, live: number): Segment {
    const path = join(this.#dir, segmentFileName(sequence));
    const fd = openSync(path, 'a');
    ftruncateSync(fd, validBytes);
    const file: SegmentFile = { sequence, path, fd, size: validBytes, live, dirty: false };
    this.#segments.set(sequence, file);
    this.stats.segments = this.#segments.size;
    this.#collect(file);
    return file;
  }

  /** Appends one message record (sync); returns its segment and the offset the record starts at. */
  appendMessage(buffers: readonly Buffer[]): { segment: Segment; offset: number } {
    if (this.#closed !== undefined) throw new Error('the segment log is closed');
    const bytes = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    let active = this.#active;
    if (active === undefined || (active.size > 0 && active.size + bytes > this.#maxSegmentBytes)) {
      active = this.#rotate();
    }
    const offset = active.size;
    this.#write(active, buffers, bytes);
    active.live += 1;
    active.dirty = true;
    this.stats.appends += 1;
    return { segment: active, offset };
  }

  /** Resolves after an fdatasync that began after this call: every append before it is durable. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) this.#firstWaitAt = performance.now();
      this.#waiting.push({ resolve, reject });
      if (this.#wake !== undefined && this.#waiting.length >= this.#sessions()) this.#wake();
      if (!this.#syncing) void this.#runRounds();
    });
  }

  /** Names the sessions a delayed round waits for: it starts once each of them has a message waiting. */
  waitForSessions(openSessions: () => number): void {
    this.#sessions = openSessions;
  }

  /**
   * The message left its segment. The done record is not synced on its own (a power loss can bring
   * the message back, as a duplicate, never as a loss); the segment goes once nothing in it is live.
   */
  done(segment: Segment, queueId: string): void {
    const file = this.#segments.get(segment.sequence);
    if (file === undefined) return;
    file.live -= 1;
    if (file.live === 0 && file !== this.#active) {
      this.#delete(file);
      return;
    }
    if (file.live === 0 && file.size >= reuseBytes && this.#reuse(file)) return;
    const record = encodeDoneRecord(queueId);
    try {
      this.#write(file, [record], record.length);
    } catch {
      // Without its done record the message comes back after a restart: a duplicate, not a loss.
    }
  }

  /**
   * Syncs what is written and closes every segment. A round still waiting out its commit delay
   * would find nothing left to sync: its messages are settled by what this sync found.
   */
  close(): void {
    let error: unknown = null;
    for (const file of this.#segments.values()) {
      try {
        if (file.dirty) fdatasyncSync(file.fd);
      } catch (failed) {
        error = failed;
      }
      closeSync(file.fd);
    }
    if (this.#directoryDirty) {
      try {
        syncDirectoryNow(this.#dir);
      } catch (failed) {
        error = failed;
      }
    }
    this.#closed = { error };
    this.#segments.clear();
    this.#active = undefined;
    this.#wake?.();
  }

  /**
   * A failed write (a full disk) may leave part of a record behind, and a torn record would end the
   * replay of everything after it: the segment is cut back to its last whole record, and if even
   * that fails it takes no more appends.
   */
  #write(file: SegmentFile, buffers: readonly Buffer[], bytes: number): void {
    try {
      writeAllSync(file.fd, buffers, bytes);
    } catch (error) {
      try {
        ftruncateSync(file.fd, file.size);
      } catch {
        if (file === this.#active) this.#active = undefined;
      }
      throw error;
    }
    // Not marked dirty here: only message appends need an fdatasync (appendMessage marks them). A
    // done record rides along with the next one, and a segment with nothing but done records to
    // sync is never in a round, so deleting it can never close an fd an fdatasync is using.
    file.size += bytes;
  }

  /** Truncates the empty active segment; false when that failed (the done record is written instead). */
  #reuse(file: SegmentFile): boolean {
    try {
      ftruncateSync(file.fd, 0);
    } catch {
      return false;
    }
    file.size = 0;
    file.dirty = true;
    return true;
  }

  /** Segments are opened O_APPEND: after a truncation the next write lands at the new end, not past a hole. */
  #rotate(): SegmentFile {
    const previous = this.#active;
    const sequence = this.#nextSequence;
    this.#nextSequence += 1;
    const path = join(this.#dir, segmentFileName(sequence));
    const file: SegmentFile = {
      sequence,
      path,
      fd: openSync(path, 'ax', 0o600),
      size: 0,
      live: 0,
      dirty: true,
    };
    this.#segments.set(sequence, file);
    this.stats.segments = this.#segments.size;
    this.#active = file;
    this.#directoryDirty = true;
    if (previous !== undefined) this.#collect(previous);
    return file;
  }

  /** Deletes a segment nothing in it needs any more (never the active one). */
  #collect(file: SegmentFile): void {
    if (file.live === 0 && file !== this.#active) this.#delete(file);
  }

  #delete(file: SegmentFile): void {
    this.#segments.delete(file.sequence);
    this.stats.segments = this.#segments.size;
    closeSync(file.fd);
    unlinkSync(file.path);
  }

  /** Waits out the rest of the commit delay, or until every open session has a message waiting. */
  #company(): Promise<void> {
    const wait = this.#firstWaitAt + this.#commitDelayMs - performance.now();
    if (wait < 1 || this.#waiting.length >= this.#sessions()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake?.();
      }, wait);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async #runRounds(): Promise<void> {
    this.#syncing = true;
    while (this.#waiting.length > 0) {
      if (this.#concurrent && this.#commitDelayMs > 0) await this.#company();
      const round = this.#waiting;
      this.#waiting = [];
      if (this.#closed !== undefined) {
        const { error } = this.#closed;
        for (const waiter of round) {
          if (error === null) waiter.resolve();
          else waiter.reject(error);
        }
        continue;
      }
      this.stats.rounds += 1;
      try {
        const dirty = [...this.#segments.values()].filter((file) => file.dirty);
        for (const file of dirty) file.dirty = false;
        await Promise.all(dirty.map((file) => syncData(file.fd)));
        if (this.#directoryDirty) {
          this.#directoryDirty = false;
          await syncDirectory(this.#dir);
        }
        for (const waiter of round) waiter.resolve();
        this.#concurrent = round.length > 1 || this.#waiting.length > 0;
      } catch (error) {
        // After a failed fdatasync the kernel may have dropped the dirty pages: the segment cannot be
        // trusted with further appends, so the next message starts a new one.
        this.#active = undefined;
        this.#directoryDirty = true;
        for (const waiter of round) waiter.reject(error);
      }
    }
    this.#syncing = false;
  }
}

/** syncDirectory, blocking: for close(), which cannot wait. */
function syncDirectoryNow(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await syncAll(fd);
  } finally {
    closeSync(fd);
  }
}
