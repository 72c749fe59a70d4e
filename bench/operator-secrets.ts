// `make bench-operator-secrets`: the operator's memory with many Secrets it has no business with
// (case 37). On a private control plane, the operator runs as its own process (operator/main.ts,
// every namespace, one SmtpRelay referencing a users Secret), first with no unrelated Secret, then
// with UNRELATED Secrets of SIZE_KIB each (Helm release Secrets are this kind of size). Measured from
// the operator's own /metrics once its caches have synced and it has settled: resident set size and
// V8 heap used. The figures are printed (they go to the report, not into assertions). Knobs:
// MAILFLEET_SECRETS_UNRELATED (2000), MAILFLEET_SECRETS_SIZE_KIB (100), MAILFLEET_SECRETS_SETTLE_S
// (15), MAILFLEET_OPERATOR_MAIN (the operator entry point to measure, e.g. an older checkout's).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { smtpRelayResource } from '../operator/api/kinds.ts';
import { collectionPath, coreResources, objectPath } from '../operator/kube/resource.ts';
import { freePort, startControlPlane } from '../test/support/control-plane.ts';
import { clientFor } from '../test/integration/operator-kube/support.ts';

const unrelated = Number(process.env['MAILFLEET_SECRETS_UNRELATED'] ?? 2000);
const sizeKib = Number(process.env['MAILFLEET_SECRETS_SIZE_KIB'] ?? 100);
const settleSeconds = Number(process.env['MAILFLEET_SECRETS_SETTLE_S'] ?? 15);
const operatorMain = resolve(
  process.env['MAILFLEET_OPERATOR_MAIN'] ?? resolve(import.meta.dirname, '../operator/main.ts'),
);
const namespace = 'secrets-bench';

interface Memory {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  if (line === undefined) throw new Error(`the operator's /metrics has no ${name}`);
  return Number(line.split(' ')[1]);
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
}

/** Runs the operator until it is ready and settled, and returns its memory then. */
async function measureOperator(kubeconfigPath: string): Promise<Memory> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      operatorMain,
      `--kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--http-host=127.0.0.1',
      `--http-port=${port}`,
      '--relay-image=relay:bench',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await until('the operator is ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
    await sleep(settleSeconds * 1000);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return {
      rssMiB: mib(metricValue(text, 'mailfleet_operator_process_resident_memory_bytes')),
      heapUsedMiB: mib(metricValue(text, 'mailfleet_operator_nodejs_heap_size_used_bytes')),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
}

const controlPlane = await startControlPlane();
const admin = clientFor(controlPlane.kubeconfigPath);
try {
  await admin.request({
    verb: 'create',
    path: collectionPath(coreResources.namespace),
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  await admin.request({
    verb: 'create',
    path: collectionPath(coreResources.secret, namespace),
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'relay-users' }, stringData: { users: '' } },
  });
  await admin.request({
    verb: 'apply',
    path: objectPath(smtpRelayResource, { namespace, name: 'bench' }),
    query: { fieldManager: 'bench', force: 'true' },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: 'mailfleet.dev/v1alpha1',
      kind: 'SmtpRelay',
      metadata: { name: 'bench', namespace },
      spec: {
        listeners: [{ name: 'submission', port: 587 }],
        tls: { secretRef: { name: 'relay-tls' } },
        auth: { usersSecretRef: { name: 'relay-users' } },
      },
    },
  });
  const without = await measureOperator(controlPlane.kubeconfigPath);

  const payload = Buffer.alloc(sizeKib * 1024, 'x').toString('base64');
  for (let start = 0; start < unrelated; start += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, unrelated - start) }, (_, offset) =>
        admin.request({
          verb: 'create',
          path: collectionPath(coreResources.secret, namespace),
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: `unrelated-${String(start + offset)}` },
            data: { release: payload },
          },
        }),
      ),
    );
  }
  const withUnrelated = await measureOperator(controlPlane.kubeconfigPath);

  const row = (label: string, memory: Memory) =>
    `| ${label} | ${String(memory.rssMiB)} | ${String(memory.heapUsedMiB)} |`;
  process.stdout.write(
    [
      `operator: ${operatorMain}`,
      '| Secrets in the cluster | RSS (MiB) | V8 heap used (MiB) |',
      '| --- | --- | --- |',
      row('none unrelated', without),
      row(`${String(unrelated)} unrelated × ${String(sizeKib)} KiB`, withUnrelated),
      '',
    ].join('\n'),
  );
} finally {
  await controlPlane.stop();
}
