// The protocol fuzzer's inputs: SMTP command streams, valid, mutated and random, drawn from a seeded
// PRNG. A session is a list of writes; each write is sent as is (several commands in one write are
// pipelining, whether the server allows it or not).
import type { SeededRandom } from '../../support/seeded-random.ts';

const validCommands: readonly ((random: SeededRandom) => string)[] = [
  (r) => `EHLO ${r.pick(['fuzz.test', 'x', '[127.0.0.1]', 'a'.repeat(r.int(1, 300))])}`,
  () => 'HELO fuzz.test',
  (r) =>
    `MAIL FROM:<${r.pick(['a@example.org', '', 'ü@example.org', 'a@[127.0.0.1]'])}>${r.pick([
      '',
      ' SIZE=1000',
      ` SIZE=${r.int(0, 2 ** 40)}`,
      ' BODY=8BITMIME',
      ' SMTPUTF8',
      ' RET=HDRS ENVID=fuzz',
      ' BODY=BINARYMIME',
      ' FOO=bar',
    ])}`,
  (r) =>
    `RCPT TO:<${r.pick(['b@x.test', 'c@y.test', 'user%victim@x.test', '@a,@b:c@d', 'postmaster'])}>${r.pick([
      '',
      ' NOTIFY=FAILURE ORCPT=rfc822;b@x.test',
      ' NOTIFY=NEVER,SUCCESS',
    ])}`,
  () => 'DATA',
  () => 'RSET',
  () => 'NOOP',
  () => 'VRFY postmaster',
  () => 'EXPN list',
  () => 'HELP',
  () => 'STARTTLS',
  () => 'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
  () => 'AUTH LOGIN',
  () => 'BDAT 10 LAST',
  () => 'ETRN x.test',
  () => 'XCLIENT ADDR=10.0.0.1',
  () => 'GET / HTTP/1.1',
];

/** One command line (without CRLF), often mangled. */
function commandLine(random: SeededRandom): string {
  const line = random.pick(validCommands)(random);
  switch (random.int(0, 9)) {
    case 0:
      return line.toLowerCase();
    case 1:
      return `${line}\u0000${line}`;
    case 2:
      return line.slice(0, random.int(0, line.length));
    case 3:
      return `${line}\r${line}`;
    case 4:
      return `${line}${'A'.repeat(random.int(500, 6000))}`;
    case 5:
      return `  ${line}\t `;
    case 6:
      return line.replace(/[a-z]/i, '\u00e9');
    default:
      return line;
  }
}

/** Body lines that stress the DATA parser: dots, bare CR/LF, NULs, 8-bit, long lines. */
function bodyChunk(random: SeededRandom): string {
  return random.pick([
    () => 'Subject: fuzz\r\n\r\nhello\r\n',
    () => '.\r\n',
    () => '..\r\n',
    () => '. \r\n',
    () => '.\n',
    () => '\n.\r\n',
    () => '\r.\r\n',
    () => 'bare\nline\r\n',
    () => 'bare\rcr\r\n',
    () => 'nul\u0000byte\r\n',
    () => `${'8bit \u00ff\u00e4 '.repeat(random.int(1, 50))}\r\n`,
    () => `${'L'.repeat(random.int(990, 20_000))}\r\n`,
    () => 'MAIL FROM:<smuggled@example.org>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n',
    () => 'Received: from x\r\n'.repeat(random.int(1, 60)),
  ])();
}

export interface FuzzSession {
  /** What the generator chose, for the failure message. */
  readonly description: string;
  readonly writes: readonly Buffer[];
}

/** A session: a stream of commands, bodies, junk and pipelined groups, ended by `.` and QUIT. */
export function fuzzSession(random: SeededRandom): FuzzSession {
  const writes: Buffer[] = [];
  const kinds: string[] = [];
  const steps = random.int(1, 12);
  for (let step = 0; step < steps; step += 1) {
    const kind = random.pick([
      'command',
      'command',
      'command',
      'transaction',
      'pipelined',
      'random',
      'starttls',
    ]);
    kinds.push(kind);
    if (kind === 'command') writes.push(Buffer.from(`${commandLine(random)}\r\n`, 'latin1'));
    else if (kind === 'transaction') {
      const body = Array.from({ length: random.int(1, 6) }, () => bodyChunk(random)).join('');
      const group = ['MAIL FROM:<a@example.org>', 'RCPT TO:<b@x.test>', 'DATA'];
      for (const line of group) writes.push(Buffer.from(`${line}\r\n`));
      writes.push(Buffer.from(`${body}\r\n.\r\n`, 'latin1'));
    } else if (kind === 'pipelined') {
      const lines = Array.from({ length: random.int(2, 20) }, () => commandLine(random));
      writes.push(Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1'));
    } else if (kind === 'random') writes.push(random.bytes(random.int(1, 2000)));
    else writes.push(Buffer.from('STARTTLS\r\n'), random.bytes(random.int(1, 600)));
  }
  // Whatever state the session is in, this ends a DATA, a long line or an AUTH exchange, then quits.
  writes.push(Buffer.from('\r\n.\r\nQUIT\r\n'));
  return { description: kinds.join(','), writes };
}

/** smtp-server's answers to a malformed EHLO/HELO: RFC 2034 §4 exempts replies to HELO/EHLO. */
const badHelloReply = /^501 Error: (Bad hostname syntax|[Ss]yntax: (EHLO|HELO) hostname)$/;

/**
 * Problems in what the server sent: every line must be a reply line ending in CRLF, and every reply
 * but the banner, the replies to EHLO/HELO, 221, 334 and 354 must carry an enhanced status code of
 * the reply's own class (RFC 2034, RFC 3463). After `220 ... Ready to start TLS` the stream is TLS
 * records (a TLS alert for a fuzzed handshake), not replies, and is not read.
 */
export function replyProblems(received: string, hostname: string): string[] {
  const problems: string[] = [];
  const tlsStart = /^220 [\d.]* ?Ready to start TLS.*\r\n/m.exec(received);
  const plaintext = tlsStart === null ? received : received.slice(0, tlsStart.index + tlsStart[0].length);
  const lines = plaintext.split('\r\n');
  const tail = lines.pop() ?? '';
  if (tail !== '') problems.push(`unterminated line ${JSON.stringify(tail.slice(0, 120))}`);
  let helloReply = false;
  let first = true;
  for (const line of lines) {
    const match = /^(\d{3})([ -])(.*)$/s.exec(line);
    if (match === null) {
      problems.push(`not a reply line: ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    const [, code = '', separator, text = ''] = match;
    const startsReply = first;
    first = separator === ' ';
    if (startsReply) helloReply = code === '250' && text.startsWith(`${hostname} `);
    const exempt = ['220', '221', '334', '354'].includes(code) || helloReply || badHelloReply.test(line);
    if (exempt) continue;
    const enhanced = /^(\d)\.\d{1,3}\.\d{1,3} /.exec(text);
    if (enhanced === null) problems.push(`no enhanced status code: ${JSON.stringify(line.slice(0, 120))}`);
    else if (enhanced[1] !== code[0])
      problems.push(`enhanced code of another class: ${JSON.stringify(line)}`);
  }
  return problems;
}
