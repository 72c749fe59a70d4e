import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFilter, type MessageFilterOptions } from '../../../relay/smtp/message-filter.ts';

const options: MessageFilterOptions = {
  lineEndings: 'reject',
  maxBytes: 10_000,
  maxReceivedHeaders: 50,
  prependHeaders: 'Received: test\r\n',
  addIfMissing: [],
};

/** Runs a message through the filter in chunks of `chunkSize` bytes. */
function run(message: string, overrides: Partial<MessageFilterOptions> = {}, chunkSize = 7) {
  const filter = new MessageFilter({ ...options, ...overrides });
  const input = Buffer.from(message, 'latin1');
  const out: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += chunkSize) {
    out.push(...filter.push(input.subarray(offset, offset + chunkSize)));
  }
  out.push(...filter.end());
  return { output: Buffer.concat(out).toString('latin1'), failure: filter.failure };
}

const smuggling = [
  ['<LF>.<CR><LF>', 'a\r\n\n.\r\nMAIL FROM:<x@y>\r\n'],
  ['<LF>.<LF>', 'a\r\n\n.\nMAIL FROM:<x@y>\r\n'],
  ['<CR>.<CR><LF>', 'a\r\r.\r\nMAIL FROM:<x@y>\r\n'],
  ['<CR><LF>.<LF>', 'a\r\n.\nMAIL FROM:<x@y>\r\n'],
  ['<CR><LF>.<CR><CR><LF>', 'a\r\n.\r\r\nMAIL FROM:<x@y>\r\n'],
] as const;

for (const [name, sequence] of smuggling) {
  for (const chunkSize of [1, 3, 64]) {
    test(`case 1: ${name} is refused with 550 5.5.2 (chunks of ${chunkSize})`, () => {
      const { output, failure } = run(`Subject: x\r\n\r\n${sequence}`, {}, chunkSize);
      assert.deepEqual([failure?.code, failure?.enhancedCode], [550, '5.5.2']);
      assert.doesNotMatch(output, /MAIL FROM/);
    });
    test(`case 1: ${name} normalised leaves no lone CR or LF (chunks of ${chunkSize})`, () => {
      const { output, failure } = run(
        `Subject: x\r\n\r\n${sequence}`,
        { lineEndings: 'normalise' },
        chunkSize,
      );
      assert.equal(failure, undefined);
      assert.doesNotMatch(output.replaceAll('\r\n', ''), /[\r\n]/);
    });
  }
}

test('a clean message passes unchanged after the prepended header', () => {
  const message = 'Subject: hi\r\nFrom: a@b\r\n\r\nbody line\r\n';
  const { output, failure } = run(message);
  assert.equal(failure, undefined);
  assert.equal(output, `Received: test\r\n${message}`);
});

test('a trailing lone CR is refused', () => {
  assert.equal(run('Subject: x\r\n\r\nbody\r').failure?.code, 550);
});

test('case 8: an oversize body is refused with 552 5.3.4 and the excess is dropped', () => {
  const filter = new MessageFilter({ ...options, maxBytes: 1000 });
  // Lines of 98 octets and CRLF: the size cap, not the line length limit (case 34), refuses it.
  const lines = Buffer.from(`${'a'.repeat(98)}\r\n`);
  let emitted = 0;
  for (let i = 0; i < 1000; i++) {
    for (const piece of filter.push(lines)) emitted += piece.length;
  }
  filter.end();
  assert.deepEqual([filter.failure?.code, filter.failure?.enhancedCode], [552, '5.3.4']);
  assert.ok(emitted <= 1000 + 64, `emitted ${emitted} bytes`);
  assert.equal(filter.bytesIn, 100_000);
});

test('case 16: more Received: headers than allowed is a mail loop (554 5.4.6)', () => {
  const received = (count: number) => 'Received: from x by y; now\r\n'.repeat(count);
  assert.equal(run(`${received(50)}Subject: x\r\n\r\nbody\r\n`).failure, undefined);
  const looped = run(`${received(51)}Subject: x\r\n\r\nbody\r\n`);
  assert.deepEqual([looped.failure?.code, looped.failure?.enhancedCode], [554, '5.4.6']);
  assert.equal(looped.output, '');
});

test('Received: in the body is not counted', () => {
  const body = 'Received: x\r\n'.repeat(60);
  assert.equal(run(`Subject: x\r\n\r\n${body}`).failure, undefined);
});

const submission: Partial<MessageFilterOptions> = {
  addIfMissing: [
    { name: 'Message-ID', header: 'Message-ID: <id@relay>\r\n' },
    { name: 'Date', header: 'Date: now\r\n' },
  ],
};

test('submission: Message-ID and Date are added when missing', () => {
  const { output } = run('Subject: x\r\n\r\nbody\r\n', submission);
  assert.equal(output, 'Received: test\r\nMessage-ID: <id@relay>\r\nDate: now\r\nSubject: x\r\n\r\nbody\r\n');
});

test('submission: present Message-ID and Date are kept, not doubled', () => {
  const message = 'message-id: <own@client>\r\nDATE: then\r\n\r\nbody\r\n';
  assert.equal(run(message, submission).output, `Received: test\r\n${message}`);
});

test('the verdict on line endings does not depend on where chunks split (seeded random bodies)', () => {
  // A small linear congruential generator: the same bodies on every run.
  let seed = 20261201;
  const next = (limit: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % limit;
  };
  const alphabet = ['\r\n', '\r\n', '\r\n', 'a', 'b', '.', '\r', '\n'];
  for (let round = 0; round < 2000; round += 1) {
    const body = Array.from({ length: 1 + next(12) }, () => alphabet[next(alphabet.length)]).join('');
    const message = `Subject: x\r\n\r\n${body}`;
    const bare = /\r(?!\n)|(?<!\r)\n/.test(message);
    for (const chunkSize of [1, 2, 5, 64]) {
      const { output, failure } = run(message, {}, chunkSize);
      assert.equal(failure !== undefined, bare, `${JSON.stringify(message)} in chunks of ${chunkSize}`);
      if (!bare) assert.equal(output, `Received: test\r\n${message}`);
      const normalised = run(message, { lineEndings: 'normalise' }, chunkSize);
      assert.equal(normalised.failure, undefined);
      assert.doesNotMatch(normalised.output, /\r(?!\n)|(?<!\r)\n/);
    }
  }
});

test('a message whose header section and body come in one chunk is judged on its header section alone', () => {
  const body = 'Message-ID: <in@body>\r\nDate: body\r\n'.concat('Received: x\r\n'.repeat(60));
  const message = `Subject: x\r\n\r\n${body}`;
  for (const chunkSize of [message.length, 7, 1]) {
    const { output, failure } = run(message, submission, chunkSize);
    assert.equal(failure, undefined, `chunks of ${chunkSize}`);
    assert.equal(
      output,
      `Received: test\r\nMessage-ID: <id@relay>\r\nDate: now\r\n${message}`,
      `chunks of ${chunkSize}`,
    );
  }
  const loop = `${'Received: x\r\n'.repeat(51)}\r\nbody\r\n`;
  assert.equal(run(loop, {}, loop.length).failure?.enhancedCode, '5.4.6');
  const blankFirst = '\r\nReceived: x\r\n';
  assert.equal(
    run(blankFirst, submission, blankFirst.length).output,
    `Received: test\r\nMessage-ID: <id@relay>\r\nDate: now\r\n${blankFirst}`,
  );
});
