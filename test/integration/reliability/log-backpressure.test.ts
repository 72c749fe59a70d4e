// Item 5 of issue 16: a stdout nobody reads (a stalled log collector) neither blocks the relay's
// event loop nor grows its memory without bound. A child logs through the relay's stdout path as
// fast as it can while this process leaves the pipe unread; then the pipe is read again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const childScript = new URL('../../support/log-to-stalled-stdout.ts', import.meta.url).pathname;

interface Report {
  readonly logged: number;
  readonly dropped: number;
  readonly retainedGrowth: number;
  readonly maxLoopDelayMs: number;
}

test('a stdout nobody reads for 3 s: the loop keeps turning, at most 1 MiB is held, the rest dropped, counted and reported', async (t) => {
  const maxBytes = 1024 * 1024;
  const child = spawn(process.execPath, ['--expose-gc', childScript, String(maxBytes), '3'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pause();
  let stderr = '';
  const report = await new Promise<Report>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('\n')) resolve(JSON.parse(stderr.split('\n')[0] ?? '') as Report);
    });
    child.once('exit', () => {
      reject(new Error(`the child exited without a report: ${stderr}`));
    });
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdout.resume();
  const code = await new Promise((done) => child.once('exit', done));
  assert.equal(code, 0, stderr);

  t.diagnostic(JSON.stringify(report));
  // A shared machine delays a loop by a few hundred ms at times; blocked writes would stall it for the 3 s.
  assert.ok(report.maxLoopDelayMs < 1_000, `the event loop was blocked for ${report.maxLoopDelayMs} ms`);
  // The limit (a string of UTF-16 may take twice its bytes in the heap) plus one turn's lines.
  assert.ok(
    report.retainedGrowth < 3 * maxBytes,
    `the log path retains ${(report.retainedGrowth / 2 ** 20).toFixed(1)} MiB more after ${report.logged} lines`,
  );
  assert.ok(report.dropped > 0, 'with the pipe unread, lines beyond the limit are dropped');
  const lines = output.trimEnd().split('\n');
  const events = lines.map((line) => JSON.parse(line) as { event: string; count?: number; total?: number });
  const delivered = events.filter((event) => event.event === 'delivered').length;
  const reports = events.filter((event) => event.event === 'log-lines-dropped');
  assert.ok(reports.length > 0, 'a log-lines-dropped warning went out once stdout was read again');
  const reportedTotal = Math.max(...reports.map((event) => event.total ?? 0));
  assert.equal(reportedTotal, report.dropped, 'the warning counts every dropped line');
  // Dropped lines are the delivered lines that did not go out, plus the drop warnings attempted while
  // the pipe was still full (at most one per 100 ms report).
  const lost = report.logged - delivered;
  assert.ok(
    lost > 0 && report.dropped >= lost && report.dropped <= lost + 31,
    `${lost} lines lost, ${report.dropped} counted as dropped`,
  );
});
