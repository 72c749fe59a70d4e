// Limits over real sockets: global connection limit (case 12), session deadline and slow clients
// (case 11), per-client rate limit, and a full spool (452 4.3.1 before DATA).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { SmtpTestClient } from './smtp-client.ts';

let relay: InProcessRelay;
let full: InProcessRelay;
let twoListeners: InProcessRelay;

before(async () => {
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'], rateLimits: { perClientIp: { perMinute: 1, burst: 2 } } },
    limits: {
      greetingDelayMs: 0,
      allowedNetworksGreetingDelayMs: 0,
      maxConnections: 30,
      maxConnectionsPerIp: 1000,
      sessionTimeoutSeconds: 1,
    },
  });
  full = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0 },
    // More free bytes than any disk has: the spool reports no space.
    queue: { minFreeBytes: Number.MAX_SAFE_INTEGER },
  });
  twoListeners = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [
      { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
      { name: 'other', port: 0, address: '127.0.0.1', mode: 'relay' },
    ],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: {
      greetingDelayMs: 0,
      allowedNetworksGreetingDelayMs: 0,
      maxConnections: 6,
      maxConnectionsPerIp: 100,
    },
  });
});

after(async () => {
  await relay.stop();
  await full.stop();
  await twoListeners.stop();
});

/** Waits until the relay has seen every test connection go away. */
async function allClosed(target: InProcessRelay): Promise<void> {
  while (target.relay.openSessions() > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function greeted(target: InProcessRelay): Promise<SmtpTestClient> {
  const client = await SmtpTestClient.connect(target.port());
  assert.equal((await client.reply()).code, 220);
  return client;
}

test('case 12: connections beyond the global limit get 421 and are counted', async () => {
  const clients: SmtpTestClient[] = [];
  try {
    let refused: string | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const client = await SmtpTestClient.connect(relay.port());
      clients.push(client);
      const reply = await client.reply();
      if (reply.code === 421) refused = reply.text;
    }
    assert.match(refused ?? 'none', /^421 4\.7\.0 .*Too many connected clients/);
    assert.match(
      await relay.registry.metrics(),
      /mailfleet_relay_connection_limit_refusals_total\{listener="smtp",limit="global"\} [1-9]/,
    );
  } finally {
    for (const client of clients) client.close();
    await allClosed(relay);
  }
});

test('case 12: the global limit counts the connections of every listener together', async () => {
  const clients: SmtpTestClient[] = [];
  try {
    const codes: number[] = [];
    for (const listener of ['smtp', 'other', 'smtp', 'other', 'smtp', 'other', 'smtp', 'other']) {
      const client = await SmtpTestClient.connect(twoListeners.port(listener));
      clients.push(client);
      codes.push((await client.reply()).code);
    }
    assert.deepEqual(codes, [220, 220, 220, 220, 220, 220, 421, 421], 'six in all, whichever listener');
  } finally {
    for (const client of clients) client.close();
    await allClosed(twoListeners);
  }
});

test('case 11: the whole-session deadline closes a session that keeps talking with 421 4.4.2', async () => {
  const client = await greeted(relay);
  let last = 0;
  // NOOP every 200 ms keeps the idle timer happy; only the session deadline (1 s) ends it.
  for (let i = 0; i < 20 && !client.closed; i++) {
    const reply = await client.command('NOOP').catch(() => undefined);
    if (reply === undefined) break;
    last = reply.code;
    if (reply.code === 421) {
      assert.match(reply.text, /^421 4\.4\.2 /);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The deadline may strike between two NOOPs: its 421 is then still unread.
  if (last !== 421) last = (await client.reply().catch(() => undefined))?.code ?? last;
  assert.equal(last, 421);
  await client.closedByServer();
});

test('case 11: many slow sessions do not stop another client being served', async () => {
  const slow: SmtpTestClient[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const client = await SmtpTestClient.connect(relay.port());
      client.write('EHLO sl');
      slow.push(client);
    }
    const client = await greeted(relay);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    client.close();
  } finally {
    for (const client of slow) client.close();
    await allClosed(relay);
  }
});

test('rate limit per client IP answers 450 4.7.1 with a reason once the bucket is empty', async () => {
  const client = await greeted(relay);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  const codes: string[] = [];
  for (let i = 0; i < 3; i++) {
    codes.push((await client.command('MAIL FROM:<a@example.org>')).text);
    await client.command('RSET');
  }
  assert.match(codes[0] ?? '', /^250 /);
  assert.match(codes[2] ?? '', /^450 4\.7\.1 Rate limit reached for this client/);
  assert.match(
    await relay.registry.metrics(),
    /mailfleet_relay_rate_limit_hits_total\{listener="smtp",key="client_ip"\} [1-9]/,
  );
  client.close();
});

test('case 20: with the spool out of space MAIL is answered 452 4.3.1 before DATA', async () => {
  const client = await greeted(full);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.match((await client.command('MAIL FROM:<a@example.org>')).text, /^452 4\.3\.1 /);
  client.close();
});
