// Case 33 with openssl s_client, fast: on the STARTTLS and the implicit-TLS listener, static-RSA key
// exchange and CBC suites are refused by the relay (the client offers them at SECLEVEL 0, so only
// the server can refuse), the forward-secret AEAD suites work, a client-initiated renegotiation is
// refused, and tls.ciphers narrows the TLS 1.2 suites. The testssl.sh scan: tls-testssl.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTlsProfileRelay, type TlsProfileRelay } from '../../support/tls-profile-relay.ts';

const run = promisify(execFile);
let relay: TlsProfileRelay;
let narrowed: TlsProfileRelay;

before(async () => {
  relay = await startTlsProfileRelay();
  narrowed = await startTlsProfileRelay({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
});

after(async () => {
  await relay.stop();
  await narrowed.stop();
});

type Listener = 'smtp' | 'smtps';

/** openssl s_client on a listener; `script` is what it reads on stdin (commands, or R to renegotiate). */
async function sClient(
  target: TlsProfileRelay,
  listener: Listener,
  args: string,
  script: string,
): Promise<string> {
  const starttls = listener === 'smtp' ? '-starttls smtp' : '';
  const { stdout } = await run(
    'sh',
    [
      '-c',
      `(${script}) | openssl s_client ${starttls} -connect 127.0.0.1:${target.relay.port(listener)} ${args} -CAfile ${target.caFile} -servername relay.test 2>&1 || true`,
    ],
    { timeout: 20_000 },
  );
  return stdout;
}

/** The TLS 1.2 suite negotiated when the client offers only `cipher`, or 'refused'. */
async function negotiated(target: TlsProfileRelay, listener: Listener, cipher: string): Promise<string> {
  const out = await sClient(
    target,
    listener,
    `-tls1_2 -cipher '${cipher}:@SECLEVEL=0'`,
    `printf 'QUIT\\r\\n'`,
  );
  if (/alert handshake failure|no shared cipher/.test(out)) return 'refused';
  return /^New, TLSv1\.2, Cipher is (\S+)/m.exec(out)?.[1] ?? `unexpected: ${out.slice(0, 400)}`;
}

const suites = [
  ['static RSA with AES-GCM', 'AES128-GCM-SHA256', 'refused'],
  ['static RSA with CBC', 'AES256-SHA256', 'refused'],
  ['ECDHE with AES-CBC (SHA-1)', 'ECDHE-RSA-AES128-SHA', 'refused'],
  ['ECDHE with AES-CBC (SHA-256)', 'ECDHE-RSA-AES128-SHA256', 'refused'],
  ['DHE with AES-GCM', 'DHE-RSA-AES128-GCM-SHA256', 'refused'],
  ['ECDHE with AES-128-GCM', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['ECDHE with AES-256-GCM', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['ECDHE with ChaCha20-Poly1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
] as const;

for (const listener of ['smtp', 'smtps'] as const) {
  const kind = listener === 'smtp' ? 'STARTTLS' : 'implicit-TLS';

  test(`case 33: the ${kind} listener offers TLS 1.2 only forward-secret AEAD suites`, async () => {
    for (const [name, cipher, expected] of suites) {
      assert.equal(await negotiated(relay, listener, cipher), expected, `${name} (${cipher})`);
    }
    const tls13 = await sClient(relay, listener, '-tls1_3', `printf 'QUIT\\r\\n'`);
    assert.match(tls13, /^New, TLSv1\.3, Cipher is TLS_/m, 'TLS 1.3 with its own suites');
  });

  test(`case 33: the ${kind} listener refuses a client-initiated renegotiation`, async () => {
    // After the handshake: a command, then R (renegotiate), then a command that only a live,
    // renegotiated session would answer.
    const script = `sleep 0.5; printf 'NOOP\\r\\n'; sleep 0.5; printf 'R\\n'; sleep 1; printf 'NOOP\\r\\n'; sleep 0.5`;
    // Not -ign_eof or -quiet: with either, s_client sends R as a line instead of renegotiating.
    const out = await sClient(relay, listener, '-tls1_2', script);
    assert.match(out, /^New, TLSv1\.2, /m, out.slice(0, 400));
    assert.match(out, /RENEGOTIATING/, 'the client asked to renegotiate');
    assert.match(out, /no renegotiation/, `the relay refused it:\n${out.slice(-600)}`);
    const noops = out.match(/^250 2\.0\.0 /gm)?.length ?? 0;
    assert.equal(noops, 1, 'only the NOOP before R was answered');
  });

  test(`case 33: tls.ciphers narrows the TLS 1.2 suites of the ${kind} listener`, async () => {
    assert.equal(await negotiated(narrowed, listener, 'ECDHE-RSA-AES128-GCM-SHA256'), 'refused');
    assert.equal(
      await negotiated(narrowed, listener, 'ECDHE-RSA-AES256-GCM-SHA384'),
      'ECDHE-RSA-AES256-GCM-SHA384',
    );
  });
}
