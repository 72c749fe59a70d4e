// DKIM signing on worker threads. Signing with mailauth costs more than all the rest of relaying a
// small message (docs/performance.md: it canonicalizes in JavaScript, and RSA signing is costly even
// with one key object per key, key-objects.ts), so it runs beside the main thread, which keeps receiving and delivering. A body held
// in memory is copied to a thread with the keys; the thread answers with the DKIM-Signature lines.
// Threads start on the first signature (a relay that signs nothing never starts one) and a thread
// that dies fails only what it was signing at that moment; the next request starts a new one.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DkimKey } from './keys.ts';
import type { SplitMessage } from './relaxed-body.ts';
import type { DkimResult } from './sign.ts';

export interface SigningRequest {
  readonly senderDomain: string;
  readonly keys: readonly DkimKey[];
  /**
   * The whole message, or its header section and body hash (splitAndHashRelaxed): then only the
   * header section is copied to the thread, not a body of any size.
   */
  readonly message: Buffer | SplitMessage;
  readonly signTime: Date;
}

/** What the thread gets (signing-worker.ts) and what it answers. */
export interface SigningMessage {
  readonly id: number;
  readonly senderDomain: string;
  readonly keys: readonly DkimKey[];
  /** The whole message, or (with bodyHash) its header section only. */
  readonly bytes: Uint8Array;
  readonly bodyHash?: string;
  readonly signTime: number;
}
export type SigningAnswer =
  { readonly id: number; readonly result: DkimResult } | { readonly id: number; readonly error: string };

export interface SigningPool {
  /** Threads it may run; 0 (configured, or since a thread failed to start) means the caller signs in its own thread. */
  readonly size: number;
  /** Rejects when the thread fails or the pool is closed; the caller may then sign in-process. */
  sign(request: SigningRequest): Promise<DkimResult>;
  /** Stops the threads; requests still pending are rejected. */
  close(): Promise<void>;
}

interface Pending {
  readonly resolve: (result: DkimResult) => void;
  readonly reject: (error: Error) => void;
}

interface SigningThread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Whether it ever answered: a thread that dies before its first answer cannot start at all. */
  answered: boolean;
}

/**
 * One thread per core beyond the first (the main thread's), at least one, at most two: each thread
 * costs about 50–60 MiB, and a pod's memory limit rarely grows with the node's cores.
 */
export function defaultSigningThreads(): number {
  return Math.min(2, Math.max(1, availableParallelism() - 1));
}

const signingWorker = new URL('./signing-worker.ts', import.meta.url);

/**
 * `size` threads at most (defaultSigningThreads when undefined), each running `worker`
 * (signing-worker.ts; another only in tests). With size 0 every request is rejected at once.
 */
export function createSigningPool(
  size: number = defaultSigningThreads(),
  worker: URL = signingWorker,
): SigningPool {
  const threads: SigningThread[] = [];
  let nextId = 1;
  let closed = false;
  // Set when a thread died before answering anything: starting more would fail the same way, at
  // the cost of a thread start per message, so the pool turns itself off (size 0) instead.
  let broken: string | undefined;

  const failAll = (thread: SigningThread, reason: string): void => {
    const index = threads.indexOf(thread);
    if (index === -1) return;
    threads.splice(index, 1);
    const off = !thread.answered && !closed;
    if (off) broken = reason;
    const told = off ? `${reason}; DKIM signing threads are off, the main thread signs from now on` : reason;
    for (const pending of thread.pending.values()) pending.reject(new Error(told));
    thread.pending.clear();
  };

  const startThread = (): SigningThread => {
    // Named, so the thread shows as dkim-signer in /proc (make profile) and in the inspector.
    const thread: SigningThread = {
      worker: new Worker(worker, { name: 'dkim-signer' }),
      pending: new Map(),
      answered: false,
    };
    // An idle pool must not keep the process alive; pending requests ref it again (below).
    thread.worker.unref();
    thread.worker.on('message', (answer: SigningAnswer) => {
      const pending = thread.pending.get(answer.id);
      thread.answered = true;
      if (pending === undefined) return;
      thread.pending.delete(answer.id);
      if (thread.pending.size === 0) thread.worker.unref();
      if ('error' in answer) pending.reject(new Error(answer.error));
      else pending.resolve(answer.result);
    });
    thread.worker.on('error', (error: Error) => {
      failAll(thread, `DKIM signing thread failed: ${error.message}`);
    });
    thread.worker.on('exit', (code) => {
      failAll(thread, `DKIM signing thread exited with code ${String(code)}`);
    });
    threads.push(thread);
    return thread;
  };

  const leastBusy = (): SigningThread => {
    const idle = threads.find((thread) => thread.pending.size === 0);
    if (idle !== undefined) return idle;
    if (threads.length < size) return startThread();
    return threads.reduce((best, thread) => (thread.pending.size < best.pending.size ? thread : best));
  };

  return {
    get size() {
      return broken === undefined ? size : 0;
    },
    sign(request) {
      if (closed) return Promise.reject(new Error('the DKIM signing pool is closed'));
      if (size === 0) return Promise.reject(new Error('DKIM signing threads are off (signingThreads: 0)'));
      if (broken !== undefined)
        return Promise.reject(new Error(`DKIM signing threads are off since one failed to start: ${broken}`));
      const thread = leastBusy();
      const id = nextId++;
      const message: SigningMessage = {
        id,
        senderDomain: request.senderDomain,
        keys: request.keys,
        ...wireForm(request.message),
        signTime: request.signTime.getTime(),
      };
      return new Promise<DkimResult>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.ref();
        thread.worker.postMessage(message);
      });
    },
    async close() {
      closed = true;
      const stopping = threads.map((thread) => thread.worker.terminate());
      await Promise.all(stopping);
    },
  };
}

/**
 * A header section is copied into a buffer of its own: a view into the message would take the
 * whole body along, since a typed array is cloned with all of the memory under it.
 */
function wireForm(message: Buffer | SplitMessage): Pick<SigningMessage, 'bytes' | 'bodyHash'> {
  if (Buffer.isBuffer(message)) return { bytes: message };
  return { bytes: new Uint8Array(message.header), bodyHash: message.bodyHash };
}
