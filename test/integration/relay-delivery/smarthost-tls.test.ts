// Smarthost TLS modes against a TLS-speaking SMTP server (smtp-server, with a certificate from a CA
// this process does not trust): implicit TLS (SMTPS, port 465 style) and STARTTLS, each with
// verifyCertificate false (delivered, encrypted) and with the default verification (deferred,
// never sent in plaintext).
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { SmarthostConfig } from '../../../relay/config/delivery-schema.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

interface Received {
  readonly secure: boolean;
  readonly subject: string | undefined;
}

let certificates: TestCertificates;
const servers: SMTPServer[] = [];
const received = new Map<string, Received[]>();

async function tlsSmarthost(name: string, implicit: boolean): Promise<number> {
  const list: Received[] = [];
  received.set(name, list);
  const server = new SMTPServer({
    secure: implicit,
    key: await readFile(certificates.keyFile),
    cert: await readFile(certificates.certFile),
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      stream.on('end', () => {
        list.push({ secure: session.secure, subject: /^Subject: (.*)$/m.exec(text)?.[1]?.trim() });
        callback();
      });
    },
  });
  // A client refusing the certificate drops the handshake: that is the point, not a test failure.
  server.on('error', () => undefined);
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.server.address() as { port: number }).port);
    });
  });
}

before(async () => {
  certificates = await makeTestCertificates(['smarthost.test']);
});

after(async () => {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
  await rm(certificates.dir, { recursive: true, force: true });
});

const cases: readonly {
  readonly name: string;
  readonly implicit: boolean;
  readonly smarthost: Pick<SmarthostConfig, 'tls' | 'verifyCertificate'>;
  readonly delivered: boolean;
}[] = [
  {
    name: 'implicit, not verified',
    implicit: true,
    smarthost: { tls: 'implicit', verifyCertificate: false },
    delivered: true,
  },
  { name: 'implicit, verified', implicit: true, smarthost: { tls: 'implicit' }, delivered: false },
  {
    name: 'STARTTLS, not verified',
    implicit: false,
    smarthost: { tls: 'required', verifyCertificate: false },
    delivered: true,
  },
  { name: 'STARTTLS, verified', implicit: false, smarthost: { tls: 'required' }, delivered: false },
];

for (const { name, implicit, smarthost, delivered } of cases) {
  test(`smarthost ${name}: ${delivered ? 'delivered over TLS' : 'an unverifiable certificate defers, nothing is sent'}`, async () => {
    const port = await tlsSmarthost(name, implicit);
    const harness = await startHarness({
      delivery: { smarthost: { host: '127.0.0.1', port, ...smarthost } },
    });
    try {
      const queueId = await enqueue(
        harness.spool,
        envelopeFor('alice@example.org', ['bob@x.test']),
        messageText('alice@example.org', 'bob@x.test', name),
      );
      const unverifiedWarnings = harness.logs().filter((line) => line['event'] === 'tls-unverified');
      assert.equal(unverifiedWarnings.length, smarthost.verifyCertificate === false ? 1 : 0);
      if (delivered) {
        await harness.waitForEmptyQueue(15_000);
        assert.deepEqual(received.get(name), [{ secure: true, subject: name }]);
      } else {
        const deferral = await harness.waitForLog(
          (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
          15_000,
        );
        assert.match(String(deferral['reply']), /certificate|self[- ]signed|verify/i);
        assert.deepEqual(received.get(name), [], 'never sent without a verified certificate');
        assert.equal(harness.spool.size(), 1, 'still queued');
      }
    } finally {
      await harness.close();
    }
  });
}
