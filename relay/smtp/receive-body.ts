// Streams one message from smtp-server's DATA stream through the MessageFilter into the sink,
// with backpressure, never holding the whole message. The outcome is decided only once the client
// has sent the final dot: a refused message is read to its end and discarded, never queued.
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { ListenerConfig, RelayConfig } from '../config/types.ts';
import type { InboundEnvelope, MessageSink } from '../queue/message-sink.ts';
import { earlyBodyEnvelopes } from './connection.ts';
import { MessageFilter } from './message-filter.ts';
import { dateHeader, messageIdHeader, receivedHeader } from './received.ts';
import { replies, SmtpError, type SmtpReply } from './replies.ts';

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
  const body = new PassThrough({ highWaterMark: 64 * 1024 });
  const abort = new AbortController();
  const accepted = input.sink.accept(queueId, envelope, body, abort.signal);
  // Observed now so an early rejection is never an unhandled rejection; judged after the dot.
  const acceptance = accepted.then(
    (message) => ({ ok: true as const, message }),
    (error: unknown) => ({ ok: false as const, error }),
  );

  const state = { failed: false };
  const fail = (): void => {
    if (state.failed) return;
    state.failed = true;
    abort.abort();
    body.destroy(new SmtpError(filter.failure ?? replies.queueFailed));
    stream.resume();
  };
  body.on('error', () => undefined);
  body.on('drain', () => {
    if (!state.failed) stream.resume();
  });
  stream.on('data', (chunk: Buffer) => {
    if (state.failed) return;
    const out = filter.push(chunk);
    if (filter.failure) {
      fail();
      return;
    }
    let writable = true;
    for (const piece of out) writable = body.write(piece) && writable;
    if (!writable) stream.pause();
  });
  void acceptance.then((result) => {
    if (!result.ok) fail();
  });
  await once(stream, 'end');
  // Judged before the body is ended, so a refused message is never made durable.
  if (!state.failed && config.policy.pipelining === 'strict' && earlyBodyEnvelopes.has(session.envelope)) {
    fail();
    await acceptance;
    return { ok: false, reply: replies.pipeliningViolation };
  }
  if (!state.failed) {
    const tail = filter.end();
    if (filter.failure) fail();
    else {
      for (const piece of tail) body.write(piece);
      body.end();
    }
  }
  const result = await acceptance;
  if (filter.failure) return { ok: false, reply: filter.failure };
  if (!result.ok)
    return { ok: false, reply: isSpoolFull(result.error) ? replies.noSpace : replies.queueFailed };
  return { ok: true, size: filter.bytesIn };
}

/** The spool refuses a message when its disk is or became full during DATA (it throws SpoolFullError). */
function isSpoolFull(error: unknown): boolean {
  return error instanceof Error && error.name === 'SpoolFullError';
}
