// Direct delivery: MX lookup (preference order, A/AAAA fallback, null MX) and connection through
// mx-connect, on the configured resolver. The SSRF guard (case 7) filters every resolved address
// before mx-connect sees it, so a forbidden address is never connected to.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type * as MxConnect from 'mx-connect';
import type { MxConnectError } from 'mx-connect';
import type { AttemptResult } from './attempt-result.ts';
import { isForbiddenDestination } from './forbidden-destinations.ts';

// Loaded on the first MX delivery: a relay that only uses a smarthost never pays for it in memory.
let mxConnectModule: Promise<typeof MxConnect> | undefined;

export interface MxRouteOptions {
  readonly dnsServers: readonly string[];
  readonly port: number;
  readonly allowPrivateDestinations: boolean;
  readonly mtaSts: boolean;
  readonly connectTimeoutMs: number;
  readonly heloName: string;
}

export type MxRoute =
  | {
      readonly ok: true;
      readonly socket: Socket;
      readonly hostname: string;
      readonly address: string;
      /** An MTA-STS policy in enforce mode covers this MX: TLS with a valid certificate or nothing. */
      readonly mtaStsEnforced: boolean;
    }
  | { readonly ok: false; readonly result: AttemptResult };

export interface MxRouter {
  connect(domain: string): Promise<MxRoute>;
}

export function createMxRouter(options: MxRouteOptions): MxRouter {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (options.dnsServers.length > 0) resolver.setServers([...options.dnsServers]);
  const allowed = (address: string): boolean =>
    options.allowPrivateDestinations || !isForbiddenDestination(address);
  const policies = new Map<string, unknown>();

  return {
    async connect(domain) {
      const literal = /^\[(?:ipv6:)?([0-9a-f:.]+)\]$/i.exec(domain)?.[1];
      if (literal !== undefined && isIP(literal) !== 0 && !allowed(literal)) {
        return {
          ok: false,
          result: { kind: 'forbidden-destination', text: `${literal} is not a public address` },
        };
      }
      const blocked: string[] = [];
      const filterAddresses = (addresses: string[]): string[] => {
        const kept = addresses.filter(allowed);
        blocked.push(...addresses.filter((address) => !allowed(address)));
        if (kept.length === 0 && addresses.length > 0)
          throw Object.assign(new Error('only forbidden addresses'), { code: 'ENODATA' });
        return kept;
      };
      try {
        const { default: mxConnect } = await (mxConnectModule ??= import('mx-connect'));
        const connection = await mxConnect({
          target: literal ?? domain,
          port: options.port,
          maxConnectTime: options.connectTimeoutMs,
          localHostname: options.heloName,
          dnsOptions: {
            async resolveRecords(name, type) {
              switch (type) {
                case 'MX':
                  return resolver.resolveMx(name);
                case 'A':
                  return filterAddresses(await resolver.resolve4(name));
                case 'AAAA':
                  return filterAddresses(await resolver.resolve6(name));
                case 'TXT':
                  return resolver.resolveTxt(name);
              }
            },
          },
          connectHook(_delivery, connectOptions, callback) {
            callback(
              allowed(connectOptions.host)
                ? null
                : Object.assign(new Error(`${connectOptions.host} forbidden`), { code: 'EFORBIDDEN' }),
            );
          },
          mtaSts: {
            enabled: options.mtaSts,
            cache: {
              get: (key) => Promise.resolve(policies.get(key)),
              set: (key, policy) => {
                policies.set(key, policy);
                return Promise.resolve();
              },
            },
          },
        });
        const policy = connection.policyMatch;
        return {
          ok: true,
          socket: connection.socket,
          hostname: connection.hostname,
          address: connection.host,
          mtaStsEnforced: policy?.mode === 'enforce' && policy.valid,
        };
      } catch (error) {
        return { ok: false, result: routeFailure(error as MxConnectError, blocked) };
      }
    },
  };
}

function routeFailure(error: MxConnectError, blocked: readonly string[]): AttemptResult {
  const text = error.message.replace(/[\r\n]+/g, ' ');
  if (error.code === 'EFORBIDDEN' || (blocked.length > 0 && error.category !== 'network')) {
    return {
      kind: 'forbidden-destination',
      text: `${[...new Set(blocked)].join(', ') || text} is not a public address`,
    };
  }
  if (error.code === 'ENULLMX' || error.code === 'ENOTFOUND' || error.temporary === false) {
    return { kind: 'dns', permanent: true, text };
  }
  if (error.category === 'network') return { kind: 'network', text };
  if (error.category === 'policy') return { kind: 'tls', text };
  return { kind: 'dns', permanent: false, text };
}
