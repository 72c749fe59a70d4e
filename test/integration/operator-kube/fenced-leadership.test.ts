// Fenced leadership, judged by the API server's own audit log: two operator processes (the real
// startOperator wiring) with a controller that writes every 100 ms in one long reconcile, each
// authenticated as the operator's ServiceAccount by a token bound to its own Pod, as the kubelet's
// projected tokens are.
// The leader is paused with SIGSTOP past its lease, the standby takes over and writes, the old
// leader is continued with SIGCONT. From the standby's first write on (its taking of the lease),
// what the audit log holds of the old leader's pod is judged, run by run:
// - as shipped, the operator's own fence (operator/kube/fence.ts) alone: no write the old leader
//   decided after it was continued is accepted (each write names its decision time), and at most
//   one write is accepted late at all: the one in flight at the pause, which no client can stop;
// - with the chart's ValidatingAdmissionPolicy switched on (templates/leader-fence.yaml, rendered
//   by helm and applied here) as well: no write of the old leader accepted after the hand-over;
// - the policy alone (the operator's fence off by its test-only switch): the old leader does send
//   late writes, and the API server refuses every one;
// - the negative control, neither fence: writes decided after the continuation are accepted, which
//   the first two runs would catch.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test, type TestContext } from 'node:test';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { coreResources, collectionPath, objectPath } from '../../../operator/kube/resource.ts';
import { readAuditLog, type AuditEvent } from '../../support/audit-log.ts';
import {
  kubeconfigFor,
  kubeRequest,
  startControlPlane,
  type ControlPlane,
} from '../../support/control-plane.ts';
import { installChartLeaderFence } from '../../support/chart-leader-fence.ts';
import { createServiceAccount, podBoundToken } from '../../support/service-account-tokens.ts';
import { electionTimings } from './election-timings.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';

const processPath = new URL('./beat-operator-process.ts', import.meta.url).pathname;
const serviceAccount = 'beat-operator';
// beat-operator-process's Lease: the operator's default name, in the namespace it is given.
const leaseName = 'mailfleet-operator';
const pods = ['fencing-a', 'fencing-b'] as const;
const podNameKey = 'authentication.kubernetes.io/pod-name';
let controlPlane: ControlPlane;
let admin: KubeClient;

before(async () => {
  controlPlane = await startControlPlane({ auditLog: true, crdDir: null });
  admin = clientFor(controlPlane.kubeconfigPath);
});
after(async () => {
  await controlPlane.stop();
});

interface Fences {
  /** The chart's ValidatingAdmissionPolicy is installed for this namespace's operator. */
  readonly apiServer: boolean;
  /** The operator's own fence (off: MAILFLEET_TEST_ONLY_NO_WRITE_FENCE=1). */
  readonly operator: boolean;
}

interface Stage {
  readonly namespace: string;
  /** Pod name → a kubeconfig authenticating as the ServiceAccount with a token bound to that pod. */
  readonly kubeconfigs: Readonly<Record<string, string>>;
  /** Pod name → its bound token. */
  readonly tokens: Readonly<Record<string, string>>;
}

async function create(path: string, body: object): Promise<unknown> {
  return admin.request({ verb: 'create', path, body });
}

/** The namespace, its ServiceAccount, RBAC, Pods (never scheduled: no node), tokens and ConfigMaps. */
async function stage(fences: Fences): Promise<Stage> {
  const namespace = (await privateNamespace(admin, 'fencing')).name;
  await createServiceAccount(controlPlane, namespace, serviceAccount);
  const rbac = (plural: 'roles' | 'rolebindings', body: object) =>
    create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/${plural}`, body);
  await rbac('roles', {
    metadata: { name: 'beat-operator' },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  });
  await rbac('rolebindings', {
    metadata: { name: 'beat-operator' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'beat-operator' },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  });
  for (const [name, labels] of [
    ['ticker', { 'mailfleet.dev/beat': 'source' }],
    ['ticker-beat', {}],
  ] as const) {
    await create(collectionPath(coreResources.configMap, namespace), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels },
    });
  }
  const kubeconfigs: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const name of pods) {
    const token = await podBoundToken(controlPlane, namespace, serviceAccount, name);
    const path = join(controlPlane.dir, `${namespace}-${name}.kubeconfig`);
    await writeFile(path, kubeconfigFor(controlPlane.server, controlPlane.caPath, token), { mode: 0o600 });
    kubeconfigs[name] = path;
    tokens[name] = token;
  }
  if (fences.apiServer) await installChartLeaderFence(controlPlane, { namespace, serviceAccount, leaseName });
  return { namespace, kubeconfigs, tokens };
}

/** A server dry run of a ConfigMap patch with this token: what admission says of the pod's writes. */
async function dryRunWrite(namespace: string, token: string): Promise<{ status: number; body: string }> {
  return kubeRequest(
    controlPlane,
    'PATCH',
    `${objectPath(coreResources.configMap, { namespace, name: 'ticker-beat' })}?dryRun=All`,
    { token, contentType: 'application/merge-patch+json', body: '{"data":{"probe":"1"}}' },
  );
}

interface OperatorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  output(): string;
}

function startOperatorProcess(at: Stage, pod: string, fences: Fences): OperatorProcess {
  const child = spawn(
    process.execPath,
    [
      processPath,
      `--kubeconfig=${at.kubeconfigs[pod] ?? ''}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      `--namespaces=${at.namespace}`,
      `--leader-election-namespace=${at.namespace}`,
      `--leader-election-identity=${pod}`,
      `--lease-duration=${electionTimings.leaseDurationMs / 1_000}`,
      `--renew-deadline=${electionTimings.renewDeadlineMs / 1_000}`,
      `--retry-period=${electionTimings.retryPeriodMs / 1_000}`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MAILFLEET_TEST_ONLY_NO_WRITE_FENCE: fences.operator ? '0' : '1' },
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return { child, exited: once(child, 'exit'), output: () => output };
}

async function beatWriter(namespace: string): Promise<string | undefined> {
  const beat = await admin.request<{ data?: Record<string, string> }>({
    verb: 'get',
    path: objectPath(coreResources.configMap, { namespace, name: 'ticker-beat' }),
  });
  return beat.data?.['writer'];
}

const podOf = (event: AuditEvent) => event.user.extra?.[podNameKey]?.[0];
/** When the beat controller decided this write (its field manager `beat-<epoch ms>`). */
const decidedAt = (event: AuditEvent) => Number(/fieldManager=beat-(\d+)/.exec(event.requestURI)?.[1] ?? NaN);
const accepted = (event: AuditEvent) => (event.responseStatus?.code ?? 0) < 400;
const describe = (event: AuditEvent) =>
  `${event.requestReceivedTimestamp} ${podOf(event) ?? event.user.username} ${event.verb} ${event.requestURI} ${event.responseStatus?.code ?? '?'}`;

interface HandOver {
  /** The old leader's writes the API server accepted, before the new leader's first write. */
  readonly acceptedBefore: readonly AuditEvent[];
  /** …and from the new leader's first write on: a fence failure. */
  readonly acceptedLate: readonly AuditEvent[];
  /** The old leader's writes from then on that the API server refused. */
  readonly refusedLate: readonly AuditEvent[];
  /** What the old leader logged. */
  readonly oldOutput: string;
  /** When the old leader was continued (SIGCONT), epoch ms. */
  readonly continuedAt: number;
}

/** The pause, hand-over and continuation, then the old leader's writes as the audit log has them. */
async function pausedLeaderHandOver(t: TestContext, fences: Fences): Promise<HandOver> {
  const at = await stage(fences);
  const [oldPod, newPod] = pods;
  const old = startOperatorProcess(at, oldPod, fences);
  const timeline = { continuedAt: Infinity };
  let standby: OperatorProcess | undefined;
  try {
    await eventually(
      'the first process leads and writes',
      async () => (await beatWriter(at.namespace)) === oldPod,
    );
    if (fences.apiServer) {
      // Before the pause, the API server applies the policy: the standby's writes are refused, the
      // leader's admitted.
      await eventually('the API server refuses a write of the standby pod', async () => {
        const refused = await dryRunWrite(at.namespace, at.tokens[newPod] ?? '');
        return refused.status === 403 && refused.body.includes(`pod ${newPod} does not hold Lease`);
      });
      const admitted = await dryRunWrite(at.namespace, at.tokens[oldPod] ?? '');
      assert.equal(admitted.status, 200, `the leader's write is admitted: ${admitted.body}`);
    }
    const second = startOperatorProcess(at, newPod, fences);
    standby = second;
    await eventually('the second process is a synced standby', () =>
      second.output().includes('caches synced'),
    );

    const pausedAt = Date.now();
    old.child.kill('SIGSTOP');
    await eventually(
      'the standby leads and writes',
      async () => (await beatWriter(at.namespace)) === newPod,
      20_000,
    );
    t.diagnostic(`hand-over while the leader is paused: ${Date.now() - pausedAt} ms`);
    await sleep(1_000);
    timeline.continuedAt = Date.now();
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

  const username = `system:serviceaccount:${at.namespace}:${serviceAccount}`;
  // The test's own probes (server dry runs with the pods' tokens) change nothing.
  const writes = (await readAuditLog(controlPlane.auditLogPath ?? '')).filter(
    (event) => event.user.username === username && !event.requestURI.includes('dryRun='),
  );
  const firstOfNew = writes
    .filter((event) => podOf(event) === newPod && accepted(event))
    .map((event) => event.requestReceivedTimestamp)
    .sort()[0];
  assert.ok(firstOfNew !== undefined, 'the new leader wrote');
  // The new leader's writes refused just after it took the lease (the API server's informer of
  // Leases a moment behind): retried by the operator like any other refused write.
  const newRefused = writes.filter((event) => podOf(event) === newPod && !accepted(event));
  t.diagnostic(
    `the new leader's writes refused: ${newRefused.length} (${newRefused.map(describe).join('; ')})`,
  );
  const oldWrites = writes.filter((event) => podOf(event) === oldPod);
  const late = oldWrites.filter((event) => event.requestReceivedTimestamp >= firstOfNew);
  const handOver = {
    acceptedBefore: oldWrites.filter(
      (event) => event.requestReceivedTimestamp < firstOfNew && accepted(event),
    ),
    acceptedLate: late.filter(accepted),
    refusedLate: late.filter((event) => !accepted(event)),
    oldOutput: old.output(),
    continuedAt: timeline.continuedAt,
  };
  t.diagnostic(
    `the old leader's writes accepted before the hand-over: ${handOver.acceptedBefore.length}, ` +
      `accepted after: ${handOver.acceptedLate.length}, refused after: ${handOver.refusedLate.length} ` +
      `(${handOver.refusedLate.map(describe).join('; ')})`,
  );
  t.diagnostic(
    `refusals by either fence the old leader logged: ${old.output().split('this replica does not lead').length - 1}`,
  );
  assert.ok(
    handOver.acceptedBefore.some((event) => event.objectRef?.resource === 'configmaps'),
    'the old leader did write while it led',
  );
  return handOver;
}

test("as shipped (the operator's fence alone): the continued leader sends no write decided after its pause", async (t) => {
  const { acceptedLate, oldOutput, continuedAt } = await pausedLeaderHandOver(t, {
    apiServer: false,
    operator: true,
  });
  // What the operator's fence cannot stop: a write it admitted before the pause that left the
  // process after it (at most the one in flight). Every other write is refused before it is sent.
  const decidedLate = acceptedLate.filter((event) => decidedAt(event) >= continuedAt);
  assert.deepEqual(decidedLate.map(describe), [], 'no write decided after the continuation accepted');
  assert.ok(
    acceptedLate.length <= 1,
    `at most the write in flight: ${acceptedLate.map(describe).join('; ')}`,
  );
  assert.match(oldOutput, /write refused: this replica does not lead/, 'the fence refused the next write');
});

test("with the chart's policy switched on (both fences): no write of the old leader accepted after the hand-over", async (t) => {
  const { acceptedLate } = await pausedLeaderHandOver(t, { apiServer: true, operator: true });
  assert.deepEqual(acceptedLate.map(describe), [], 'no write of the old leader accepted after the hand-over');
});

test("the chart's fence alone refuses every write the continued leader sends (the operator's fence off)", async (t) => {
  const { acceptedLate, refusedLate, oldOutput } = await pausedLeaderHandOver(t, {
    apiServer: true,
    operator: false,
  });
  assert.deepEqual(acceptedLate.map(describe), [], 'no write of the old leader accepted after the hand-over');
  const refusedByPolicy = refusedLate.filter(
    (event) =>
      event.objectRef?.resource === 'configmaps' &&
      event.responseStatus?.code === 403 &&
      (event.responseStatus.message ?? '').includes('write refused by the leader fence'),
  );
  assert.ok(
    refusedByPolicy.length > 0,
    `the old leader sent ConfigMap writes and the policy refused them: ${refusedLate.map(describe).join('; ')}`,
  );
  // The operator takes the API server's refusal for what it is: the lease is lost, not a failure.
  const cutOff = oldOutput
    .split('\n')
    .filter((line) => line.includes('reconcile cut off by the fence'))
    .filter(
      (line) => line.includes('(the API server: ') && line.includes('write refused by the leader fence'),
    );
  assert.ok(
    cutOff.length > 0,
    `the old leader logged the API server's refusal as a fence: ${oldOutput.slice(-2_000)}`,
  );
});

test('negative control: with neither fence the continued leader writes what it decides after the hand-over, and the tests above see it', async (t) => {
  const { acceptedLate, continuedAt } = await pausedLeaderHandOver(t, { apiServer: false, operator: false });
  assert.ok(
    acceptedLate.some(
      (event) => event.objectRef?.resource === 'configmaps' && decidedAt(event) >= continuedAt,
    ),
    'a ConfigMap write of the old leader, decided after its continuation, accepted after the hand-over',
  );
});
