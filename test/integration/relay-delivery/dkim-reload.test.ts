// DKIM keys reload live: the relay process signs with the key its config names; when the key
// Secret and the config are swapped the kubelet way (`..data`), the next message is signed with the
// new selector and key, without a restart — checked by dkimpy against TXT records from dnsmasq.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDnsmasq } from '../../support/dnsmasq.ts';
import { verifyWithDkimpy } from '../../support/dkimpy.ts';
import { projectVolume } from '../../support/projected-volume.ts';
import { startRelayProcess, type ConfigDocument } from '../../support/relay-process.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';

function rsaKey(selector: string) {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    txt: {
      name: `${selector}._domainkey.reload.test`,
      text: `v=DKIM1; k=rsa; p=${pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
    },
  };
}

async function send(port: number, subject: string): Promise<void> {
  const client = await SmtpTestClient.connect(port);
  try {
    assert.equal((await client.reply()).code, 220);
    for (const [command, code] of [
      ['EHLO app.test', 250],
      ['MAIL FROM:<news@reload.test>', 250],
      ['RCPT TO:<reader@x.test>', 250],
      ['DATA', 354],
    ] as const) {
      assert.equal((await client.command(command)).code, code, command);
    }
    const body = `From: news@reload.test\r\nTo: reader@x.test\r\nSubject: ${subject}\r\n\r\nBody of ${subject}.\r\n.`;
    assert.equal((await client.command(body)).code, 250);
  } finally {
    client.close();
  }
}

test('a reload swaps the DKIM key and selector without a restart; dkimpy verifies both', async () => {
  const first = rsaKey('one');
  const second = rsaKey('two');
  const dns = await startDnsmasq({ txt: [first.txt, second.txt] });
  const sink = await startSmtpSink();
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-dkim-reload-'));
  const keys = join(dir, 'keys');
  const configFor = (selector: string): ConfigDocument => ({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: {
      allowedNetworks: ['127.0.0.0/8'],
      senderDomains: [
        {
          domain: 'reload.test',
          dkim: [{ selector, algorithm: 'rsa-sha256', privateKeyFile: join(keys, `${selector}.pem`) }],
        },
      ],
    },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 2 },
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
      allowPrivateDestinations: true,
    },
  });
  await projectVolume(keys, { 'one.pem': first.pem });
  const relay = await startRelayProcess(configFor('one'), dir);
  try {
    const port = relay.smtpPorts['smtp'] ?? 0;
    await send(port, 'before');
    const reloads = () => relay.logs.filter((line) => line.event === 'reloaded').length;
    const before = reloads();
    // The operator's order: the new key reaches the Secret volume first, then the config names it.
    await projectVolume(keys, { 'one.pem': first.pem, 'two.pem': second.pem });
    const document = JSON.parse(await readFile(relay.configPath, 'utf8')) as ConfigDocument;
    const policy = configFor('two')['policy'];
    await writeFile(relay.configPath, JSON.stringify({ ...document, policy }));
    await relay.waitForLog((line) => line.event === 'reloaded' && reloads() > before);
    await send(port, 'after');

    const messages = await sink.waitForMessages(2, 15_000);
    const reports: string[] = [];
    for (const { raw } of messages) {
      reports.push((await verifyWithDkimpy(raw.slice(raw.indexOf('DKIM-Signature:')), dns.server)).trim());
    }
    const bySubject = new Map(
      messages.map(({ raw }, index) => [/^Subject: (\w+)/m.exec(raw)?.[1], reports[index]]),
    );
    assert.equal(bySubject.get('before'), '0 reload.test one pass');
    assert.equal(bySubject.get('after'), '0 reload.test two pass');
    assert.equal(relay.logs.filter((line) => line.event === 'started').length, 1, 'no restart');
  } finally {
    assert.equal(await relay.stop(), 0);
    await sink.stop();
    await dns.stop();
  }
});

test('a config that names a key file before its Secret volume has it is refused, then applied when the file arrives', async () => {
  const key = rsaKey('late');
  const dns = await startDnsmasq({ txt: [key.txt] });
  const sink = await startSmtpSink();
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-dkim-late-'));
  // The first DKIM key of the relay: its directory holds nothing the old config referenced.
  const keys = join(dir, 'secrets');
  const base: ConfigDocument = {
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'], senderDomains: [{ domain: 'reload.test' }] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 2 },
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
      allowPrivateDestinations: true,
    },
  };
  await projectVolume(keys, {});
  const relay = await startRelayProcess(base, dir);
  try {
    const document = JSON.parse(await readFile(relay.configPath, 'utf8')) as ConfigDocument;
    const dkim = [{ selector: 'late', algorithm: 'rsa-sha256', privateKeyFile: join(keys, 'late.pem') }];
    await writeFile(
      relay.configPath,
      JSON.stringify({
        ...document,
        policy: { ...(base['policy'] as object), senderDomains: [{ domain: 'reload.test', dkim }] },
      }),
    );
    const refused = await relay.waitForLog((line) => line.event === 'reload_refused');
    assert.match(JSON.stringify(refused['errors']), /late\.pem/);
    // The Secret volume catches up; nobody sends SIGHUP.
    await projectVolume(keys, { 'late.pem': key.pem });
    await relay.waitForLog((line) => line.event === 'reloaded');
    await send(relay.smtpPorts['smtp'] ?? 0, 'late');
    const [message] = await sink.waitForMessages(1, 15_000);
    const raw = message?.raw ?? '';
    assert.equal(
      (await verifyWithDkimpy(raw.slice(raw.indexOf('DKIM-Signature:')), dns.server)).trim(),
      '0 reload.test late pass',
    );
  } finally {
    assert.equal(await relay.stop(), 0);
    await sink.stop();
    await dns.stop();
  }
});
