// Case 30: no user enumeration by timing. A wrong password for a user that exists and any password
// for a name that does not must take the same time, whatever hash the users file holds: the relay
// runs as its own process (the container's command), the clients time each AUTH reply over TLS.
// A security property, not a speed goal: the two must be within noise of each other. Each round times
// one of each on the same connection, and the verdict is the median of the rounds' own ratios: a
// stall of the machine during one round moves one ratio, not the verdict (the ratio of two medians,
// used before, moved with a stall that hit one series more than the other).
import assert from 'node:assert/strict';
import { argon2Sync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { startTlsAuthRelayProcess } from '../../support/tls-auth-relay.ts';
import { SmtpTestClient } from './smtp-client.ts';

const samples = 21;

/** The failure buckets refill at once, so no failure delay (case 29) is added to any sample. */
const noThrottle = { perMinute: 60_000_000, burst: 1000 };

function plain(user: string, password: string): string {
  return `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function timedFailure(client: SmtpTestClient, command: string): Promise<number> {
  const started = performance.now();
  const reply = await client.command(command);
  const elapsed = performance.now() - started;
  assert.match(reply.text, /^535 5\.7\.8 /);
  return elapsed;
}

interface Timings {
  /** Median ms of a wrong password for `alice`, and of any password for an unknown name. */
  readonly known: number;
  readonly unknown: number;
  /** Median of each round's unknown/known ratio. */
  readonly ratio: number;
}

/** `env`: added to the relay's environment (the negative control's TEST_ONLY switch). */
async function measure(usersLine: string, env: Readonly<Record<string, string>> = {}): Promise<Timings> {
  const setup = await startTlsAuthRelayProcess(
    {
      users: [usersLine],
      auth: { failuresPerClientIp: noThrottle, failuresPerUser: noThrottle },
      config: {
        listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
        limits: { greetingDelayMs: 0 },
      },
    },
    env,
  );
  try {
    const port = setup.relay.smtpPorts['smtps'] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    // One extra round first: it warms the relay's code paths and is not counted.
    for (let round = 0; round <= samples; round++) {
      const client = await SmtpTestClient.connect(port, { tls: { ca: setup.ca } });
      try {
        assert.equal((await client.reply()).code, 220);
        assert.equal((await client.command('EHLO client.test')).code, 250);
        // Alternating the order spreads any drift in the machine's load over both series.
        const knownFirst = round % 2 === 0;
        const first = await timedFailure(client, knownFirst ? plain('alice', 'wrong') : plain('nobody', 'x'));
        const second = await timedFailure(
          client,
          knownFirst ? plain('nobody', 'x') : plain('alice', 'wrong'),
        );
        if (round === 0) continue;
        known.push(knownFirst ? first : second);
        unknown.push(knownFirst ? second : first);
      } finally {
        client.close();
      }
    }
    const ratios = known.map((knownMs, round) => (unknown[round] ?? Number.NaN) / knownMs);
    return { known: median(known), unknown: median(unknown), ratio: median(ratios) };
  } finally {
    await setup.stop();
  }
}

const hashes: [string, () => string][] = [
  // The cost the docs' `htpasswd -nbBC 12` gives would take twice as long for the same evidence;
  // 11 is still above the cost 10 the relay once used for every unknown name.
  ['bcrypt cost 11', () => `alice:${bcrypt.hashSync('alice-pass', 11)}`],
  ['argon2id m=8192,t=2,p=1', () => `alice:${argon2idPhc('alice-pass')}`],
];

/** An Argon2id PHC string, as the `argon2` CLI prints it (unpadded base64). */
function argon2idPhc(password: string): string {
  const salt = randomBytes(16);
  const tag = argon2Sync('argon2id', {
    message: password,
    nonce: salt,
    parallelism: 1,
    tagLength: 32,
    memory: 8192,
    passes: 2,
  });
  const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
  return `$argon2id$v=19$m=8192,t=2,p=1$${b64(salt)}$${b64(tag)}`;
}

for (const [name, usersLine] of hashes) {
  test(`case 30: a wrong password for a known user and any password for an unknown one take the same time (${name})`, async () => {
    const { known, unknown, ratio } = await measure(usersLine());
    console.log(
      `case 30 (${name}): median AUTH failure, known user ${known.toFixed(1)} ms, unknown user ${unknown.toFixed(1)} ms, median ratio of the rounds ${ratio.toFixed(2)} (${samples} rounds)`,
    );
    assert.ok(
      ratio >= 0.7 && ratio <= 1.4,
      `unknown/known median ratio ${ratio.toFixed(2)} is outside 0.7-1.4: the reply time tells which names exist`,
    );
  });
}

test('case 30, negative control: with the decoy hash switched off (test-only), the same measurement tells unknown names apart', async () => {
  const { known, unknown, ratio } = await measure(`alice:${argon2idPhc('alice-pass')}`, {
    MAILFLEET_TEST_ONLY_NO_DECOY_HASH: '1',
  });
  console.log(
    `case 30, negative control (argon2id, no decoy): known user ${known.toFixed(1)} ms, unknown user ${unknown.toFixed(1)} ms, median ratio of the rounds ${ratio.toFixed(2)}`,
  );
  assert.ok(
    ratio < 0.7,
    `without the decoy an unknown name must answer visibly sooner: ratio ${ratio.toFixed(2)}`,
  );
});
