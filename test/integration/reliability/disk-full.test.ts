// Case 20 for real: the spool on an 8 MiB tmpfs, filled through the relay process until it answers
// 452 4.3.1 and /readyz turns 503. A write that runs out of space mid-DATA is answered 452 4.3.1 too
// and leaves nothing behind; after a kill -9 recovery finds exactly the acknowledged messages, each
// complete. Once the sink takes the queue, space returns: ready again, mail accepted again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { openSpool } from '../../../relay/queue/spool.ts';
import { startRelayProcess, type ConfigDocument, type RelayProcess } from '../../support/relay-process.ts';
import { freeTcpPort, startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';
import { readyStatus, waitUntil } from './relay-metrics.ts';
import { killHard } from './relay-to-next-hop.ts';
import { messageBody, startSmtpLoad } from './smtp-load.ts';
import { SinkTally, spoolFiles } from './spool-files.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const recipient = 'sink@x.test';
// Below 256 KiB: the fill goes through the segment log (the 10 MiB message through a file of its own).
const bodyBytes = 200 * 1024;
let root: string;
let spoolDir: string;
let sinkPort: number;
const running: RelayProcess[] = [];
let sink: SmtpSink | undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailfleet-diskfull-'));
  spoolDir = join(root, 'spool');
  await mkdir(spoolDir);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', spoolDir]);
  sinkPort = await freeTcpPort();
});

after(async () => {
  for (const relay of running) await relay.stop(5000);
  await sink?.stop();
  await run('umount', [spoolDir]);
  await rm(root, { recursive: true, force: true });
});

function config(): ConfigDocument {
  return {
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'], maxMessageBytes: 16 * MiB },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 1 },
    queue: { dir: spoolDir, minFreeBytes: 1 * MiB },
    // Nothing listens on the smarthost port until the test frees space by starting the sink there.
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: sinkPort, tls: 'none' },
      allowPrivateDestinations: true,
      retryInitialSeconds: 1,
      retryMaxSeconds: 2,
      connectTimeoutSeconds: 1,
    },
  };
}

async function startRelay(): Promise<RelayProcess> {
  const relay = await startRelayProcess(config());
  running.push(relay);
  return relay;
}

async function greeted(relay: RelayProcess): Promise<SmtpTestClient> {
  const client = await SmtpTestClient.connect(relay.smtpPorts['smtp'] ?? 0);
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  return client;
}

test('case 20: a full spool answers 452 4.3.1, goes unready, keeps only complete messages and recovers', async (t) => {
  let relay = await startRelay();
  assert.equal(await readyStatus(relay.httpPort), 200);

  // A message bigger than the whole filesystem runs out of space in the middle of DATA.
  const client = await greeted(relay);
  assert.equal((await client.command('MAIL FROM:<big@example.org>')).code, 250);
  assert.equal((await client.command(`RCPT TO:<${recipient}>`)).code, 250);
  assert.equal((await client.command('DATA')).code, 354);
  client.write(`${messageBody('<too-big@load.test>', recipient, 10 * MiB)}.\r\n`);
  assert.match((await client.reply()).text, /^452 4\.3\.1 /, 'out of space mid-DATA is 452 4.3.1');
  client.close();
  assert.deepEqual(await spoolFiles(spoolDir, '.tmp'), [], 'the partial message was removed');
  assert.deepEqual(await spoolFiles(spoolDir, '.msg'), [], 'and never queued');

  // Three sessions fill the rest until MAIL is refused and readiness goes false.
  const load = startSmtpLoad({
    port: () => relay.smtpPorts['smtp'],
    sessions: 3,
    bodyBytes,
    tag: 'full',
    recipient,
  });
  try {
    await waitUntil('452 4.3.1 at MAIL', 30_000, () =>
      [...load.refusals.keys()].some((line) => line.startsWith('MAIL 452 4.3.1 ')),
    );
    await waitUntil('/readyz 503', 10_000, async () => (await readyStatus(relay.httpPort)) === 503);
  } finally {
    await load.stop();
  }
  t.diagnostic(
    `acknowledged ${load.acknowledged.size} of ${load.attempted()}; refusals ${JSON.stringify(Object.fromEntries(load.refusals))}`,
  );
  assert.ok(load.acknowledged.size >= 5, 'the spool took messages until it was full');
  const unexpected = [...load.refusals.keys()].filter((line) => !/^(MAIL|END) 452 4\.3\.1 /.test(line));
  assert.deepEqual(unexpected, [], 'every refusal was 452 4.3.1, at MAIL or after the dot');

  // A crash while full: recovery finds exactly the acknowledged messages, each one whole.
  await killHard(relay);
  const spool = await openSpool({ dir: spoolDir, minFreeBytes: 0, now: Date.now });
  try {
    assert.deepEqual(spool.recovery.quarantined, { unparseable: 0, future_version: 0 }, 'no corrupt entry');
    const acknowledgedIds = [...load.acknowledged.values()].sort();
    assert.deepEqual(
      spool
        .list()
        .map((message) => message.queueId)
        .sort(),
      acknowledgedIds,
      'exactly the acknowledged messages are queued',
    );
    for (const [messageId, queueId] of load.acknowledged) {
      const body = await text(spool.openBody(queueId));
      assert.ok(body.endsWith(messageBody(messageId, recipient, bodyBytes)), `${queueId} is complete`);
    }
  } finally {
    spool.close();
  }

  // Restarted over the full spool: still unready; the sink takes the queue and space returns. The
  // kill freed what was in flight (a temporary file, a message being moved out of the segment log),
  // so a filler takes the spool below queue.minFreeBytes again first.
  const filler = join(spoolDir, 'filler');
  const { stdout } = await run('df', ['--output=avail', '-B1', spoolDir]);
  const available = Number(stdout.trim().split('\n').at(-1));
  if (available > MiB / 2) await writeFile(filler, Buffer.alloc(available - MiB / 2));
  relay = await startRelay();
  assert.equal(await readyStatus(relay.httpPort), 503, 'a restart over a full spool is not ready');
  await rm(filler, { force: true });
  sink = await startSmtpSink({ port: sinkPort });
  const tally = new SinkTally(sink.dumpDir);
  await waitUntil('every acknowledged message at the sink', 60_000, async () => {
    const copies = await tally.refresh();
    return [...load.acknowledged.keys()].every((id) => copies.has(id));
  });
  await waitUntil(
    '/readyz 200 once space returned',
    15_000,
    async () => (await readyStatus(relay.httpPort)) === 200,
  );
  const after = await greeted(relay);
  assert.equal((await after.command('MAIL FROM:<again@example.org>')).code, 250);
  assert.equal((await after.command(`RCPT TO:<${recipient}>`)).code, 250);
  assert.equal((await after.command('DATA')).code, 354);
  after.write(`${messageBody('<after-full@load.test>', recipient, 1024)}.\r\n`);
  assert.match((await after.reply()).text, /^250 /, 'mail is accepted again');
  after.close();
  await waitUntil('the new message at the sink', 20_000, async () =>
    (await tally.refresh()).has('<after-full@load.test>'),
  );
});
