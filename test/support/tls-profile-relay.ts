// A relay on loopback with an RSA test certificate (so static-RSA key exchange could be offered at
// all) and both kinds of TLS listener, for the TLS profile tests (case 33). stop() removes it all.
import { rm } from 'node:fs/promises';
import { startRelayInProcess, type InProcessRelay } from './relay-process.ts';
import { makeTestCertificates } from './tls.ts';

export interface TlsProfileRelay {
  readonly relay: InProcessRelay;
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startTlsProfileRelay(
  tls: Readonly<Record<string, unknown>> = {},
): Promise<TlsProfileRelay> {
  const certificates = await makeTestCertificates(['relay.test'], undefined, 'tls', 'rsa');
  const relay = await startRelayInProcess({
    hostname: 'relay.test',
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }], ...tls },
    listeners: [
      { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
      { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
    ],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0 },
  });
  return {
    relay,
    caFile: certificates.caFile,
    async stop() {
      await relay.stop();
      await rm(certificates.dir, { recursive: true, force: true });
    },
  };
}
