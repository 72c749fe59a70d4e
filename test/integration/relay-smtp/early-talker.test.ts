// Case 13 with the greeting pause per client: untrusted clients keep the early-talker check while
// clients in the allowed networks may be greeted at once (the benchmark's new-connection cost).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRelayInProcess } from '../../support/relay-process.ts';
import { SmtpTestClient } from './smtp-client.ts';

async function talkFirst(allowedNetworks: string[]): Promise<number> {
  const relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks },
    limits: { greetingDelayMs: 300, allowedNetworksGreetingDelayMs: 0 },
  });
  try {
    const client = await SmtpTestClient.connect(relay.port());
    client.write('EHLO early.test\r\n');
    const code = (await client.reply()).code;
    client.close();
    return code;
  } finally {
    await relay.stop();
  }
}

test('case 13: a client outside the allowed networks that talks before the banner gets 421', async () => {
  assert.equal(await talkFirst(['10.0.0.0/8']), 421);
});

test('a client in the allowed networks is greeted without the pause when so configured', async () => {
  assert.equal(await talkFirst(['127.0.0.0/8']), 220);
});
