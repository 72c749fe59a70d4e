// An in-process relay with a test certificate and an AUTH users file, for the tests of TLS and
// AUTH behaviour: the config's listeners, policy and limits come from the test; `tls` and
// `auth.usersFile` point at the files made here. stop() removes them.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRelayInProcess, type ConfigDocument, type InProcessRelay } from './relay-process.ts';
import { makeTestCertificates } from './tls.ts';

export interface TlsAuthRelay {
  readonly relay: InProcessRelay;
  /** The PEM of the CA that signed the relay's certificate (for relay.test). */
  readonly ca: string;
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startTlsAuthRelay(options: {
  /** The users file's lines (`name:hash`). */
  readonly users: readonly string[];
  /** AUTH settings other than the users file; defaults: 3 failures per connection, generous buckets. */
  readonly auth?: Readonly<Record<string, unknown>>;
  readonly config: ConfigDocument;
  /** tls.minVersion; absent: the relay's default. */
  readonly tlsMinVersion?: 'TLSv1.2' | 'TLSv1.3';
}): Promise<TlsAuthRelay> {
  const certificates = await makeTestCertificates(['relay.test']);
  const usersFile = join(certificates.dir, 'users');
  await writeFile(usersFile, `${options.users.join('\n')}\n`);
  const relay = await startRelayInProcess({
    hostname: 'relay.test',
    tls: {
      certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }],
      ...(options.tlsMinVersion === undefined ? {} : { minVersion: options.tlsMinVersion }),
    },
    ...options.config,
    auth: {
      usersFile,
      maxFailuresPerConnection: 3,
      failuresPerClientIp: { perMinute: 10, burst: 10 },
      failuresPerUser: { perMinute: 10, burst: 10 },
      ...options.auth,
    },
  });
  return {
    relay,
    ca: await readFile(certificates.caFile, 'utf8'),
    caFile: certificates.caFile,
    async stop() {
      await relay.stop();
      await rm(certificates.dir, { recursive: true, force: true });
    },
  };
}
