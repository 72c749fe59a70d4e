// What one benchmark scenario is: the load's shape and, for the realistic set, its security. A module
// of its own so that the scenario lists (scenarios.ts, realistic.ts) share it without importing each other.

/** STARTTLS + AUTH on every session and DKIM on every message: the realistic set (realistic.ts). */
export interface ScenarioSecurity {
  /** The highest version the client offers: TLSv1.2 makes every handshake a TLS 1.2 one. */
  readonly tlsVersion: 'TLSv1.3' | 'TLSv1.2';
  /** The signing of the sender domain the scenario sends as (realistic.ts dkimDomains). */
  readonly signing: 'rsa' | 'rsa+ed25519';
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly payloadBytes: number;
  readonly sessions: number;
  readonly messages: number;
  readonly reuseConnections: boolean;
  /**
   * smtp-source drives the load (the probe samples latency alongside), or the probe alone is the one
   * serial client, or `sessions` probes side by side are the load (the realistic set: smtp-source
   * does neither STARTTLS nor AUTH).
   */
  readonly driver: 'smtp-source' | 'probe' | 'clients';
  /** STARTTLS + AUTH on every session and DKIM on every message (the realistic set); plain otherwise. */
  readonly security?: ScenarioSecurity;
}
