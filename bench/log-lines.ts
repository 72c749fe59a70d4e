// The relay's log path under load and under a stdout nobody reads (issue 16, item 5).
//   node bench/log-lines.ts throughput [lines]      CPU per line and lines/s, as fast as it goes, stdout read at once
//   node bench/log-lines.ts paced [lines]           the same at 50 lines a millisecond at most (a busy relay's rate)
//   node bench/log-lines.ts stalled [seconds]       stdout not read for that long while the relay logs
// Each runs the two destinations in a child process whose stdout is a pipe to this one:
// `sync` — batchedLines over process.stdout (before), `async` — batchedLines over stdoutDestination
// (sonic-boom, bounded). The child logs with createLogger, as the relay does.
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { batchedLines, createLogger, stdoutDestination, type LineSink } from '../relay/log.ts';

type Mode = 'sync' | 'async';

interface ChildReport {
  readonly mode: Mode;
  readonly lines: number;
  readonly cpuMicros: number;
  readonly wallMs: number;
  readonly maxRssGrowthBytes: number;
  /** Heap + Buffers after a full collection at the end, over the same at the start: what the log path keeps. */
  readonly retainedGrowthBytes: number;
  /** sync: bytes process.stdout held for the pipe when the stall ended. */
  readonly queuedBytes: number;
  readonly maxLoopDelayMs: number;
  readonly dropped: number;
}

/** Lines per event-loop turn: a busy relay logs a few lines for each message of a turn. */
const linesPerTurn = 50;

async function child(mode: Mode, lines: number, paceMs: number, stallMs: number): Promise<void> {
  const destination = mode === 'async' ? stdoutDestination() : undefined;
  const sink: LineSink = destination ?? process.stdout;
  const logger = createLogger('info', batchedLines(sink));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const retained = () => {
    globalThis.gc?.();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.external;
  };
  const retainedAtStart = retained();
  // Sampled at 80% of the stall (the child starts some 100s of ms after the stall does), or at the end.
  let retainedGrowth: number | undefined;
  let queuedBytes = 0;
  if (stallMs > 0)
    setTimeout(() => {
      retainedGrowth = retained() - retainedAtStart;
      // What process.stdout holds for the pipe (libuv's write requests are outside the V8 heap).
      queuedBytes = mode === 'sync' ? process.stdout.writableLength : 0;
    }, stallMs * 0.8);
  const rssAtStart = process.memoryUsage().rss;
  let maxRss = rssAtStart;
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  for (let index = 0; index < lines; index += 1) {
    logger.info(
      { event: 'delivered', queueId: `q${index}`, recipient: 'someone@example.net', attempt: 1 },
      'recipient delivered',
    );
    if (index % linesPerTurn === linesPerTurn - 1) {
      if (paceMs > 0) await sleep(paceMs);
      else await nextTurn();
      if (index % 5_000 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  }
  const cpu = process.cpuUsage(cpuAtStart);
  const report: ChildReport = {
    mode,
    lines,
    cpuMicros: cpu.user + cpu.system,
    wallMs: performance.now() - started,
    maxRssGrowthBytes: Math.max(maxRss, process.memoryUsage().rss) - rssAtStart,
    retainedGrowthBytes: retainedGrowth ?? retained() - retainedAtStart,
    queuedBytes,
    maxLoopDelayMs: delay.max / 1e6,
    dropped: destination?.droppedLines() ?? 0,
  };
  process.stderr.write(`${JSON.stringify(report)}\n`);
  // Like the relay at exit: what is held is written, whatever it costs now.
  destination?.flushSync();
}

async function parent(mode: Mode, lines: number, paceMs: number, stallMs: number): Promise<ChildReport> {
  const proc = spawn(
    process.execPath,
    ['--expose-gc', import.meta.filename, 'child', mode, String(lines), String(paceMs), String(stallMs)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let report = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (report += chunk));
  proc.stdout.pause();
  await sleep(stallMs);
  proc.stdout.resume();
  proc.stdout.on('data', () => undefined);
  await new Promise((done) => proc.once('exit', done));
  return JSON.parse(report.trim().split('\n').at(-1) ?? '{}') as ChildReport;
}

const [what = 'throughput', amount] = process.argv.slice(2);
if (what === 'child') {
  const [, mode, lines, pace, stall] = process.argv.slice(2);
  await child(mode === 'async' ? 'async' : 'sync', Number(lines), Number(pace), Number(stall));
} else {
  for (const mode of ['sync', 'async', 'sync', 'async'] as const) {
    const report =
      what === 'stalled'
        ? // 50 lines every 5 ms (10,000 lines/s) for the stall plus 1 s, stdout unread for the stall.
          await parent(mode, (Number(amount ?? 3) + 1) * 10_000, 5, Number(amount ?? 3) * 1000)
        : await parent(mode, Number(amount ?? 500_000), what === 'paced' ? 1 : 0, 0);
    console.log(
      `${report.mode.padEnd(5)} lines=${report.lines} cpu/line=${(report.cpuMicros / report.lines).toFixed(2)}µs ` +
        `lines/s=${Math.round(report.lines / (report.wallMs / 1000))} rss+=${(report.maxRssGrowthBytes / 2 ** 20).toFixed(1)}MiB retained+=${(report.retainedGrowthBytes / 2 ** 20).toFixed(1)}MiB queued=${(report.queuedBytes / 2 ** 20).toFixed(1)}MiB ` +
        `maxLoopDelay=${report.maxLoopDelayMs.toFixed(0)}ms dropped=${report.dropped}`,
    );
  }
}
