// The offline ServiceAccount token check, table-driven over tokens signed here with jose (the
// integration test uses tokens the real API server minted). Each refusal has its bounded reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import type { PublicJwk, TokenAuthConfig } from '../../../relay/config/token-auth-schema.ts';
import { createTokenVerifier, type TokenVerdict } from '../../../relay/smtp/service-account-token.ts';

const issuer = 'https://kubernetes.default.svc';
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const nowSeconds = now / 1000;

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const clusterKey = await generateKeyPair('RS256');
const otherKey = await generateKeyPair('RS256');
const publicJwk = { ...(await exportJWK(clusterKey.publicKey)), kid: 'cluster-1', alg: 'RS256', use: 'sig' };

const config: TokenAuthConfig = {
  issuer,
  audiences: ['mailfleet.dev/smtp'],
  keys: [publicJwk as PublicJwk],
  clockSkewSeconds: 30,
  maxTokenLifetimeSeconds: 3600,
  unknownKeyRereadSeconds: 30,
};

/** The claims the API server puts in a pod's token; an override of undefined leaves that claim out. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = {
    iss: issuer,
    aud: ['mailfleet.dev/smtp'],
    sub: 'system:serviceaccount:team-a:mailer',
    iat: nowSeconds - 60,
    nbf: nowSeconds - 60,
    exp: nowSeconds - 60 + 3600,
    'kubernetes.io': {
      namespace: 'team-a',
      serviceaccount: { name: 'mailer', uid: 'uid-1' },
      pod: { name: 'mailer-0', uid: 'uid-2' },
    },
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

async function sign(
  payload: JWTPayload,
  options: { key?: SigningKey; kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'cluster-1' })
    .sign(options.key ?? clusterKey.privateKey);
}

const verifier = createTokenVerifier(config);
const verify = (token: string, at = now): Promise<TokenVerdict> => verifier.verify(token, at);
const reasonOf = (verdict: TokenVerdict): string => (verdict.ok ? 'ok' : verdict.reason);

test('a token of the right issuer, audience and key is the ServiceAccount it names', async () => {
  const verdict = await verify(await sign(claims()));
  assert.deepEqual(verdict, {
    ok: true,
    identity: {
      user: 'system:serviceaccount:team-a:mailer',
      namespace: 'team-a',
      name: 'mailer',
      uid: 'uid-1',
      pod: 'mailer-0',
    },
  });
});

const refusals: { name: string; token: () => Promise<string>; at?: number; reason: string }[] = [
  { name: 'not a JWT', token: () => Promise.resolve('not-a-token'), reason: 'malformed' },
  {
    name: 'another audience',
    token: () => sign(claims({ aud: ['https://kubernetes.default.svc'] })),
    reason: 'audience',
  },
  {
    name: 'another issuer',
    token: () => sign(claims({ iss: 'https://other.example' })),
    reason: 'unknown_issuer',
  },
  {
    name: 'a key id not in the config',
    token: () => sign(claims(), { kid: 'rotated-2' }),
    reason: 'unknown_key',
  },
  {
    name: 'signed by another key under the known key id',
    token: () => sign(claims(), { key: otherKey.privateKey }),
    reason: 'signature',
  },
  { name: 'expired past the skew', token: () => sign(claims()), at: now + 3600_000, reason: 'expired' },
  {
    name: 'not yet valid past the skew',
    token: () => sign(claims({ nbf: nowSeconds + 120 })),
    reason: 'not_yet_valid',
  },
  {
    name: 'valid longer than maxTokenLifetimeSeconds',
    token: () => sign(claims({ exp: nowSeconds - 60 + 7200 })),
    reason: 'lifetime',
  },
  {
    name: 'sub and kubernetes.io disagree',
    token: () => sign(claims({ sub: 'system:serviceaccount:team-b:mailer' })),
    reason: 'claims',
  },
  {
    name: 'no kubernetes.io claims',
    token: () => sign(claims({ 'kubernetes.io': undefined })),
    reason: 'claims',
  },
  { name: 'no exp', token: () => sign(claims({ exp: undefined })), reason: 'claims' },
];

for (const refusal of refusals) {
  test(`refused: ${refusal.name} (${refusal.reason})`, async () => {
    assert.equal(reasonOf(await verify(await refusal.token(), refusal.at)), refusal.reason);
  });
}

test('an HMAC token is refused however its key id reads', async () => {
  const secret = new TextEncoder().encode('a shared secret of thirty-two bytes!');
  const token = await new SignJWT(claims())
    .setProtectedHeader({ alg: 'HS256', kid: 'cluster-1' })
    .sign(secret);
  assert.notEqual(reasonOf(await verify(token)), 'ok');
});

test('the clock skew is allowed on both sides, and no more', async () => {
  const token = await sign(claims());
  const expiresAt = (nowSeconds - 60 + 3600) * 1000;
  assert.equal(reasonOf(await verify(token, expiresAt + 29_000)), 'ok');
  assert.equal(reasonOf(await verify(token, expiresAt + 31_000)), 'expired');
  const early = await sign(claims({ nbf: nowSeconds + 20, iat: nowSeconds + 20, exp: nowSeconds + 600 }));
  assert.equal(reasonOf(await verify(early)), 'ok');
});
