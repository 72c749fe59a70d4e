// Drives an smtp-server command/DATA parser (SMTPStream or a subclass) through a whole session, for
// the tests that hold two parsers to the same output: the messages as the data streams emit them
// and the command lines, whatever the chunking.
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { SeededRandom } from './seeded-random.ts';

export interface ParsedSession {
  readonly messages: string[];
  readonly commands: string[];
}

/** Feeds the chunks in order; DATA switches to data mode, each message is read to its end. */
export async function parseSession(parser: SMTPStream, chunks: readonly Buffer[]): Promise<ParsedSession> {
  const parsed: ParsedSession = { messages: [], commands: [] };
  parser.oncommand = (command, callback) => {
    const line = command.toString('latin1');
    parsed.commands.push(line);
    if (line !== 'DATA') {
      callback?.();
      return;
    }
    const stream = parser.startDataMode();
    const pieces: Buffer[] = [];
    stream.on('data', (piece: Buffer) => pieces.push(piece));
    stream.on('end', () => {
      parsed.messages.push(Buffer.concat(pieces).toString('latin1'));
      parser.continue();
    });
    callback?.();
  };
  // Not awaited one by one: a session whose input ends inside DATA never calls back. Both parsers
  // get every chunk, then as many event-loop turns as the escape dots need.
  for (const chunk of chunks) parser.write(chunk);
  for (let turn = 0; turn < 200; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return parsed;
}

/** Two messages with bodies full of dots, bare CR/LF and near-miss terminators, then QUIT. */
export function randomSession(random: SeededRandom): Buffer {
  const pieces = [
    '\r\n',
    '\r\n',
    '\r\n.',
    '\r\n..',
    'a',
    'text',
    '.',
    '\r',
    '\n',
    '\n.',
    '\r\n.\n',
    '\r\n.\r',
  ];
  const body = (): string => Array.from({ length: random.int(0, 30) }, () => random.pick(pieces)).join('');
  const session = [
    'HELO x\r\nDATA\r\n',
    `${body()}\r\n.\r\n`,
    'NOOP\r\nDATA\r\n',
    `${body()}\r\n.\r\n`,
    'QUIT\r\n',
  ];
  return Buffer.from(session.join(''), 'latin1');
}
