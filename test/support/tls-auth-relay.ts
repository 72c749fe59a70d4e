// A relay (in this process, or as a child process) with a test certificate and an AUTH users file,
// for the tests of TLS and AUTH behaviour: the config's listeners, policy and limits come from the
// test; `tls` and `auth.usersFile` point at the files made here. stop() removes them.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  startRelayInProcess,
  startRelayProcess,
  type ConfigDocument,
  type InProcessRelay,
  type RelayProcess,
} from './relay-process.ts';
import { makeTestCertificates } from './tls.ts';

export interface TlsAuthRelay {
  readonly relay: InProcessRelay;
  /** The PEM of the CA that signed the relay's certificate (for relay.test). */
  readonly ca: string;
  readonly caFile: string;
  stop(): Promise<void>;
}

export interface TlsAuthOptions {
  /** The users file's lines (`name:hash`). */
  readonly users: readonly string[];
  /** AUTH settings other than the users file; defaults: 3 failures per connection, generous buckets. */
  readonly auth?: Readonly<Record<string, unknown>>;
  readonly config: ConfigDocument;
  /** tls.minVersion; absent: the relay's default. */
  readonly tlsMinVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** The relay's clock (token expiry, rate limits); absent: Date.now. */
  readonly clock?: () => number;
}

async function tlsAuthConfig(
  options: TlsAuthOptions,
): Promise<{ config: ConfigDocument; dir: string; caFile: string; ca: string }> {
  const certificates = await makeTestCertificates(['relay.test']);
  const usersFile = join(certificates.dir, 'users');
  await writeFile(usersFile, `${options.users.join('\n')}\n`);
  const config = {
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
  };
  const ca = await readFile(certificates.caFile, 'utf8');
  return { config, dir: certificates.dir, caFile: certificates.caFile, ca };
}

export async function startTlsAuthRelay(options: TlsAuthOptions): Promise<TlsAuthRelay> {
  const { config, dir, caFile, ca } = await tlsAuthConfig(options);
  const relay = await startRelayInProcess(config, options.clock ? { clock: options.clock } : {});
  return {
    relay,
    ca,
    caFile,
    async stop() {
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The same relay as a child process (`node relay/main.ts`), for timing and log tests. */
export async function startTlsAuthRelayProcess(
  options: TlsAuthOptions,
  env: Readonly<Record<string, string>> = {},
): Promise<{ readonly relay: RelayProcess; readonly ca: string; stop(): Promise<void> }> {
  const { config, dir, ca } = await tlsAuthConfig(options);
  const relay = await startRelayProcess(config, undefined, env);
  return {
    relay,
    ca,
    async stop() {
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
