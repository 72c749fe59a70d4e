import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { batchedLines, createLogger } from '../../../relay/log.ts';

function recorder(): { out: Writable; writes: string[] } {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { out, writes };
}

test('the lines of one turn go out in one write, in order, when the turn ends', async () => {
  const { out, writes } = recorder();
  const lines = batchedLines(out);
  lines.write('one\n');
  lines.write('two\n');
  lines.write('three\n');
  assert.deepEqual(writes, [], 'nothing is written before the turn ends');
  await nextTurn();
  assert.deepEqual(writes, ['one\ntwo\nthree\n']);
  lines.write('four\n');
  await nextTurn();
  assert.deepEqual(writes, ['one\ntwo\nthree\n', 'four\n']);
  await nextTurn();
  assert.equal(writes.length, 2, 'a turn without lines writes nothing');
});

test('64 KiB of lines are written at once, without waiting for the turn', () => {
  const { out, writes } = recorder();
  const lines = batchedLines(out);
  const line = `${'x'.repeat(1023)}\n`;
  for (let i = 0; i < 63; i++) lines.write(line);
  assert.equal(writes.length, 0);
  lines.write(line);
  assert.equal(writes.length, 1);
  assert.equal(writes[0]?.length, 64 * 1024);
});

test('flush writes what is held at once (the relay calls it as it exits)', async () => {
  const { out, writes } = recorder();
  const lines = batchedLines(out);
  lines.flush();
  assert.deepEqual(writes, []);
  lines.write('last words\n');
  lines.flush();
  assert.deepEqual(writes, ['last words\n']);
  await nextTurn();
  assert.deepEqual(writes, ['last words\n'], 'the scheduled write finds nothing left');
});

test('a relay logger over batched lines writes whole JSON lines', async () => {
  const { out, writes } = recorder();
  const logger = createLogger('info', batchedLines(out));
  logger.info({ event: 'received', queueId: 'q1' }, 'message queued');
  logger.info({ event: 'delivered', queueId: 'q1' }, 'recipient delivered');
  await nextTurn();
  assert.equal(writes.length, 1);
  const parsed = (writes[0] ?? '')
    .trimEnd()
    .split('\n')
    .map((text) => JSON.parse(text) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((line) => line['event']),
    ['received', 'delivered'],
  );
});
