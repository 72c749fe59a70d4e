import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, reportDroppedLines } from '../../../relay/log.ts';

test('reportDroppedLines: one warning per interval with the lines dropped since the last, none when none were', async () => {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  let dropped = 0;
  const stop = reportDroppedLines(createLogger('info', out), { droppedLines: () => dropped }, 20);
  await sleep(70);
  assert.deepEqual(lines, [], 'nothing dropped, nothing said');
  dropped = 3;
  await sleep(40);
  dropped = 5;
  await sleep(40);
  await sleep(40);
  stop();
  dropped = 9;
  await sleep(60);
  assert.deepEqual(
    lines.map(({ event, level, count, total }) => ({ event, level, count, total })),
    [
      { event: 'log-lines-dropped', level: 'warn', count: 3, total: 3 },
      { event: 'log-lines-dropped', level: 'warn', count: 2, total: 5 },
    ],
  );
});
