// Case 38 on the operator itself (the chart wiring is in test/integration/chart/operator-rbac.test.ts):
// with --metrics-secure and a mounted certificate, /metrics is served over HTTPS with that
// certificate, to the admin (whom the API server's SubjectAccessReview allows) and not to an
// authenticated user without RBAC (403); the plain HTTP port keeps the probes and no metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLog } from '../../../operator/log.ts';
import { startOperator, type RunningOperator } from '../../../operator/main.ts';
import { parseOptions } from '../../../operator/options.ts';
import { selfSignedCertificate } from '../../../operator/self-signed-certificate.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';

const controlPlane = sharedControlPlane();
const mounted = selfSignedCertificate({
  commonName: 'mounted-metrics-certificate',
  dnsNames: ['localhost'],
  now: new Date(Date.now() - 60_000),
  validityDays: 1,
});
let certDir = '';
let operator: RunningOperator;

before(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'mailfleet-metrics-cert-'));
  await writeFile(join(certDir, 'tls.crt'), mounted.certificatePem);
  await writeFile(join(certDir, 'tls.key'), mounted.privateKeyPem, { mode: 0o600 });
  const parsed = parseOptions(
    [
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--leader-elect=false',
      '--http-host=127.0.0.1',
      '--http-port=0',
      '--metrics-secure=true',
      '--metrics-port=0',
      `--metrics-cert-dir=${certDir}`,
    ],
    {},
    'metrics-https-test',
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  operator = await startOperator(parsed.options, () => [], silentLog());
});

after(async () => {
  await operator.stop();
  await rm(certDir, { recursive: true, force: true });
});

/** GET /metrics trusting only the mounted certificate, for localhost. */
function scrape(token: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: operator.metricsPort,
        path: '/metrics',
        ca: mounted.certificatePem,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    )
      .on('error', reject)
      .end();
  });
}

test('case 38: metrics over HTTPS with the mounted certificate, for authorized callers only', async () => {
  assert.ok(operator.metricsPort !== undefined && operator.metricsPort > 0);
  const admitted = await scrape(controlPlane.adminToken);
  assert.equal(admitted.status, 200);
  assert.match(admitted.body, /^mailfleet_operator_leader /m);

  const unauthenticated = await scrape(undefined);
  assert.equal(unauthenticated.status, 401);
  assert.doesNotMatch(unauthenticated.body, /mailfleet_operator_/);

  const unprivileged = controlPlane.userTokens['mailfleet-unprivileged'];
  assert.ok(unprivileged !== undefined, 'the control plane has an unprivileged user');
  const forbidden = await scrape(unprivileged);
  assert.equal(forbidden.status, 403);
  assert.doesNotMatch(forbidden.body, /mailfleet_operator_/);
});

test('case 38: the plain HTTP port serves the probes and no metrics', async () => {
  const base = `http://127.0.0.1:${String(operator.httpPort)}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/metrics`)).status, 404);
});
