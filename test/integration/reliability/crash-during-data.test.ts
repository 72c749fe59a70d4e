// Case 18: the relay process killed with -9 before the final dot of a DATA. No 250 was sent, and
// after a restart over the same spool nothing of that transaction is queued or delivered, while a
// message sent after the restart is. Both stores: a large message is being streamed to a temporary
// file of its own, a small one is still buffered for the segment log.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';
import { waitUntil } from './relay-metrics.ts';
import { killHard, relayToNextHop } from './relay-to-next-hop.ts';
import { messageBody, pause } from './smtp-load.ts';
import { queuedMessageIds, SinkTally, spoolFiles } from './spool-files.ts';

async function transactionUpToData(relay: RelayProcess): Promise<SmtpTestClient> {
  const client = await SmtpTestClient.connect(relay.smtpPorts['smtp'] ?? 0);
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<alice@example.org>')).code, 250);
  assert.equal((await client.command('RCPT TO:<bob@x.test>')).code, 250);
  assert.equal((await client.command('DATA')).code, 354);
  return client;
}

const cases = [
  { store: 'a file of its own', messageBytes: 512 * 1024 },
  { store: 'the segment log', messageBytes: 16 * 1024 },
] as const;

for (const { store, messageBytes } of cases) {
  test(`case 18: kill -9 before the final dot (${store}): no 250, nothing queued, nothing delivered after restart`, async () => {
    const sink = await startSmtpSink();
    const dir = await mkdtemp(join(tmpdir(), 'mailfleet-crash-data-'));
    const config = relayToNextHop(sink.port);
    let relay: RelayProcess | undefined;
    try {
      relay = await startRelayProcess(config, dir);
      const client = await transactionUpToData(relay);
      const whole = `${messageBody('<cut-off@load.test>', 'bob@x.test', messageBytes)}.\r\n`;
      client.write(whole.slice(0, whole.length - 3 - 4 * 1024));
      if (messageBytes > 256 * 1024) {
        // The body is being written to the spool's temporary file when the process dies.
        await waitUntil(
          'a partial spool file',
          10_000,
          async () => (await spoolFiles(join(dir, 'spool'), '.tmp')).length > 0,
        );
      } else {
        // Buffered in memory for the segment log: nothing on disk to wait for; give the relay time to read it.
        await pause(300);
      }
      await killHard(relay);
      await assert.rejects(client.reply(), /connection closed/, 'no reply at all, so no 250');
      assert.deepEqual(await queuedMessageIds(join(dir, 'spool')), [], 'nothing committed');

      relay = await startRelayProcess(config, dir);
      assert.deepEqual(await spoolFiles(join(dir, 'spool'), '.tmp'), [], 'recovery removed the partial file');
      const after = await transactionUpToData(relay);
      after.write(`${messageBody('<after-restart@load.test>', 'bob@x.test', 1024)}.\r\n`);
      assert.match((await after.reply()).text, /^250 /);
      after.close();
      const tally = new SinkTally(sink.dumpDir);
      await waitUntil('the later message at the sink', 20_000, async () =>
        (await tally.refresh()).has('<after-restart@load.test>'),
      );
      await pause(500);
      assert.deepEqual(
        [...(await tally.refresh()).keys()],
        ['<after-restart@load.test>'],
        'the cut-off message never arrived',
      );
    } finally {
      await relay?.stop(5000);
      await sink.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
