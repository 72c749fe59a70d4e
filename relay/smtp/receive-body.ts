// Streams one message from smtp-server's DATA stream through the MessageFilter into a spool draft,
// never holding a large message whole (the draft writes it out as it fills). The outcome is decided
// only once the client has sent the final dot: a refused message is read to its end and discarded,
// never queued.
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { ListenerConfig, RelayConfig } from '../config/types.ts';
import type { InboundEnvelope, MessageSink, SpoolDraft } from '../queue/message-sink.ts';
import { earlyBodyEnvelopes } from './connection.ts';
import { MessageFilter } from './message-filter.ts';
import { dateHeader, messageIdHeader, receivedHeader } from './received.ts';
import { replies, type SmtpReply } from './replies.ts';

export interface ReceiveBodyInput {
  readonly stream: SMTPServerDataStream;
  readonly session: SMTPServerSession;
  readonly queueId: string;
  readonly envelope: InboundEnvelope;
  readonly config: RelayConfig;
  readonly listener: ListenerConfig;
  readonly sink: MessageSink;
}

export type ReceiveOutcome =
  { readonly ok: true; readonly size: number } | { readonly ok: false; readonly reply: SmtpReply };

export async function receiveBody(input: ReceiveBodyInput): Promise<ReceiveOutcome> {
  const { stream, session, queueId, envelope, config } = input;
  const tls = session.tlsOptions
    ? { protocol: session.tlsOptions.version, cipher: session.tlsOptions.name }
    : undefined;
  const trace = receivedHeader({
    ...(envelope.client.heloName === undefined ? {} : { heloName: envelope.client.heloName }),
    ...(envelope.client.hostname === undefined ? {} : { clientHostname: envelope.client.hostname }),
    clientAddress: envelope.client.address,
    byHostname: config.hostname,
    queueId,
    ...(tls ? { tls } : {}),
    authenticated: envelope.authenticatedUser !== undefined,
    receivedAt: envelope.receivedAt,
  });
  const submission = input.listener.mode === 'submission' || input.listener.requireAuth === true;
  const filter = new MessageFilter({
    lineEndings: config.policy.bareLineEndings,
    maxBytes: config.policy.maxMessageBytes,
    maxReceivedHeaders: config.policy.maxReceivedHeaders,
    prependHeaders: trace,
    addIfMissing: submission
      ? [
          { name: 'Message-ID', header: messageIdHeader(queueId, envelope.receivedAt, config.hostname) },
          { name: 'Date', header: dateHeader(envelope.receivedAt) },
        ]
      : [],
  });
  let draft: SpoolDraft;
  try {
    draft = input.sink.begin(queueId, envelope);
  } catch (error) {
    stream.resume();
    await ended(stream);
    return { ok: false, reply: isSpoolFull(error) ? replies.noSpace : replies.queueFailed };
  }
  const state: { failed: boolean; error: unknown } = { failed: false, error: undefined };
  const fail = (error?: unknown): void => {
    if (state.failed) return;
    state.failed = true;
    state.error = error;
    draft.discard();
  };
  const write = (pieces: readonly Buffer[]): void => {
    try {
      for (const piece of pieces) draft.write(piece);
    } catch (error) {
      fail(error);
    }
  };
  stream.on('data', (chunk: Buffer) => {
    if (state.failed) return;
    const out = filter.push(chunk);
    if (filter.failure) fail();
    else write(out);
  });
  try {
    await ended(stream);
  } catch (error) {
    fail(error);
    throw error;
  }
  // Judged before the draft is committed, so a refused message is never made durable.
  if (!state.failed && config.policy.pipelining === 'strict' && earlyBodyEnvelopes.has(session.envelope)) {
    fail();
    return { ok: false, reply: replies.pipeliningViolation };
  }
  if (!state.failed) {
    const tail = filter.end();
    if (filter.failure) fail();
    else write(tail);
  }
  if (filter.failure) return { ok: false, reply: filter.failure };
  if (!state.failed) {
    try {
      await draft.commit();
      return { ok: true, size: filter.bytesIn };
    } catch (error) {
      state.error = error;
    }
  }
  return { ok: false, reply: isSpoolFull(state.error) ? replies.noSpace : replies.queueFailed };
}

/** Resolves at the stream's 'end', rejects at its 'error': events.once without its AbortSignal set-up. */
function ended(stream: SMTPServerDataStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      stream.removeListener('end', onEnd);
      reject(error);
    };
    const onEnd = (): void => {
      stream.removeListener('error', onError);
      resolve();
    };
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/** The spool refuses a message when its disk is or became full during DATA (it throws SpoolFullError). */
function isSpoolFull(error: unknown): boolean {
  return error instanceof Error && error.name === 'SpoolFullError';
}
