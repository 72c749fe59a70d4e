// The relay process the reliability tests run, and how they kill it: SMTP on loopback, relaying
// for 127.0.0.0/8 without a greeting pause, delivering everything to one next hop on loopback.
import type { ConfigDocument, RelayProcess } from '../../support/relay-process.ts';

export function relayToNextHop(
  port: number,
  options: { readonly tls?: 'none' | 'required'; readonly delivery?: Readonly<Record<string, unknown>> } = {},
): ConfigDocument {
  return {
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 1 },
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port, tls: options.tls ?? 'none' },
      allowPrivateDestinations: true,
      retryInitialSeconds: 1,
      ...options.delivery,
    },
  };
}

/** kill -9, and wait until the process is gone (at once when it already is). */
export async function killHard(relay: RelayProcess): Promise<void> {
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    relay.child.once('exit', () => {
      resolve();
    }),
  );
  relay.child.kill('SIGKILL');
  await exited;
}
