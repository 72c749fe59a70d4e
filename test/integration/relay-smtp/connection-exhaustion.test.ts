// Case 31, connection exhaustion, over real sockets: idle clients from 20 addresses try to fill the
// relay (the outside review's 20 × 50 scaled to 20 × 10 against 100 slots, with a 500 ms greeting
// pause so connections waiting for their banner count). The per-address limit is applied first, the
// last slots stay free for policy.allowedNetworks, and under stress the idle and the trickling
// strangers lose their slots within the short command deadline, while a trusted client still gets
// its banner and sends mail.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { makeTestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

let relay: InProcessRelay;
const attackers = Array.from({ length: 20 }, (_, i) => `127.0.0.${String(10 + i)}`);
const trustedAddress = '127.0.1.1';

before(async () => {
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.1.0/24'] },
    limits: {
      maxConnections: 100,
      maxConnectionsPerIp: 10,
      greetingDelayMs: 500,
      allowedNetworksGreetingDelayMs: 0,
      commandTimeoutSeconds: 4,
      stressThreshold: 0.8,
      stressCommandTimeoutSeconds: 1,
    },
  });
});

after(async () => {
  await relay.stop();
});

/** Connects from an address; resolves with the first reply, or 'closed'. */
async function firstReply(client: SmtpTestClient): Promise<string> {
  try {
    return (await client.reply()).text;
  } catch {
    return 'closed';
  }
}

test('case 31: strangers cannot take the reserved slots; under stress idle and trickling ones are cut off, a trusted client is served throughout', async () => {
  const started = Date.now();
  // A trickler first: one byte every 200 ms, never a whole line. Bytes alone must not keep a slot.
  const trickler = await SmtpTestClient.connect(relay.port(), { localAddress: '127.0.0.31' });
  const trickle = setInterval(() => {
    if (!trickler.closed) trickler.write('E');
  }, 200);
  // Then 11 idle connections from each of 20 addresses, one address after the other.
  const idle: SmtpTestClient[] = [];
  for (const address of attackers) {
    for (let i = 0; i < 11; i++)
      idle.push(await SmtpTestClient.connect(relay.port(), { localAddress: address }));
  }
  // A trusted client while the strangers hold every slot they can: a banner at once, and mail goes.
  const trusted = await SmtpTestClient.connect(relay.port(), { localAddress: trustedAddress });
  assert.match((await trusted.reply()).text, /^220 /);
  assert.ok(Date.now() - started < 1000, 'served before any stranger could have been cut off');
  assert.equal((await trusted.command('EHLO trusted.test')).code, 250);
  assert.equal((await trusted.command('MAIL FROM:<app@example.com>')).code, 250);
  assert.equal((await trusted.command('RCPT TO:<someone@example.net>')).code, 250);
  assert.equal((await trusted.command('DATA')).code, 354);
  assert.equal((await trusted.command('Subject: served\r\n\r\nunder attack\r\n.')).code, 250);

  try {
    const replies = await Promise.all(idle.map(firstReply));
    const admitted = replies.filter((r) => r.startsWith('220')).length;
    const perAddress = replies.filter((r) => /^421 4\.7\.0 .*from your address/.test(r)).length;
    const global = replies.filter((r) => /^421 4\.7\.0 .*Too many connected clients/.test(r)).length;
    console.log(
      `idle strangers: ${String(admitted)} admitted, ${String(perAddress)} refused per address, ${String(global)} refused by the global limit`,
    );
    // Addresses connect one after the other: each full one (10) had its eleventh refused per address.
    assert.equal(perAddress, Math.floor(admitted / 10), 'the per-address limit refuses the eleventh');
    assert.equal(
      admitted,
      89,
      'strangers (with the trickler) stop at maxConnections minus the 10 reserved slots',
    );
    assert.equal(global, idle.length - admitted - perAddress);
    // The gauge is refreshed by the once-a-second deadline sweep.
    let stressed = false;
    for (let i = 0; i < 30 && !stressed; i++) {
      stressed = (await relay.registry.metrics()).includes('mailfleet_relay_under_stress 1');
      if (!stressed) await sleep(50);
    }
    assert.ok(stressed, 'the relay reports it is under stress');

    await Promise.all(idle.map((client) => client.closedByServer()));
    const idleGone = (Date.now() - started) / 1000;
    await trickler.closedByServer();
    const trickleGone = (Date.now() - started) / 1000;
    console.log(
      `under stress: idle strangers cut off by ${idleGone.toFixed(1)} s, the trickler by ${trickleGone.toFixed(1)} s (stress deadline 1 s, command deadline 4 s)`,
    );
    assert.ok(
      idleGone < 3.5,
      `the stress deadline (1 s), not the command deadline (4 s): ${idleGone.toFixed(1)} s`,
    );
    assert.ok(trickleGone < 3.5, `the trickler too: ${trickleGone.toFixed(1)} s`);
  } finally {
    clearInterval(trickle);
  }

  // The trusted session is exempt from the stress deadline and still answers.
  assert.equal((await trusted.command('NOOP')).code, 250);
  assert.match(
    await relay.registry.metrics(),
    /mailfleet_relay_rejections_total\{listener="smtp",reason="command_timeout"\} [1-9]/,
  );
  trusted.close();
});

test('case 31: without stress, a trickling client is still cut off at the command deadline', async () => {
  while (relay.relay.openSessions() > 0) await sleep(50);
  const trickler = await SmtpTestClient.connect(relay.port(), { localAddress: '127.0.0.40' });
  assert.match((await trickler.reply()).text, /^220 /);
  const started = Date.now();
  const trickle = setInterval(() => {
    if (!trickler.closed) trickler.write('N');
  }, 200);
  try {
    const reply = await firstReply(trickler);
    const seconds = (Date.now() - started) / 1000;
    console.log(`not under stress: the trickler got "${reply}" after ${seconds.toFixed(1)} s`);
    assert.match(reply, /^421 4\.4\.2 /);
    assert.ok(seconds >= 3.5 && seconds < 7, `at the 4 s command deadline: ${seconds.toFixed(1)} s`);
  } finally {
    clearInterval(trickle);
  }
});

test('case 31: a session that upgraded with STARTTLS gives its slot back when it ends', async () => {
  // After STARTTLS the TLS socket takes over the plain socket's handle, and the plain socket never
  // emits 'close': a slot released on that event leaked, and the relay refused everyone once
  // maxConnections sessions had used STARTTLS (the protocol fuzzer found it).
  const certificates = await makeTestCertificates(['relay.test']);
  const tlsRelay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { maxConnections: 3, greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0 },
  });
  try {
    const ca = await readFile(certificates.caFile, 'utf8');
    for (let i = 0; i < 6; i++) {
      const client = await SmtpTestClient.connect(tlsRelay.port());
      assert.match((await client.reply()).text, /^220 /, `session ${String(i)} gets a banner`);
      assert.equal((await client.command('EHLO client.test')).code, 250);
      assert.equal((await client.command('STARTTLS')).code, 220);
      await client.startTls(ca);
      assert.equal((await client.command('EHLO client.test')).code, 250);
      assert.equal((await client.command('QUIT')).code, 221);
      await client.closedByServer();
      while (tlsRelay.relay.openSessions() > 0) await sleep(20);
    }
  } finally {
    await tlsRelay.stop();
    await rm(certificates.dir, { recursive: true, force: true });
  }
});
