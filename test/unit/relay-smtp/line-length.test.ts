// Case 34: no line over 998 octets passes the message filter, at the boundary and wherever the
// chunks split the input; scanLineLengths agrees with a plain split on seeded random bodies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_LINE_OCTETS, scanLineLengths } from '../../../relay/smtp/line-length.ts';
import { MessageFilter } from '../../../relay/smtp/message-filter.ts';
import { seededRandom } from '../../support/seeded-random.ts';

function filter(lineEndings: 'reject' | 'normalise' = 'reject'): MessageFilter {
  return new MessageFilter({
    lineEndings,
    maxBytes: 1_000_000,
    maxReceivedHeaders: 50,
    prependHeaders: 'Received: test\r\n',
    addIfMissing: [],
  });
}

function run(message: string, chunkSize: number, lineEndings: 'reject' | 'normalise' = 'reject') {
  const messageFilter = filter(lineEndings);
  const input = Buffer.from(message, 'latin1');
  const out: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += chunkSize)
    out.push(...messageFilter.push(input.subarray(offset, offset + chunkSize)));
  out.push(...messageFilter.end());
  return { output: Buffer.concat(out).toString('latin1'), failure: messageFilter.failure };
}

const body = (length: number): string => `Subject: x\r\n\r\nshort\r\n${'y'.repeat(length)}\r\nend\r\n`;

for (const chunkSize of [1, 2, 7, 997, 998, 999, 1000, 1001, 4096, 65536]) {
  test(`case 34: a 998-octet line passes, a 999-octet line is refused with 550 5.5.2 (chunks of ${chunkSize})`, () => {
    const accepted = run(body(MAX_LINE_OCTETS), chunkSize);
    assert.equal(accepted.failure, undefined);
    assert.equal(accepted.output, `Received: test\r\n${body(MAX_LINE_OCTETS)}`);
    const refused = run(body(MAX_LINE_OCTETS + 1), chunkSize);
    assert.deepEqual([refused.failure?.code, refused.failure?.enhancedCode], [550, '5.5.2']);
    assert.equal(refused.failure?.reason, 'line_too_long');
  });
}

test('case 34: the long line may be the first of the headers or the last of the body', () => {
  const long = 'z'.repeat(MAX_LINE_OCTETS + 1);
  assert.equal(run(`X-Long: ${long}\r\n\r\nbody\r\n`, 64).failure?.reason, 'line_too_long');
  assert.equal(run(`Subject: x\r\n\r\n${long}\r\n`, 64).failure?.reason, 'line_too_long');
  assert.equal(run(`Subject: x\r\n\r\n${'z'.repeat(MAX_LINE_OCTETS)}\r\n`, 64).failure, undefined);
});

test('case 34: with bare line endings normalised, a long line ended by a bare LF is still refused', () => {
  const refused = run(`Subject: x\r\n\r\n${'y'.repeat(MAX_LINE_OCTETS + 1)}\nend\r\n`, 5, 'normalise');
  assert.equal(refused.failure?.reason, 'line_too_long');
  const accepted = run(`Subject: x\r\n\r\n${'y'.repeat(MAX_LINE_OCTETS)}\nend\r\n`, 5, 'normalise');
  assert.equal(accepted.failure, undefined);
});

/** The reference: split on CRLF, any line longer than max. */
function longestLine(text: string): number {
  return Math.max(...text.split('\r\n').map((line) => line.length));
}

test('scanLineLengths agrees with a plain split on seeded random bodies at random chunk splits', () => {
  const random = seededRandom(20261205);
  let refused = 0;
  for (let round = 0; round < 500; round += 1) {
    const max = random.int(1, 40);
    const lines = Array.from({ length: random.int(1, 20) }, () => 'a'.repeat(random.int(0, max + 2)));
    const text = `${lines.join('\r\n')}\r\n`;
    let carried = 0;
    for (const chunk of random.chunks(Buffer.from(text, 'latin1'), 1, 30)) {
      carried = scanLineLengths(chunk, carried, max);
      if (carried === -1) break;
    }
    const tooLong = longestLine(text) > max;
    assert.equal(carried === -1, tooLong, JSON.stringify({ max, text }));
    if (tooLong) refused += 1;
  }
  assert.ok(refused > 100 && refused < 450, `${refused} of 500 bodies had a line too long`);
});
