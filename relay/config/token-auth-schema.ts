// SMTP AUTH with Kubernetes ServiceAccount tokens (the `tokenAuth` section): the issuer, the
// audience the relay accepts, and the issuer's public keys, which the operator fetches from the API
// server's JWKS and renders here (public keys are not secrets; a private member is refused).
import type { JSONSchemaType } from 'ajv';

/** A public JSON Web Key as the API server's /openid/v1/jwks serves it: RSA or EC, never a private part. */
export interface PublicJwk {
  readonly kty: 'RSA' | 'EC';
  readonly kid: string;
  readonly use?: string;
  readonly alg?: string;
  readonly n?: string;
  readonly e?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
}

export interface TokenAuthConfig {
  /** The `iss` the tokens must carry: the cluster's --service-account-issuer. */
  readonly issuer: string;
  /** Tokens must name one of these in `aud`. */
  readonly audiences: readonly string[];
  /** The issuer's public keys (its JWKS). */
  readonly keys: readonly PublicJwk[];
  readonly clockSkewSeconds: number;
  /** The longest validity (exp - iat) accepted: a token is revoked only by its expiry. */
  readonly maxTokenLifetimeSeconds: number;
  /** An unknown key id re-reads the config at most this often (the operator may have new keys). */
  readonly unknownKeyRereadSeconds: number;
}

const base64url = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 4096 } as const;

export const publicJwkSchema: JSONSchemaType<PublicJwk> = {
  type: 'object',
  // No d, p, q, dp, dq, qi: a private key here is refused, not served.
  additionalProperties: false,
  required: ['kty', 'kid'],
  properties: {
    kty: { type: 'string', enum: ['RSA', 'EC'], description: 'RSA or EC' },
    kid: { type: 'string', minLength: 1, maxLength: 256, description: 'the key id tokens name' },
    use: { type: 'string', nullable: true, enum: ['sig'] },
    alg: {
      type: 'string',
      nullable: true,
      enum: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
      description: 'an asymmetric JWS algorithm',
    },
    n: { ...base64url, nullable: true, description: 'RSA modulus (base64url)' },
    e: { ...base64url, nullable: true, description: 'RSA exponent (base64url)' },
    crv: { type: 'string', nullable: true, enum: ['P-256', 'P-384', 'P-521'] },
    x: { ...base64url, nullable: true, description: 'EC x coordinate (base64url)' },
    y: { ...base64url, nullable: true, description: 'EC y coordinate (base64url)' },
  },
};

export const tokenAuthSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audiences', 'keys'],
  description:
    'SMTP AUTH OAUTHBEARER and XOAUTH2 with Kubernetes ServiceAccount tokens, verified offline against these keys; only ever offered over TLS. The identity is system:serviceaccount:<namespace>:<name>.',
  properties: {
    issuer: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'the iss tokens must carry (the API server’s --service-account-issuer)',
    },
    audiences: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, maxLength: 256 },
      description: 'A token must name one of these in aud.',
    },
    keys: {
      type: 'array',
      items: publicJwkSchema,
      description: 'The issuer’s public keys (its JWKS keys); a token signed by another key is refused.',
    },
    clockSkewSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 300,
      default: 30,
      description: 'Leeway on exp, nbf and iat for clocks that disagree.',
    },
    maxTokenLifetimeSeconds: {
      type: 'integer',
      minimum: 600,
      maximum: 86400,
      default: 3600,
      description:
        'The longest validity (exp - iat) a token may have; tokens are revoked only by expiring, so this bounds how long a stolen or orphaned token works.',
    },
    unknownKeyRereadSeconds: {
      type: 'integer',
      minimum: 1,
      default: 30,
      description:
        'A token signed with a key id not in keys makes the relay re-read its configuration, at most once in this many seconds.',
    },
  },
} as const;
