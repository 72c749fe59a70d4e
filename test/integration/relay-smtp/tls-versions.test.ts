// The lowest TLS version a relay accepts, checked with openssl s_client: TLSv1.2 by default (so
// smtp-server's own floor of TLSv1 never applies), TLSv1.3 when tls.minVersion says so, on a
// STARTTLS and on an implicit-TLS listener. A refused version must be refused by the relay (the
// "protocol version" alert), not by the client's own settings: the client runs at SECLEVEL 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTlsAuthRelay, type TlsAuthRelay } from '../../support/tls-auth-relay.ts';

const run = promisify(execFile);
const relays: Record<'default' | 'tls13', TlsAuthRelay | undefined> = {
  default: undefined,
  tls13: undefined,
};

before(async () => {
  const listeners = [
    { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
    { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
  ];
  const config = { listeners, limits: { greetingDelayMs: 0 } };
  relays.default = await startTlsAuthRelay({ users: [], config });
  relays.tls13 = await startTlsAuthRelay({ users: [], config, tlsMinVersion: 'TLSv1.3' });
});

after(async () => {
  await relays.default?.stop();
  await relays.tls13?.stop();
});

/** The protocol openssl negotiated, or 'refused' when the relay answered with a protocol version alert. */
async function handshake(relay: TlsAuthRelay, listener: 'smtp' | 'smtps', version: string): Promise<string> {
  const starttls = listener === 'smtp' ? '-starttls smtp' : '';
  const { stdout } = await run(
    'sh',
    [
      '-c',
      `printf 'QUIT\\r\\n' | openssl s_client ${starttls} -connect 127.0.0.1:${relay.relay.port(listener)} ${version} -cipher 'DEFAULT:@SECLEVEL=0' -CAfile ${relay.caFile} -servername relay.test 2>&1 || true`,
    ],
    { timeout: 20_000 },
  );
  if (stdout.includes('alert protocol version')) return 'refused';
  return /^New, (TLSv1\.\d), Cipher is /m.exec(stdout)?.[1] ?? `unexpected: ${stdout.slice(0, 400)}`;
}

const expectations = [
  { relay: 'default', version: '-tls1', expected: 'refused' },
  { relay: 'default', version: '-tls1_1', expected: 'refused' },
  { relay: 'default', version: '-tls1_2', expected: 'TLSv1.2' },
  { relay: 'default', version: '-tls1_3', expected: 'TLSv1.3' },
  { relay: 'tls13', version: '-tls1_2', expected: 'refused' },
  { relay: 'tls13', version: '-tls1_3', expected: 'TLSv1.3' },
] as const;

for (const listener of ['smtp', 'smtps'] as const) {
  test(`tls.minVersion on the ${listener === 'smtp' ? 'STARTTLS' : 'implicit-TLS'} listener: TLSv1.2 by default, TLSv1.3 when asked`, async () => {
    for (const { relay, version, expected } of expectations) {
      const started = relays[relay];
      assert.ok(started);
      assert.equal(
        await handshake(started, listener, version),
        expected,
        `${relay} relay, openssl ${version}`,
      );
    }
  });
}
