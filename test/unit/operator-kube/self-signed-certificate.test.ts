// The metrics endpoint's generated certificate (case 38) is a well-formed X.509 v3 certificate that
// node:crypto and a real TLS handshake accept: self-signed, naming the DNS names, valid for the
// requested days from the given time, with a private key that matches.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { selfSignedCertificate } from '../../../operator/self-signed-certificate.ts';

const now = new Date('2026-03-01T12:00:00.000Z');
const generated = selfSignedCertificate({
  commonName: 'mailfleet-operator',
  dnsNames: ['mailfleet-operator', 'localhost'],
  now,
  validityDays: 365,
});

test('the generated certificate parses, is self-signed and names its DNS names and validity', () => {
  const certificate = new X509Certificate(generated.certificatePem);
  assert.equal(certificate.subject, 'CN=mailfleet-operator');
  assert.equal(certificate.issuer, certificate.subject);
  assert.equal(certificate.subjectAltName, 'DNS:mailfleet-operator, DNS:localhost');
  assert.equal(new Date(certificate.validFrom).toISOString(), '2026-03-01T12:00:00.000Z');
  assert.equal(new Date(certificate.validTo).toISOString(), '2027-03-01T12:00:00.000Z');
  assert.equal(certificate.ca, false);
  assert.ok(certificate.verify(certificate.publicKey), 'signed by its own key');
  assert.ok(certificate.checkPrivateKey(createPrivateKey(generated.privateKeyPem)));
  assert.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'server authentication');
});

test('a TLS client that trusts the certificate completes a handshake with it for localhost', async () => {
  const current = selfSignedCertificate({
    commonName: 'mailfleet-operator',
    dnsNames: ['localhost'],
    now: new Date(Date.now() - 60_000),
    validityDays: 1,
  });
  const server = createServer({ cert: current.certificatePem, key: current.privateKeyPem }, (_, response) => {
    response.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      request(
        { host: '127.0.0.1', servername: 'localhost', port, ca: current.certificatePem, path: '/' },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => {
            resolve(text);
          });
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(body, 'ok');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
