// What a reload swaps: the validated config with everything compiled from it and from the files it
// references. Sessions read the current settings at each hook, so a reload applies to the next
// command without dropping a connection.
import type { SecureContext } from 'node:tls';
import type { RelayConfig, TlsMinVersion, TokenBucketConfig } from '../config/types.ts';
import { compileNetworks, type NetworkList } from './networks.ts';
import { TokenBuckets } from './rate-limit.ts';
import { createTokenVerifier, type TokenVerifier } from './service-account-token.ts';
import type { UserTable } from './users.ts';

export interface TlsContexts {
  /**
   * The default certificate as PEM, which smtp-server takes as its own default context, with the
   * TLS profile (config/tls-profile.ts): the lowest accepted version (smtp-server's own default
   * would be TLSv1), the TLS 1.2 suites and no renegotiation. The SNI contexts carry the same.
   */
  readonly defaultPem: {
    readonly key: string;
    readonly cert: string;
    readonly minVersion: TlsMinVersion;
    readonly ciphers: string;
    readonly secureOptions: number;
  };
  readonly byServerName: ReadonlyMap<string, SecureContext>;
  /** notAfter of each configured certificate (the first of its chain), epoch seconds, in config order. */
  readonly expiresAt: readonly number[];
}

export interface RateLimiters {
  readonly perClientIp?: TokenBuckets;
  readonly perUser?: TokenBuckets;
  readonly perSenderDomain?: TokenBuckets;
  /** Per namespace of the sending ServiceAccount (policy.rateLimits.perNamespace). */
  readonly perNamespace?: TokenBuckets;
  /** AUTH failures per client address (auth.failuresPerClientIp), see auth-throttle.ts. */
  readonly authFailuresPerIp: TokenBuckets;
  /** AUTH failures per (client address, user) (auth.failuresPerUser): never per user alone (case 29). */
  readonly authFailuresPerIpUser: TokenBuckets;
}

export interface LiveSettings {
  readonly config: RelayConfig;
  readonly users: UserTable;
  /** Verifies ServiceAccount tokens against tokenAuth's keys; undefined without tokenAuth. */
  readonly tokenVerifier: TokenVerifier | undefined;
  readonly allowedNetworks: NetworkList;
  readonly tls: TlsContexts | undefined;
  readonly limiters: RateLimiters;
}

const defaultAuthBucket: TokenBucketConfig = { perMinute: 10, burst: 10 };

export function buildLiveSettings(
  config: RelayConfig,
  users: UserTable,
  tls: TlsContexts | undefined,
  previous: LiveSettings | undefined,
): LiveSettings {
  return {
    config,
    users,
    tls,
    tokenVerifier: config.tokenAuth ? createTokenVerifier(config.tokenAuth) : undefined,
    allowedNetworks: compileNetworks(config.policy.allowedNetworks),
    limiters: carryLimiters(config, previous),
  };
}

/** Keeps bucket state across a reload when that bucket's configuration did not change. */
function carryLimiters(config: RelayConfig, previous: LiveSettings | undefined): RateLimiters {
  const old = previous?.config;
  const pick = (
    next: TokenBucketConfig | undefined,
    before: TokenBucketConfig | undefined,
    existing: TokenBuckets | undefined,
  ): TokenBuckets | undefined => {
    if (!next) return undefined;
    return existing && JSON.stringify(next) === JSON.stringify(before) ? existing : new TokenBuckets(next);
  };
  const rate = config.policy.rateLimits;
  const oldRate = old?.policy.rateLimits;
  const authIp = config.auth?.failuresPerClientIp ?? defaultAuthBucket;
  const authUser = config.auth?.failuresPerUser ?? defaultAuthBucket;
  const limiters = previous?.limiters;
  const optional = (
    key: 'perClientIp' | 'perUser' | 'perSenderDomain' | 'perNamespace',
  ): Partial<RateLimiters> => {
    const buckets = pick(rate[key], oldRate?.[key], limiters?.[key]);
    return buckets ? { [key]: buckets } : {};
  };
  return {
    ...optional('perClientIp'),
    ...optional('perUser'),
    ...optional('perSenderDomain'),
    ...optional('perNamespace'),
    authFailuresPerIp:
      pick(authIp, old?.auth?.failuresPerClientIp ?? defaultAuthBucket, limiters?.authFailuresPerIp) ??
      new TokenBuckets(authIp),
    authFailuresPerIpUser:
      pick(authUser, old?.auth?.failuresPerUser ?? defaultAuthBucket, limiters?.authFailuresPerIpUser) ??
      new TokenBuckets(authUser),
  };
}
