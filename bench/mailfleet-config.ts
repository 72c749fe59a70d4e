// The relay configuration the benchmark runs mailfleet with (pure): listen on loopback, accept from
// loopback without AUTH, spool under the benchmark's temp dir, relay everything to the sink.

export interface MailfleetBenchSettings {
  readonly port: number;
  readonly nextHopPort: number;
  readonly spoolDirectory: string;
}

export function mailfleetBenchConfig(settings: MailfleetBenchSettings): Record<string, unknown> {
  return {
    listeners: [{ name: 'bench', address: '127.0.0.1', port: settings.port, mode: 'relay' }],
    relay: { allowedNetworks: ['127.0.0.0/8'] },
    spool: { directory: settings.spoolDirectory },
    delivery: {
      smarthost: { host: '127.0.0.1', port: settings.nextHopPort, tls: 'none' },
      allowPrivateDestinations: true,
    },
  };
}
