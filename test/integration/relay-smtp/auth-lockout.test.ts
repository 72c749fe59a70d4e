// Case 29: no lock-out of the victim. An attacker at 127.0.0.2 guesses alice's password against the
// relay process while alice, at 127.0.0.3, keeps logging in and sending (nodemailer) and mistypes
// once: she is never refused nor slowed, the attacker's failure replies come later and later, then
// the attacker's address is refused with 454 4.7.0, even with the right password. The relay listens
// on 127.0.0.1; Linux routes all of 127.0.0.0/8 to lo, so each client binds its own source address.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import nodemailer from 'nodemailer';
import { startTlsAuthRelayProcess } from '../../support/tls-auth-relay.ts';
import { SmtpTestClient } from './smtp-client.ts';

const attacker = '127.0.0.2';
const victim = '127.0.0.3';
/** The attacker's address may fail this often before it is refused (the relay's own default is 10). */
const addressBurst = 6;

let setup: Awaited<ReturnType<typeof startTlsAuthRelayProcess>>;
let port: number;

before(async () => {
  setup = await startTlsAuthRelayProcess({
    users: [`alice:${bcrypt.hashSync('alice-pass', 4)}`],
    auth: {
      // Slow refill: within the test the attacker's failures are never forgiven.
      failuresPerClientIp: { perMinute: 1, burst: addressBurst },
      failuresPerUser: { perMinute: 1, burst: addressBurst },
    },
    config: {
      listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
      limits: { greetingDelayMs: 0 },
    },
  });
  port = setup.relay.smtpPorts['smtps'] ?? 0;
});

after(() => setup.stop());

/** One AUTH PLAIN on a fresh connection from `source`: the reply and how long it took. */
async function login(source: string, password: string): Promise<{ text: string; ms: number }> {
  const client = await SmtpTestClient.connect(port, { tls: { ca: setup.ca }, localAddress: source });
  try {
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    const started = performance.now();
    const reply = await client.command(
      `AUTH PLAIN ${Buffer.from(`\0alice\0${password}`).toString('base64')}`,
    );
    return { text: reply.text, ms: performance.now() - started };
  } finally {
    client.close();
  }
}

/** alice sends a message with nodemailer from her own address. */
async function sendAsVictim(): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: true,
    localAddress: victim,
    auth: { user: 'alice', pass: 'alice-pass' },
    tls: { ca: setup.ca, servername: 'relay.test' },
  });
  try {
    const info = await transport.sendMail({
      from: 'alice@shop.example',
      to: 'someone@example.com',
      subject: 'during the attack',
      text: 'hello',
    });
    return info.response;
  } finally {
    transport.close();
  }
}

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${setup.relay.httpPort}/metrics`)).text();
}

test('case 29: an attack on alice from one address slows then refuses that address; alice elsewhere still logs in', async () => {
  const attempts: { text: string; ms: number }[] = [];
  const progress = { attackOver: false };
  const attack = (async () => {
    try {
      for (let guess = 0; guess < addressBurst + 3; guess++) {
        const attempt = await login(attacker, `guess-${guess}`);
        attempts.push(attempt);
        if (attempt.text.startsWith('454 ')) break;
        // A paced attack, so alice's logins interleave with it whatever the relay does.
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    } finally {
      progress.attackOver = true;
    }
  })();
  const victimLogins: string[] = [];
  const victimMistypes: { text: string; ms: number }[] = [];
  const victimMessages: string[] = [];
  while (!progress.attackOver) {
    victimLogins.push((await login(victim, 'alice-pass')).text);
    if (attempts.length >= 3 && victimMistypes.length === 0)
      victimMistypes.push(await login(victim, 'alice-pas'));
    if (attempts.length >= 4 && victimMessages.length === 0) victimMessages.push(await sendAsVictim());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await attack;

  const summary = attempts.map((attempt) => `${attempt.text.slice(0, 9)} after ${Math.round(attempt.ms)} ms`);
  console.log(`case 29: the attacker's replies: ${summary.join(' | ')}`);
  assert.ok(victimLogins.length >= 3, `alice logged in during the attack: ${victimLogins.length} times`);
  for (const reply of victimLogins) assert.match(reply, /^235 2\.7\.0 /, 'alice is never refused');
  assert.match(victimMistypes[0]?.text ?? '', /^535 5\.7\.8 /, "alice's own typo is an ordinary failure");
  assert.ok(
    (victimMistypes[0]?.ms ?? Infinity) < 200,
    "alice's typo is not slowed by the attacker's failures",
  );
  assert.match(victimMessages[0] ?? '', /^250 2\.6\.0 /, 'alice sends while the attack runs');
  assert.match(
    (await login(victim, 'alice-pass')).text,
    /^235 2\.7\.0 /,
    'after the attack alice still logs in',
  );

  const failures = attempts.filter((attempt) => attempt.text.startsWith('535 5.7.8 '));
  assert.equal(failures.length, addressBurst, summary.join(' | '));
  assert.match(attempts.at(-1)?.text ?? '', /^454 4\.7\.0 /, 'the attacking address is refused in the end');
  assert.ok((failures[0]?.ms ?? Infinity) < 200, `the first failure is not delayed: ${summary.join(' | ')}`);
  assert.ok(
    (failures.at(-1)?.ms ?? 0) >= 1500,
    `the last failures come later and later: ${summary.join(' | ')}`,
  );
  for (let index = 1; index < failures.length; index++) {
    assert.ok(
      (failures[index]?.ms ?? 0) >= (failures[index - 1]?.ms ?? 0) - 100,
      `delays never shrink while the attack goes on: ${summary.join(' | ')}`,
    );
  }

  assert.match(
    (await login(attacker, 'alice-pass')).text,
    /^454 4\.7\.0 /,
    'the attacking address is refused',
  );
  const scraped = await metrics();
  assert.match(scraped, /mailfleet_relay_auth_failure_delay_seconds_count\{listener="smtps"\} [1-9]/);
  assert.match(scraped, /mailfleet_relay_rate_limit_hits_total\{listener="smtps",key="auth_ip"\} [1-9]/);
  assert.match(
    scraped,
    /mailfleet_relay_auth_failures_total\{listener="smtps",reason="rate_limited"\} [1-9]/,
  );
});
