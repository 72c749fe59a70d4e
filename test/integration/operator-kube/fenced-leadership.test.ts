// Fenced leadership, judged by the API server's own audit log: two operator processes (the real
// startOperator wiring, each with its own bearer-token user) with a controller that writes every
// 100 ms. The leader is paused with SIGSTOP past its lease, the standby takes over and writes, the
// old leader is continued with SIGCONT: from the standby's first write on (its taking of the
// lease), the audit log holds no write of the old leader's user.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { coreResources, collectionPath, objectPath } from '../../../operator/kube/resource.ts';
import { readAuditLog, type AuditEvent } from '../../support/audit-log.ts';
import { kubeconfigFor, startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { electionTimings } from './election-timings.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';

const processPath = new URL('./beat-operator-process.ts', import.meta.url).pathname;
const identities = ['fencing-a', 'fencing-b'] as const;
let controlPlane: ControlPlane;
let admin: KubeClient;
let ns: string;

before(async () => {
  controlPlane = await startControlPlane({ auditLog: true, extraUsers: identities, crdDir: null });
  admin = clientFor(controlPlane.kubeconfigPath);
  ns = (await privateNamespace(admin, 'fencing')).name;
  const create = (plural: 'roles' | 'rolebindings', body: object) =>
    admin.request({
      verb: 'create',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${plural}`,
      body,
    });
  await create('roles', {
    metadata: { name: 'beat-operator' },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  });
  await create('rolebindings', {
    metadata: { name: 'beat-operator' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'beat-operator' },
    subjects: identities.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
  });
  for (const [name, labels] of [
    ['ticker', { 'mailfleet.dev/beat': 'source' }],
    ['ticker-beat', {}],
  ] as const) {
    await admin.request({
      verb: 'create',
      path: collectionPath(coreResources.configMap, ns),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels } },
    });
  }
});
after(async () => {
  await controlPlane.stop();
});

interface OperatorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  output(): string;
}

async function startOperatorProcess(identity: string): Promise<OperatorProcess> {
  const kubeconfigPath = join(controlPlane.dir, `${identity}.kubeconfig`);
  const token = controlPlane.userTokens[identity] ?? '';
  await writeFile(kubeconfigPath, kubeconfigFor(controlPlane.server, controlPlane.caPath, token), {
    mode: 0o600,
  });
  const child = spawn(
    process.execPath,
    [
      processPath,
      `--kubeconfig=${kubeconfigPath}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      `--namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      `--leader-election-identity=${identity}`,
      `--lease-duration=${electionTimings.leaseDurationMs / 1_000}`,
      `--renew-deadline=${electionTimings.renewDeadlineMs / 1_000}`,
      `--retry-period=${electionTimings.retryPeriodMs / 1_000}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return { child, exited: once(child, 'exit'), output: () => output };
}

async function beatWriter(): Promise<string | undefined> {
  const beat = await admin.request<{ data?: Record<string, string> }>({
    verb: 'get',
    path: objectPath(coreResources.configMap, { namespace: ns, name: 'ticker-beat' }),
  });
  return beat.data?.['writer'];
}

const describe = (event: AuditEvent) =>
  `${event.requestReceivedTimestamp} ${event.user.username} ${event.verb} ${event.requestURI} ${event.responseStatus?.code ?? '?'}`;

test('a leader paused past its lease writes nothing once the new leader has written', async (t) => {
  const [oldIdentity, newIdentity] = identities;
  const old = await startOperatorProcess(oldIdentity);
  let standby: OperatorProcess | undefined;
  try {
    await eventually('the first process leads and writes', async () => (await beatWriter()) === oldIdentity);
    const second = await startOperatorProcess(newIdentity);
    standby = second;
    await eventually('the second process is a synced standby', () =>
      second.output().includes('caches synced'),
    );

    const pausedAt = Date.now();
    old.child.kill('SIGSTOP');
    await eventually(
      'the standby leads and writes',
      async () => (await beatWriter()) === newIdentity,
      20_000,
    );
    t.diagnostic(`hand-over while the leader is paused: ${Date.now() - pausedAt} ms`);
    await sleep(1_000);
    old.child.kill('SIGCONT');
    await eventually('the old leader steps down', () => old.output().includes('stopped leading'));
    // Its work queue's timers and the writes they start have all had their chance by now.
    await sleep(2_000);
    assert.equal(old.child.exitCode, null, 'the old leader kept running');
  } finally {
    old.child.kill('SIGCONT');
    for (const operator of [old, standby]) {
      operator?.child.kill('SIGTERM');
      await operator?.exited;
    }
  }

  const writes = (await readAuditLog(controlPlane.auditLogPath ?? '')).filter((event) =>
    identities.some((identity) => identity === event.user.username),
  );
  const firstOfNew = writes
    .filter((event) => event.user.username === newIdentity)
    .map((event) => event.requestReceivedTimestamp)
    .sort()[0];
  assert.ok(firstOfNew !== undefined, 'the new leader wrote');
  const oldWrites = writes.filter((event) => event.user.username === oldIdentity);
  const before = oldWrites.filter((event) => event.requestReceivedTimestamp < firstOfNew);
  // The old leader's attempt to renew its Lease after the pause is how it learns it lost: the API
  // server refuses it (409, its resourceVersion is stale) and nothing changes. Every other write
  // after the hand-over, and a Lease write that was accepted, is a fence failure.
  const refusedRenewal = (event: AuditEvent) =>
    event.objectRef?.resource === 'leases' && event.responseStatus?.code === 409;
  const late = oldWrites.filter(
    (event) => event.requestReceivedTimestamp >= firstOfNew && !refusedRenewal(event),
  );
  t.diagnostic(`writes of the old leader before the hand-over: ${before.length}, after: ${late.length}`);
  t.diagnostic(`writes refused by its fence: ${old.output().split('write refused').length - 1}`);
  assert.ok(
    before.some((event) => event.objectRef?.resource === 'configmaps'),
    'the old leader did write',
  );
  assert.deepEqual(late.map(describe), [], `no write of ${oldIdentity} after ${firstOfNew}`);
});
