// The CPU one AUTH costs the relay: a ServiceAccount token verified as the relay does it
// (relay/smtp/service-account-token.ts: jose, an RS256 token as the API server signs it, with its
// RSA-2048 key) next to a password checked as the relay does it (relay/smtp/users.ts: bcryptjs,
// at the costs a users file commonly holds). Process CPU time (user + system) per check, on one
// thread, after a warm-up. Run: node hack/bench-token-auth.ts [iterations]
import { cpuUsage } from 'node:process';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import bcrypt from 'bcryptjs';
import type { PublicJwk } from '../relay/config/token-auth-schema.ts';
import { createTokenVerifier } from '../relay/smtp/service-account-token.ts';
import { parseUsersFile, verifyPassword } from '../relay/smtp/users.ts';

const iterations = Number(process.argv[2] ?? '2000');

async function cpuPerCall(label: string, calls: number, once: () => Promise<boolean>): Promise<void> {
  for (let warm = 0; warm < Math.min(50, calls); warm += 1)
    if (!(await once())) throw new Error(`${label} failed`);
  const start = cpuUsage();
  const wall = performance.now();
  for (let call = 0; call < calls; call += 1) if (!(await once())) throw new Error(`${label} failed`);
  const used = cpuUsage(start);
  const cpuMs = (used.user + used.system) / 1000 / calls;
  const wallMs = (performance.now() - wall) / calls;
  process.stdout.write(
    `${label.padEnd(44)} ${cpuMs.toFixed(3).padStart(9)} ms CPU  ${wallMs.toFixed(3).padStart(9)} ms wall  (${calls} calls)\n`,
  );
}

const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' } as PublicJwk;
const issuer = 'https://kubernetes.default.svc.cluster.local';
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({
  iss: issuer,
  aud: ['mailfleet.dev/smtp'],
  sub: 'system:serviceaccount:team-a:mailer',
  iat: now,
  nbf: now,
  exp: now + 3600,
  'kubernetes.io': {
    namespace: 'team-a',
    serviceaccount: { name: 'mailer', uid: '4c1b3d1e-0000-4000-8000-000000000001' },
    pod: { name: 'mailer-6d5f7c9b8-x2x7q', uid: '4c1b3d1e-0000-4000-8000-000000000002' },
    node: { name: 'node-1', uid: '4c1b3d1e-0000-4000-8000-000000000003' },
  },
})
  .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
  .sign(privateKey);
const verifier = createTokenVerifier({
  issuer,
  audiences: ['mailfleet.dev/smtp'],
  keys: [jwk],
  clockSkewSeconds: 30,
  maxTokenLifetimeSeconds: 3600,
  unknownKeyRereadSeconds: 30,
});

process.stdout.write(`node ${process.version}, token of ${token.length} bytes\n`);
await cpuPerCall(
  'ServiceAccount token (RS256, jose)',
  iterations,
  async () => (await verifier.verify(token, Date.now())).ok,
);
for (const cost of [10, 12]) {
  const parsed = parseUsersFile(`app:${bcrypt.hashSync('app-secret', cost)}\n`, 'bench');
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const users = parsed.users;
  await cpuPerCall(
    `password, bcrypt cost ${cost} (bcryptjs)`,
    Math.max(5, Math.floor(iterations / (cost === 10 ? 40 : 160))),
    () => verifyPassword(users, 'app', 'app-secret'),
  );
}
