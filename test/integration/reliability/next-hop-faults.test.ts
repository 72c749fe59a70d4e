// Next-hop faults: the relay process delivers through a period in which its smarthost answers 421 and
// 451 at random, drops connections mid-DATA and stalls before its banner; once the faults stop every
// message arrives exactly once. A TLS-required smarthost whose handshake breaks never gets plaintext.
// A hop that defers a recipient for ever produces an RFC 3464 bounce once the queue lifetime is up,
// and, with queue.delayWarningSeconds, one delay warning before it.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { startFaultSmtpServer, faultKinds, type FaultSmtpServer } from '../../support/fault-smtp-server.ts';
import { startRelayProcess, type ConfigDocument, type RelayProcess } from '../../support/relay-process.ts';
import { numberFrom, seededRandom, seedFrom } from '../../support/seeded-random.ts';
import { makeTestCertificates } from '../../support/tls.ts';
import { enqueue, envelopeFor, messageText, startHarness } from '../relay-delivery/harness.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';
import { queuedMessages, waitUntil } from './relay-metrics.ts';
import { relayToNextHop } from './relay-to-next-hop.ts';
import { messageBody } from './smtp-load.ts';

const seed = seedFrom('MAILFLEET_FAULT_SEED');
const messages = numberFrom('MAILFLEET_FAULT_MESSAGES', 30);
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function relayTo(port: number, tls: 'none' | 'required'): ConfigDocument {
  return relayToNextHop(port, { tls, delivery: { retryMaxSeconds: 2, connectTimeoutSeconds: 1 } });
}

async function started(config: ConfigDocument): Promise<RelayProcess> {
  const relay = await startRelayProcess(config);
  cleanups.push(() => relay.stop(5000));
  return relay;
}

async function sendThrough(relay: RelayProcess, messageIds: readonly string[]): Promise<void> {
  const port = relay.smtpPorts['smtp'] ?? 0;
  const client = await SmtpTestClient.connect(port);
  try {
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    for (const messageId of messageIds) {
      assert.equal((await client.command('MAIL FROM:<alice@example.org>')).code, 250);
      assert.equal((await client.command('RCPT TO:<bob@x.test>')).code, 250);
      assert.equal((await client.command('DATA')).code, 354);
      client.write(`${messageBody(messageId, 'bob@x.test', 1024)}.\r\n`);
      assert.equal((await client.reply()).code, 250);
    }
  } finally {
    client.close();
  }
}

/** How many times each Message-ID was received (answered 250 after the dot). */
function copiesById(hop: FaultSmtpServer): Map<string, number> {
  const copies = new Map<string, number>();
  for (const message of hop.received()) {
    const id = /^Message-ID: (<[^>]+>)/m.exec(message.data)?.[1] ?? 'none';
    copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  return copies;
}

test(`${messages} messages through 421/451, drops mid-DATA and stalls arrive exactly once when the faults stop`, async (t) => {
  t.diagnostic(`seed ${seed} (MAILFLEET_FAULT_SEED)`);
  const hop = await startFaultSmtpServer({ random: seededRandom(seed), faultRate: 0.15 });
  cleanups.push(() => hop.close());
  hop.setFaults(true);
  const relay = await started(relayTo(hop.port, 'none'));
  const ids = Array.from({ length: messages }, (_, i) => `<fault-${seed}-${i}@load.test>`);
  await sendThrough(relay, ids);
  // The fault period lasts at least 6 s, and until every kind of fault was injected (bounded). A fault
  // is drawn only when the relay talks to the hop: should the queue empty before every kind came up
  // (some seeds), one more message goes through, so the draws go on.
  const kinds = faultKinds.filter((kind) => kind !== 'tls-handshake');
  const faultsUntil = Date.now() + 6000;
  await waitUntil('every kind of fault injected', 40_000, async () => {
    if (kinds.every((kind) => hop.injected()[kind] > 0)) return Date.now() > faultsUntil;
    if ((await queuedMessages(relay.httpPort)) === 0) {
      const more = `<fault-${seed}-${ids.length}@load.test>`;
      ids.push(more);
      await sendThrough(relay, [more]);
    }
    return false;
  });
  const faultyDeliveries = hop.received().length;
  hop.setFaults(false);
  await waitUntil('every message at the hop', 60_000, () => copiesById(hop).size >= ids.length);
  await waitUntil('an empty queue', 10_000, async () => (await queuedMessages(relay.httpPort)) === 0);
  const copies = copiesById(hop);
  t.diagnostic(
    `faults injected ${JSON.stringify(hop.injected())}; ${faultyDeliveries} delivered during the faults, ` +
      `${hop.received().length} in all; deferrals logged ${relay.logs.filter((line) => line.event === 'deferred').length}`,
  );
  assert.deepEqual([...copies.keys()].sort(), [...ids].sort(), 'every message, nothing else');
  assert.deepEqual(
    [...copies].filter(([, count]) => count !== 1),
    [],
    'no message arrived twice',
  );
  assert.ok(
    relay.logs.some((line) => line.event === 'deferred'),
    'faults were seen as deferrals',
  );
  assert.equal(relay.child.exitCode, null, 'the relay kept running');
});

test('a TLS-required smarthost whose handshake fails gets no plaintext; once TLS works each message arrives once', async (t) => {
  const certificates = await makeTestCertificates(['smarthost.test']);
  cleanups.push(() => rm(certificates.dir, { recursive: true, force: true }));
  const hop = await startFaultSmtpServer({
    random: seededRandom(seed + 1),
    faultRate: 1,
    kinds: ['tls-handshake'],
    tls: { key: await readFile(certificates.keyFile), cert: await readFile(certificates.certFile) },
  });
  cleanups.push(() => hop.close());
  hop.setFaults(true);
  // The relay child trusts the test CA, so only the injected fault can break the handshake.
  process.env['NODE_EXTRA_CA_CERTS'] = certificates.caFile;
  const relay = await started(relayTo(hop.port, 'required'));
  const ids = Array.from({ length: 5 }, (_, i) => `<tls-${seed}-${i}@load.test>`);
  await sendThrough(relay, ids);
  await waitUntil('three broken handshakes per message', 30_000, () => hop.injected()['tls-handshake'] >= 15);
  assert.equal(hop.received().length, 0, 'nothing delivered while TLS fails');
  assert.equal(hop.plaintextMailCommands(), 0, 'no MAIL FROM without TLS');
  const deferred = relay.logs.filter((line) => line.event === 'deferred');
  assert.ok(deferred.length >= 5, 'every message deferred');
  hop.setFaults(false);
  await waitUntil('every message over TLS', 30_000, () => copiesById(hop).size >= ids.length);
  await waitUntil('an empty queue', 10_000, async () => (await queuedMessages(relay.httpPort)) === 0);
  t.diagnostic(
    `${hop.injected()['tls-handshake']} broken handshakes, ${deferred.length} deferrals before TLS worked`,
  );
  assert.deepEqual(
    [...copiesById(hop).values()],
    ids.map(() => 1),
    'each message exactly once',
  );
  assert.ok(
    hop.received().every((message) => message.secure),
    'every transaction ran over TLS',
  );
  assert.equal(hop.plaintextMailCommands(), 0, 'never a MAIL FROM in plaintext');
});

test('a hop that defers a recipient for ever: once the queue lifetime is up the sender gets an RFC 3464 bounce', async () => {
  const hop = await startFaultSmtpServer({
    random: seededRandom(seed + 2),
    faultRate: 0,
    alwaysDefer: ['stuck@x.test'],
  });
  cleanups.push(() => hop.close());
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' } },
    maxLifetimeSeconds: 60,
  });
  cleanups.push(() => harness.close());
  // Accepted 55 s ago with a 60 s lifetime: a few retries (1-2 s apart), then the lifetime is up.
  const queueId = await enqueue(
    harness.spool,
    envelopeFor('alice@example.org', ['stuck@x.test'], {
      receivedAt: Date.now() - 55_000,
      dsnEnvelopeId: 'LIFETIME-1',
    }),
    messageText('alice@example.org', 'stuck@x.test', 'never delivered'),
  );
  await waitUntil('a bounce at the hop', 30_000, () => hop.received().length > 0);
  await harness.waitForEmptyQueue(10_000);
  const [bounce, ...others] = hop.received();
  assert.equal(others.length, 0, 'the original never arrived, the bounce once');
  assert.equal(bounce?.mailFrom, '', 'from the null sender');
  assert.deepEqual(bounce.recipients, ['alice@example.org'], 'to the envelope sender');
  for (const pattern of [
    /^Content-Type: multipart\/report; report-type=delivery-status;/m,
    /^Original-Envelope-Id: LIFETIME-1$/m,
    /^Final-Recipient: rfc822; ?stuck@x\.test$/m,
    /^Action: failed$/m,
    /^Status: 4\.2\.0$/m,
    /^Diagnostic-Code: smtp; 451 4\.2\.0 mailbox busy, always \(gave up: queue lifetime expired\)/m,
    /^Subject: never delivered$/m,
  ]) {
    assert.match(bounce.data, pattern);
  }
  const gaveUp = harness.logs().find((line) => line['event'] === 'bounced' && line['queueId'] === queueId);
  assert.ok(Number(gaveUp?.['attempts']) >= 2, 'retried before giving up');
});

test('a recipient still deferred after queue.delayWarningSeconds: one delay warning, then the bounce at expiry', async () => {
  const hop = await startFaultSmtpServer({
    random: seededRandom(seed + 3),
    faultRate: 0,
    alwaysDefer: ['slow@x.test'],
  });
  cleanups.push(() => hop.close());
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' } },
    maxLifetimeSeconds: 60,
    delayWarningSeconds: 50,
    reportsFrom: 'postmaster@example.org',
  });
  cleanups.push(() => harness.close());
  // Accepted 55 s ago: past the 50 s warning at the first attempt, past the 60 s lifetime a few
  // retries (1-2 s apart) later.
  const queueId = await enqueue(
    harness.spool,
    envelopeFor('alice@example.org', ['slow@x.test'], {
      receivedAt: Date.now() - 55_000,
      dsnEnvelopeId: 'DELAY-1',
    }),
    messageText('alice@example.org', 'slow@x.test', 'delayed for a while'),
  );
  await waitUntil('a bounce after the warning', 30_000, () => hop.received().length >= 2);
  await harness.waitForEmptyQueue(10_000);
  const [warning, bounce, ...others] = hop.received();
  assert.equal(others.length, 0, 'one delay warning and one bounce, nothing else');
  assert.ok(warning && bounce);
  for (const report of [warning, bounce]) {
    assert.equal(report.mailFrom, '', 'from the null sender');
    assert.deepEqual(report.recipients, ['alice@example.org'], 'to the envelope sender');
    assert.match(report.data, /^From: Mail Delivery System <postmaster@example\.org>$/m, 'queue.reportsFrom');
  }
  for (const pattern of [
    /^Subject: Delayed Mail \(still being retried\)$/m,
    /^Original-Envelope-Id: DELAY-1$/m,
    /^Final-Recipient: rfc822; ?slow@x\.test$/m,
    /^Action: delayed$/m,
    /^Status: 4\.2\.0$/m,
    /^Will-Retry-Until: .+ \+0000$/m,
    /^Content-Type: text\/rfc822-headers$/m,
    /^Subject: delayed for a while$/m,
  ]) {
    assert.match(warning.data, pattern);
  }
  assert.match(bounce.data, /^Action: failed$/m);
  const deferrals = harness
    .logs()
    .filter((line) => line['event'] === 'deferred' && line['queueId'] === queueId).length;
  assert.ok(deferrals >= 2, `warned once over ${deferrals} deferrals`);
  const warned = harness.logs().filter((line) => line['event'] === 'delay-warning-queued');
  assert.equal(warned.length, 1);
});

test('queue.sendReports false: a recipient that expires is dropped without a report, logged as bounced', async () => {
  const hop = await startFaultSmtpServer({
    random: seededRandom(seed + 4),
    faultRate: 0,
    alwaysDefer: ['gone@x.test'],
  });
  cleanups.push(() => hop.close());
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: hop.port, tls: 'none' } },
    maxLifetimeSeconds: 60,
    delayWarningSeconds: 50,
    sendReports: false,
  });
  cleanups.push(() => harness.close());
  const queueId = await enqueue(
    harness.spool,
    envelopeFor('alice@example.org', ['gone@x.test'], { receivedAt: Date.now() - 55_000 }),
    messageText('alice@example.org', 'gone@x.test', 'no report wanted'),
  );
  await harness.waitForEmptyQueue(30_000);
  assert.ok(
    harness.logs().some((line) => line['event'] === 'bounced' && line['queueId'] === queueId),
    'the expiry is logged',
  );
  assert.deepEqual(hop.received(), [], 'neither a delay warning nor a bounce was sent');
});
