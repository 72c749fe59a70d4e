// The seam between receiving and delivering: the SMTP side hands each accepted transaction to a
// MessageSink (the spool), which makes it durable before the SMTP side may answer 250.
import type { Readable } from 'node:stream';

export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY' | 'NEVER';

export interface InboundRecipient {
  /** The address as given in RCPT TO, already validated by relay policy. */
  readonly address: string;
  /** RFC 3461 NOTIFY, absent when the client gave none. */
  readonly notify?: readonly DsnNotify[];
  /** RFC 3461 ORCPT, as `type;address`. */
  readonly orcpt?: string;
}

export interface InboundEnvelope {
  /** The reverse path; '' is the null sender (bounces), which is never bounced again. */
  readonly mailFrom: string;
  readonly recipients: readonly InboundRecipient[];
  /** RFC 3461 RET and ENVID. */
  readonly dsnReturn?: 'FULL' | 'HDRS';
  readonly dsnEnvelopeId?: string;
  readonly smtpUtf8: boolean;
  readonly eightBitMime: boolean;
  readonly client: { readonly address: string; readonly hostname?: string; readonly heloName?: string };
  readonly authenticatedUser?: string;
  /** The declared sender domain the message is sent as: selects DKIM keys and metric labels. */
  readonly senderDomain?: string;
  /** Milliseconds since the epoch when the transaction was accepted (from the injected clock). */
  readonly receivedAt: number;
}

export interface AcceptedMessage {
  readonly queueId: string;
  readonly size: number;
}

/** One message being written: write() as the body arrives, then commit() or discard(). */
export interface SpoolDraft {
  /** Appends body bytes (headers included, CRLF line endings); throws SpoolFullError when the disk fills. */
  write(chunk: Buffer): void;
  /** Resolves once message and envelope are durable (data and directory fsync'd); then it is queued. */
  commit(): Promise<AcceptedMessage>;
  /** Throws the partial message away: nothing half-written is ever queued. */
  discard(): void;
}

export interface MessageSink {
  /** A fresh queue id, unique in this spool, to name the message (in Received:) before its body arrives. */
  newQueueId(): string;
  /** Starts writing a message; throws SpoolFullError when the disk is too full to take one. */
  begin(queueId: string, envelope: InboundEnvelope): SpoolDraft;
  /**
   * Writes a whole body from a stream and resolves once it is durable, as begin() + commit(). If the
   * stream errors, the partial message is discarded and the promise rejects.
   */
  accept(queueId: string, envelope: InboundEnvelope, body: Readable): Promise<AcceptedMessage>;
  /** False while the spool's disk is too full to take a message (the SMTP side answers 452 4.3.1). */
  hasSpace(): boolean;
}
