// ServiceAccountIssuer on a fake clock and a scripted client: one read per refresh period, shared
// by concurrent reconciles; only public members pass; a failed read keeps the known keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  discoveryPath,
  jwksPath,
  publicKeys,
  ServiceAccountIssuer,
} from '../../../operator/reconcile/service-account-issuer.ts';
import type { ApiRequest } from '../../../operator/kube/client.ts';
import type { Log } from '../../../operator/log.ts';

const silent = { info: () => undefined, warn: () => undefined } as unknown as Log;
const rsa = { kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'sXch', e: 'AQAB' };

function fixture(answers: (path: string) => unknown) {
  let now = 0;
  const requests: string[] = [];
  const client = {
    request<T>(request: ApiRequest): Promise<T> {
      requests.push(request.path);
      const answer = answers(request.path);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer as T);
    },
  };
  const issuer = new ServiceAccountIssuer({
    client,
    clock: { now: () => now } as never,
    log: silent,
    refreshMs: 60_000,
  });
  return { issuer, requests, advance: (ms: number) => (now += ms) };
}

test('reads discovery and JWKS once per refresh period, concurrent callers sharing the read', async () => {
  const { issuer, requests, advance } = fixture((path) =>
    path === discoveryPath ? { issuer: 'https://kubernetes.default.svc' } : { keys: [rsa] },
  );
  const [a, b] = await Promise.all([issuer.keys(), issuer.keys()]);
  assert.deepEqual(a, { ok: true, value: { issuer: 'https://kubernetes.default.svc', keys: [rsa] } });
  assert.deepEqual(b, a);
  assert.deepEqual(requests, [discoveryPath, jwksPath]);
  advance(59_999);
  await issuer.keys();
  assert.equal(requests.length, 2);
  advance(1);
  await issuer.keys();
  assert.equal(requests.length, 4);
});

test('a failed read keeps the keys known before; with none known it says why', async () => {
  let failing = true;
  const { issuer, advance } = fixture((path) => {
    if (failing) return new Error('403 Forbidden');
    return path === discoveryPath ? { issuer: 'https://i' } : { keys: [rsa] };
  });
  const first = await issuer.keys();
  assert.ok(!first.ok);
  assert.match(
    first.problem,
    /reading \/\.well-known\/openid-configuration and \/openid\/v1\/jwks failed: 403 Forbidden/,
  );
  failing = false;
  advance(60_000);
  assert.ok((await issuer.keys()).ok);
  failing = true;
  advance(60_000);
  assert.deepEqual(await issuer.keys(), { ok: true, value: { issuer: 'https://i', keys: [rsa] } });
});

test('publicKeys passes only RSA and EC public members', () => {
  assert.deepEqual(
    publicKeys({
      keys: [
        { ...rsa, d: 'private', p: 'private', x5c: ['cert'] },
        { kty: 'oct', kid: 'hmac', k: 'secret' },
        { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'xx', y: 'yy' },
        { kty: 'RSA', n: 'no-kid', e: 'AQAB' },
      ],
    }),
    [rsa, { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'xx', y: 'yy' }],
  );
  assert.deepEqual(publicKeys(null), []);
});
