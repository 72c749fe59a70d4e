// SNI: each certificate serves its server names; the first one is the default.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { startRelayInProcess } from '../../support/relay-process.ts';
import { makeTestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

test('SNI selects the certificate by server name; others get the default', async () => {
  const main = await makeTestCertificates(['relay.test']);
  const other = await makeTestCertificates(['other.test'], main.dir, 'other');
  const relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
    tls: {
      certificates: [
        { certFile: main.certFile, keyFile: main.keyFile },
        { certFile: other.certFile, keyFile: other.keyFile, serverNames: ['other.test'] },
      ],
    },
    limits: { greetingDelayMs: 0 },
  });
  try {
    const mainCa = await readFile(main.caFile, 'utf8');
    const otherCa = await readFile(other.caFile, 'utf8');
    for (const [servername, ca] of [
      ['other.test', otherCa],
      ['relay.test', mainCa],
    ] as const) {
      const client = await SmtpTestClient.connect(relay.port(), { tls: { ca, servername } });
      assert.equal((await client.reply()).code, 220, servername);
      client.close();
    }
    await assert.rejects(
      SmtpTestClient.connect(relay.port(), { tls: { ca: otherCa, servername: 'relay.test' } }),
    );
  } finally {
    await relay.stop();
    await rm(main.dir, { recursive: true, force: true });
  }
});
