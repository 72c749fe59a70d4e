// DKIM: messages signed with an RSA-2048 and an Ed25519 key at once, checked by an independent
// verifier (dkimpy) against public keys published as TXT records by a real dnsmasq.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { loadDkimKeyring } from '../../../relay/dkim/keys.ts';
import { startDnsmasq } from '../../support/dnsmasq.ts';
import { verifyWithDkimpy } from '../../support/dkimpy.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

function keyPairs() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  // RFC 8463: an Ed25519 key record holds the raw 32-byte key, the tail of the SPKI encoding.
  const edPublic = ed.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
  return {
    files: new Map([
      ['/keys/rsa.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
      ['/keys/ed.pem', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ]),
    txt: [
      { name: 'mf2048._domainkey.signer.test', text: `v=DKIM1; k=rsa; p=${rsaPublic}` },
      { name: 'mfed._domainkey.signer.test', text: `v=DKIM1; k=ed25519; p=${edPublic}` },
    ],
  };
}

test('outgoing mail carries RSA and Ed25519 signatures that dkimpy verifies via DNS', async () => {
  const keys = keyPairs();
  const dns = await startDnsmasq({ txt: keys.txt });
  const sink = await startSmtpSink();
  const dkimKeys = await loadDkimKeyring(
    [
      {
        domain: 'signer.test',
        dkim: [
          { selector: 'mf2048', algorithm: 'rsa-sha256', privateKeyFile: '/keys/rsa.pem' },
          { selector: 'mfed', algorithm: 'ed25519-sha256', privateKeyFile: '/keys/ed.pem' },
        ],
      },
    ],
    (path) => Promise.resolve(keys.files.get(path) ?? ''),
  );
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
    dkimKeys,
  });
  try {
    await enqueue(
      harness.spool,
      envelopeFor('news@signer.test', ['reader@x.test'], { senderDomain: 'signer.test' }),
      messageText('news@signer.test', 'reader@x.test', 'signed twice'),
    );
    const [dumped] = await sink.waitForMessages(1, 10_000);
    const raw = dumped?.raw ?? '';
    const message = raw.slice(raw.indexOf('DKIM-Signature:'));
    assert.match(message, /^DKIM-Signature: .*a=rsa-sha256/s);
    const report = await verifyWithDkimpy(message, dns.server);
    assert.deepEqual(
      report.trim().split('\n').sort(),
      ['0 signer.test mf2048 pass', '1 signer.test mfed pass'].sort(),
    );
    const tampered = message.replace('Body of signed twice.', 'Body of signed twice!');
    const tamperedReport = await verifyWithDkimpy(tampered, dns.server);
    assert.match(tamperedReport, /fail/, 'a changed body no longer verifies');
    // Whitespace that relaxed canonicalization rewrites (relay/dkim/relaxed-body.ts): tabs, runs
    // of spaces, spaces ending lines, lines of blanks and empty lines at the end of the body.
    const spaced = messageText('news@signer.test', 'reader@x.test', 'spaced out').replace(
      /\r\n\r\n[^]*$/,
      '\r\n\r\n\tIndented\tby tabs,  two  spaces \r\n \r\ntrailing \t \r\n\r\n  \r\n\r\n',
    );
    await enqueue(
      harness.spool,
      envelopeFor('news@signer.test', ['reader@x.test'], { senderDomain: 'signer.test' }),
      spaced,
    );
    const [, second] = await sink.waitForMessages(2, 10_000);
    const spacedRaw = second?.raw ?? '';
    const spacedReport = await verifyWithDkimpy(
      spacedRaw.slice(spacedRaw.indexOf('DKIM-Signature:')),
      dns.server,
    );
    assert.deepEqual(
      spacedReport.trim().split('\n').sort(),
      ['0 signer.test mf2048 pass', '1 signer.test mfed pass'].sort(),
      'a body that relaxed canonicalization rewrites',
    );
    const metrics = await harness.registry.getSingleMetricAsString('mailfleet_relay_dkim_signatures_total');
    assert.match(metrics, /algorithm="ed25519-sha256",result="signed"\} 2/);
  } finally {
    await harness.close();
    await sink.stop();
    await dns.stop();
  }
});

test('a key that does not match its declared algorithm fails at load, naming the file', async () => {
  const keys = keyPairs();
  await assert.rejects(
    loadDkimKeyring(
      [
        {
          domain: 'signer.test',
          dkim: [{ selector: 's', algorithm: 'ed25519-sha256', privateKeyFile: '/keys/rsa.pem' }],
        },
      ],
      (path) => Promise.resolve(keys.files.get(path) ?? ''),
    ),
    /\/keys\/rsa\.pem: is rsa, expected ed25519/,
  );
});
