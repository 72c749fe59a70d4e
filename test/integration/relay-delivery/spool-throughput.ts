// A measurement, not a test: accept throughput of the spool alone (durable: each message appended
// to the segment log and fdatasync'd, group-committed), on an empty queue and again on top of a
// backlog, to show the cost per message does not grow with queue length. Usage:
//   node test/integration/relay-delivery/spool-throughput.ts [concurrency=50] [messages=5000] [backlog=20000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openSpool, type Spool } from '../../../relay/queue/spool.ts';

const concurrency = Number(process.argv[2] ?? 50);
const messages = Number(process.argv[3] ?? 5000);
const backlog = Number(process.argv[4] ?? 20000);
const body = Buffer.from(`From: <bench@example.org>\r\nSubject: bench\r\n\r\n${'y'.repeat(4000)}\r\n`);

async function acceptMany(spool: Spool, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        await spool.accept(
          spool.newQueueId(),
          {
            mailFrom: 'bench@example.org',
            recipients: [{ address: 'sink@x.test' }],
            smtpUtf8: false,
            eightBitMime: false,
            client: { address: '127.0.0.1' },
            receivedAt: Date.now(),
          },
          Readable.from([body]),
        );
      }
    }),
  );
  return Math.round(count / ((performance.now() - started) / 1000));
}

const dir = await mkdtemp(join(tmpdir(), 'mailfleet-spool-bench-'));
try {
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => Date.now() });
  const emptyRate = await acceptMany(spool, messages);
  await acceptMany(spool, backlog);
  const backlogRate = await acceptMany(spool, messages);
  console.log(
    JSON.stringify({
      concurrency,
      messages,
      queued: spool.size(),
      acceptPerSecondEmpty: emptyRate,
      acceptPerSecondOnBacklog: backlogRate,
      appends: spool.segmentLog.appends,
      fdatasyncRounds: spool.segmentLog.rounds,
      segments: spool.segmentLog.segments,
    }),
  );
  spool.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
