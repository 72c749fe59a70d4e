// The part of mx-connect's API that delivery uses (the package ships no types).
declare module 'mx-connect' {
  import type { Socket } from 'node:net';

  interface MxConnectError extends Error {
    code?: string;
    category?: string;
    temporary?: boolean;
    response?: string;
  }

  interface MxConnection {
    socket: Socket;
    hostname: string;
    host: string;
    port: number;
    policyMatch?: { valid: boolean; mode?: string; testing?: boolean };
    requireTls?: boolean;
  }

  interface MxConnectOptions {
    target: string;
    port?: number;
    maxConnectTime?: number;
    localHostname?: string;
    dnsOptions?: {
      resolveRecords?: (domain: string, type: 'MX' | 'A' | 'AAAA' | 'TXT') => Promise<unknown[]>;
      ignoreIPv6?: boolean;
    };
    connectHook?: (
      delivery: unknown,
      options: { host: string; port: number },
      callback: (error?: Error | null) => void,
    ) => void;
    mtaSts?: {
      enabled: boolean;
      logger?: (entry: Record<string, unknown>) => void;
      cache?: { get(domain: string): Promise<unknown>; set(domain: string, policy: unknown): Promise<void> };
    };
  }

  function mxConnect(options: MxConnectOptions): Promise<MxConnection>;
  export default mxConnect;
  export type { MxConnectError, MxConnection, MxConnectOptions };
}
