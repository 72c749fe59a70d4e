// Case 19: kill -9 after accept() resolved loses nothing. A child accepts under load and is killed
// several times; after each restart every acknowledged message is in the queue, no partial file
// survives, and in the end delivery hands every one of them to smtp-sink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSpool } from '../../../relay/queue/spool.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { startHarness } from './harness.ts';

const childScript = join(import.meta.dirname, 'crash-child.ts');
const rounds = 5;

async function acceptThenKill(dir: string, acknowledged: Set<string>): Promise<void> {
  const child = spawn(process.execPath, [childScript, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  let buffered = '';
  let acceptedThisRound = 0;
  await new Promise<void>((enough) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const id = /^accepted (\S+)$/.exec(line)?.[1];
        if (id === undefined) continue;
        acknowledged.add(id);
        acceptedThisRound += 1;
        if (acceptedThisRound === 40) enough();
      }
    });
    void exited.then(() => {
      enough();
    });
  });
  child.kill('SIGKILL');
  await exited;
}

test('kill -9 after accept: every acknowledged message survives and is delivered', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-crash-'));
  const acknowledged = new Set<string>();
  try {
    for (let round = 0; round < rounds; round += 1) {
      await acceptThenKill(dir, acknowledged);
      const spool = await openSpool({ dir, minFreeBytes: 0, now: () => Date.now() });
      const queued = new Set(spool.list().map((message) => message.queueId));
      const lost = [...acknowledged].filter((id) => !queued.has(id));
      assert.deepEqual(lost, [], `round ${round}: acknowledged messages lost`);
      spool.close();
      const shards = (await readdir(dir)).filter((name) => /^[0-9a-f]{2}$/.test(name));
      const leftovers = (await Promise.all(shards.map((shard) => readdir(join(dir, shard)))))
        .flat()
        .filter((name) => name.endsWith('.tmp'));
      assert.deepEqual(leftovers, [], 'recovery removed every partial file');
    }
    assert.ok(acknowledged.size >= rounds * 40);

    const sink = await startSmtpSink();
    const harness = await startHarness({
      dir,
      delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
    });
    try {
      const expected = harness.spool.size();
      assert.ok(expected >= acknowledged.size, 'in-flight messages may add duplicates, never losses');
      await harness.waitForEmptyQueue(60_000);
      const delivered = await sink.waitForMessages(expected, 10_000);
      assert.equal(delivered.length, expected);
    } finally {
      await harness.close();
      await sink.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
