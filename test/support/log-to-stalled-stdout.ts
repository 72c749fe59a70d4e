// A child process for the log backpressure test: it logs as fast as it can for `seconds` through
// the relay's stdout path (batchedLines over stdoutDestination, `maxBytes` held at most) while its
// parent does not read the pipe, then reports on stderr and idles a second so the drop report can
// go out once the parent reads again.
//   node --expose-gc test/support/log-to-stalled-stdout.ts <maxBytes> <seconds>
// `retainedGrowth` is what the heap and the Buffers outside it hold after a full collection at the
// end of the stall, over what they held at the start: the memory the log path keeps, garbage aside.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { batchedLines, createLogger, reportDroppedLines, stdoutDestination } from '../../relay/log.ts';

const [maxBytes = '1048576', seconds = '2'] = process.argv.slice(2);
const destination = stdoutDestination(1, Number(maxBytes));
const lines = batchedLines(destination);
process.on('exit', () => {
  lines.flush();
  destination.flushSync();
});
const logger = createLogger('info', lines);
const stopReports = reportDroppedLines(logger, destination, 100);
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const collect = globalThis.gc;
if (collect === undefined) throw new Error('run with --expose-gc');
const retained = () => {
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};
const retainedAtStart = retained();
let logged = 0;
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  for (let index = 0; index < 100; index += 1) {
    logger.info(
      { event: 'delivered', queueId: `q${logged}`, recipient: 'someone@example.net' },
      'recipient delivered',
    );
    logged += 1;
  }
  await nextTurn();
}
process.stderr.write(
  `${JSON.stringify({ logged, dropped: destination.droppedLines(), retainedGrowth: retained() - retainedAtStart, maxLoopDelayMs: delay.max / 1e6 })}\n`,
);
await sleep(1_000);
stopReports();
