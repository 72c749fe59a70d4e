// Verifies a Kubernetes ServiceAccount token offline with jose: the signature against the issuer's
// public keys from the config, then iss, aud, exp/nbf/iat with the configured skew, the token's
// lifetime (exp - iat) against the configured bound, and the kubernetes.io claims naming the
// account. No network, no clock of its own: the time comes in.
//
// What is NOT checked, because it cannot be offline: whether the ServiceAccount, the pod a token is
// bound to, or the pod's node still exist. The API server's TokenReview would refuse a token of a
// deleted ServiceAccount at once; here it works until it expires, which maxTokenLifetimeSeconds bounds.
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenAuthConfig } from '../config/token-auth-schema.ts';

/** Why a token was refused: the `reason` label of mailfleet_relay_auth_token_failures_total. */
export const tokenFailureReasons = [
  'malformed',
  'unknown_issuer',
  'unknown_key',
  'signature',
  'algorithm',
  'audience',
  'expired',
  'not_yet_valid',
  'lifetime',
  'claims',
] as const;
export type TokenFailureReason = (typeof tokenFailureReasons)[number];

export interface ServiceAccountIdentity {
  /** system:serviceaccount:<namespace>:<name>, the session's user. */
  readonly user: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  /** The pod a pod-bound token names (not checked against the cluster: see the header). */
  readonly pod: string | undefined;
}

export type TokenVerdict =
  | { readonly ok: true; readonly identity: ServiceAccountIdentity }
  | { readonly ok: false; readonly reason: TokenFailureReason; readonly detail: string };

export interface TokenVerifier {
  verify(token: string, nowMs: number): Promise<TokenVerdict>;
}

export const serviceAccountUserPrefix = 'system:serviceaccount:';

/** The asymmetric algorithms the API server signs with; never HS* or none. */
const algorithms = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

export function createTokenVerifier(config: TokenAuthConfig): TokenVerifier {
  const keys = createLocalJWKSet({ keys: config.keys.map((key) => ({ ...key })) });
  const refuse = (reason: TokenFailureReason, detail: string): TokenVerdict => ({
    ok: false,
    reason,
    detail,
  });
  return {
    async verify(token, nowMs) {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch (error) {
        return refuse('malformed', (error as Error).message);
      }
      // Read before the signature only to name the reason: a token of another cluster is
      // unknown_issuer rather than unknown_key. The signature still decides.
      if (unverified.iss !== config.issuer)
        return refuse('unknown_issuer', `iss ${JSON.stringify(unverified.iss ?? null)}`);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: [...config.audiences],
          algorithms,
          clockTolerance: config.clockSkewSeconds,
          currentDate: new Date(nowMs),
          requiredClaims: ['exp', 'iat', 'sub'],
        }));
      } catch (error) {
        return refuse(failureReason(error), (error as Error).message);
      }
      const { exp = 0, iat = 0 } = payload;
      if (exp - iat > config.maxTokenLifetimeSeconds)
        return refuse('lifetime', `valid for ${exp - iat} s, more than ${config.maxTokenLifetimeSeconds} s`);
      if (iat > nowMs / 1000 + config.clockSkewSeconds) return refuse('not_yet_valid', 'iat in the future');
      const identity = serviceAccountOf(payload);
      return identity === undefined
        ? refuse('claims', 'no kubernetes.io ServiceAccount matching sub')
        : { ok: true, identity };
    },
  };
}

function failureReason(error: unknown): TokenFailureReason {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'audience';
    if (error.claim === 'iss') return 'unknown_issuer';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'not_yet_valid';
    return 'claims';
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'signature';
  return 'malformed';
}

interface KubernetesClaims {
  readonly namespace?: unknown;
  readonly serviceaccount?: { readonly name?: unknown; readonly uid?: unknown };
  readonly pod?: { readonly name?: unknown };
}

/** The account named by the kubernetes.io claims, when sub agrees with them. */
function serviceAccountOf(payload: JWTPayload): ServiceAccountIdentity | undefined {
  const claims = payload['kubernetes.io'] as KubernetesClaims | undefined;
  const namespace = claims?.namespace;
  const name = claims?.serviceaccount?.name;
  if (typeof namespace !== 'string' || typeof name !== 'string') return undefined;
  const user = `${serviceAccountUserPrefix}${namespace}:${name}`;
  if (payload.sub !== user) return undefined;
  const uid = claims?.serviceaccount?.uid;
  const pod = claims?.pod?.name;
  return {
    user,
    namespace,
    name,
    uid: typeof uid === 'string' ? uid : undefined,
    pod: typeof pod === 'string' ? pod : undefined,
  };
}
