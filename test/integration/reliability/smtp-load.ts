// Continuous SMTP load for the reliability tests: several concurrent sessions, each sending message
// after message with a unique Message-ID, through whatever port the relay listens on right now
// (it changes at every restart). A session that breaks (the relay was killed) reconnects. Only a
// 250 after the final dot counts as acknowledged.
import { SmtpTestClient, type Reply } from '../relay-smtp/smtp-client.ts';

export interface LoadOptions {
  /** The relay's SMTP port now, or undefined while it is down. */
  readonly port: () => number | undefined;
  readonly sessions: number;
  readonly bodyBytes: number;
  /** Prefix of the local part of every Message-ID, so concurrent loads never collide. */
  readonly tag: string;
  readonly recipient: string;
  /** How long a reply may take before the session is abandoned (the relay is then wedged). */
  readonly replyTimeoutMs?: number;
}

export interface SmtpLoad {
  /** Message-ID → queue id, for every message answered 250 after the dot. */
  readonly acknowledged: ReadonlyMap<string, string>;
  /** Unexpected replies by step and first line (`MAIL 452 4.3.1 ...`, `END 452 ...`), counted. */
  readonly refusals: ReadonlyMap<string, number>;
  /** Transactions started (MAIL sent). */
  attempted(): number;
  /** The message this load sent (or began to) under `messageId`, answered 250 or not; undefined if none. */
  sentMessage(messageId: string): string | undefined;
  /** Lets every session finish its transaction, then closes them. */
  stop(): Promise<void>;
}

/** The trailer line that marks a message as complete wherever it is found. */
export function endMarker(messageId: string): string {
  return `END-OF-MESSAGE ${messageId}`;
}

export function messageBody(messageId: string, recipient: string, bodyBytes: number): string {
  const filler: string[] = [];
  for (let written = 0; written < bodyBytes; written += 78) filler.push('x'.repeat(76));
  return [
    'From: <load@example.org>',
    `To: <${recipient}>`,
    `Subject: load ${messageId}`,
    `Message-ID: ${messageId}`,
    '',
    ...filler,
    endMarker(messageId),
    '',
  ].join('\r\n');
}

export function startSmtpLoad(options: LoadOptions): SmtpLoad {
  const acknowledged = new Map<string, string>();
  const refusals = new Map<string, number>();
  const replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
  let stopping = false;
  // A function, not the variable: stop() flips it while a session awaits.
  const active = (): boolean => !stopping;
  let started = 0;
  let counter = 0;
  const messageIdOf = (sequence: number): string => `<${options.tag}-${sequence}@load.test>`;

  const expect = async (step: string, reply: Promise<Reply>, wanted: number): Promise<Reply> => {
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      reply,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no reply in ${replyTimeoutMs} ms`));
        }, replyTimeoutMs);
      }),
    ]).finally(() => {
      clearTimeout(timer);
    });
    if (answer.code !== wanted) {
      const key = `${step} ${answer.lines[0] ?? String(answer.code)}`;
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
      throw new Error(`expected ${wanted}, got ${answer.text}`);
    }
    return answer;
  };

  async function session(): Promise<void> {
    while (active()) {
      const port = options.port();
      if (port === undefined) {
        await pause(20);
        continue;
      }
      const client = await SmtpTestClient.connect(port).catch(() => undefined);
      if (client === undefined) {
        await pause(20);
        continue;
      }
      try {
        await expect('CONNECT', client.reply(), 220);
        await expect('EHLO', client.command('EHLO load.test'), 250);
        while (active()) {
          counter += 1;
          started += 1;
          const messageId = messageIdOf(counter);
          await expect('MAIL', client.command('MAIL FROM:<load@example.org>'), 250);
          await expect('RCPT', client.command(`RCPT TO:<${options.recipient}>`), 250);
          await expect('DATA', client.command('DATA'), 354);
          client.write(`${messageBody(messageId, options.recipient, options.bodyBytes)}.\r\n`);
          const done = await expect('END', client.reply(), 250);
          acknowledged.set(messageId, /queued as (\S+)/.exec(done.text)?.[1] ?? '');
        }
        await client.command('QUIT').catch(() => undefined);
      } catch {
        await pause(20);
      } finally {
        client.close();
      }
    }
  }

  const running = Promise.all(Array.from({ length: options.sessions }, session));
  return {
    acknowledged,
    refusals,
    attempted: () => started,
    sentMessage(messageId) {
      const sequence = Number(/-(\d+)@load\.test>$/.exec(messageId)?.[1] ?? 0);
      const sent = sequence >= 1 && sequence <= counter && messageIdOf(sequence) === messageId;
      return sent ? messageBody(messageId, options.recipient, options.bodyBytes) : undefined;
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
