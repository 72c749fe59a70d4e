// One message being received into the spool (the SpoolDraft the SMTP side writes DATA into). Its body
// is buffered while it fits a segment record; past segmentMessageMaxBytes it streams to a file of its
// own instead. commit() resolves only once the message is durable in either store, and only then is
// it queued: nothing is acknowledged before it is on disk.
import type { MessageDraft } from './message-draft.ts';
import type { AcceptedMessage, InboundEnvelope, SpoolDraft } from './message-sink.ts';
import type { BodyPlace, MessageStores } from './message-stores.ts';
import { initialRecipients, type QueuedMessage } from './queued-message.ts';

/** Messages up to this size are buffered, appended to the segment log and kept in memory for their first attempt. */
export const segmentMessageMaxBytes = 256 * 1024;

/** What a draft needs of the spool around it. */
export interface DraftQueue {
  readonly stores: MessageStores;
  /** Whether a message of this id is queued (a commit never replaces one). */
  has(queueId: string): boolean;
  /** Queues a message that is now durable. */
  add(message: QueuedMessage, place: BodyPlace): void;
  /** What a failed write is reported as: a SpoolFullError when the disk is full. */
  writeError(error: unknown, queueId: string): unknown;
}

export class SpoolMessageDraft implements SpoolDraft {
  readonly #queueId: string;
  readonly #envelope: InboundEnvelope;
  readonly #queue: DraftQueue;
  /** The body so far while it fits a segment record; undefined once it went to a file, was committed or discarded. */
  #buffered: Buffer[] | undefined = [];
  #bufferedBytes = 0;
  #file: MessageDraft | undefined;

  constructor(queueId: string, envelope: InboundEnvelope, queue: DraftQueue) {
    this.#queueId = queueId;
    this.#envelope = envelope;
    this.#queue = queue;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    try {
      if (this.#buffered === undefined) {
        if (this.#file === undefined) throw new Error(`write to ${this.#queueId} after commit or discard`);
        this.#file.write(chunk);
        return;
      }
      this.#buffered.push(chunk);
      this.#bufferedBytes += chunk.length;
      if (this.#bufferedBytes <= segmentMessageMaxBytes) return;
      this.#file = this.#queue.stores.files.draft(this.#queueId, this.#envelope);
      for (const piece of this.#buffered) this.#file.write(piece);
      this.#buffered = undefined;
    } catch (error) {
      this.#failed(error);
    }
  }

  async commit(): Promise<AcceptedMessage> {
    const queueId = this.#queueId;
    if (this.#queue.has(queueId)) throw new Error(`queue id ${queueId} is in use`);
    const { stores } = this.#queue;
    if (this.#file !== undefined) {
      const size = await this.#file.commit().catch((error: unknown) => this.#failed(error));
      const place = {
        segment: undefined,
        bodyOffset: stores.files.bodyOffset(this.#envelope),
        hasLog: false,
      };
      return this.#add(size, place);
    }
    if (this.#buffered === undefined) throw new Error(`commit of ${queueId} after discard`);
    const body = Buffer.concat(this.#buffered, this.#bufferedBytes);
    this.#buffered = undefined;
    const place = await stores
      .appendToSegment(queueId, this.#envelope, body)
      .catch((error: unknown) => this.#failed(error));
    const accepted = this.#add(body.length, place);
    stores.keepBody(queueId, body);
    return accepted;
  }

  discard(): void {
    this.#buffered = undefined;
    this.#file?.discard();
  }

  #add(size: number, place: BodyPlace): AcceptedMessage {
    const envelope = this.#envelope;
    const message = { queueId: this.#queueId, envelope, size, recipients: initialRecipients(envelope) };
    this.#queue.add(message, place);
    return { queueId: this.#queueId, size };
  }

  #failed(error: unknown): never {
    this.discard();
    throw this.#queue.writeError(error, this.#queueId);
  }
}
