// The whole runtime through startOperator (informers, mapping watches, index, work queue, leader
// election, SSA, status, events, HTTP endpoint) with a tiny real controller: a Widget waits for its
// Secret, is mirrored into an owned ConfigMap, the mirror is restored when deleted, periodic resyncs
// write nothing once converged, and stopping releases the lease.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../../../operator/kube/clock.ts';
import {
  coreResources,
  collectionPath,
  objectPath,
  type KubeObject,
} from '../../../operator/kube/resource.ts';
import type { LeaseSpec } from '../../../operator/kube/lease.ts';
import { startOperator } from '../../../operator/main.ts';
import { metricNames } from '../../../operator/metrics.ts';
import { parseOptions } from '../../../operator/options.ts';
import { silentLog } from '../../../operator/log.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';
import { installWidgetCrd, removeWidgetCrd, widgetResourceIn } from './test-crd.ts';
import { widgetController, type Widget } from './widget-controller.ts';

const { kubeconfigPath } = sharedControlPlane();
const admin = clientFor(kubeconfigPath);
const widgets = widgetResourceIn('controller');
let namespace: Awaited<ReturnType<typeof privateNamespace>>;

before(async () => {
  namespace = await privateNamespace(admin, 'controller');
  await installWidgetCrd(admin, widgets);
});
after(async () => {
  await namespace.remove();
  await removeWidgetCrd(admin, widgets);
});

async function scrape(port: number, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

test('a tiny controller converges, follows owned and referenced objects, and goes quiet', async () => {
  const parsed = parseOptions(
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--namespaces=${namespace.name}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      `--leader-election-namespace=${namespace.name}`,
      '--lease-duration=3',
      '--renew-deadline=2',
      '--retry-period=0.25',
      '--resync-period=1',
    ],
    {},
    'controller-test',
  );
  if (!parsed.ok) assert.fail(parsed.errors.join('\n'));
  const controllerClient = clientFor(kubeconfigPath);
  const operator = await startOperator(
    parsed.options,
    () => [widgetController(widgets, controllerClient, systemClock)],
    silentLog(),
  );
  const ns = namespace.name;
  const widgetPath = objectPath(widgets, { namespace: ns, name: 'w1' });
  const mirrorPath = objectPath(coreResources.configMap, { namespace: ns, name: 'w1-mirror' });
  const readWidget = () => admin.request<Widget>({ verb: 'get', path: widgetPath });
  const ready = async () =>
    (await readWidget()).status?.conditions?.find((condition) => condition.type === 'Ready');
  try {
    assert.equal((await scrape(operator.httpPort, '/healthz')).status, 200);
    await eventually(
      'the caches sync',
      async () => (await scrape(operator.httpPort, '/readyz')).status === 200,
    );

    await admin.request({
      verb: 'create',
      path: collectionPath(widgets, ns),
      body: {
        apiVersion: `${widgets.group}/v1`,
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec: { size: 3, secretName: 'w1-secret' },
      },
    });
    await eventually(
      'Ready=False names the missing Secret',
      async () => (await ready())?.reason === 'SecretMissing',
    );
    assert.match((await ready())?.message ?? '', new RegExp(`Secret ${ns}/w1-secret does not exist`));

    await admin.request({
      verb: 'create',
      path: collectionPath(coreResources.secret, ns),
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'w1-secret' },
        data: { 'tls.crt': 'eA==' },
      },
    });
    await eventually(
      'the Secret, found through the index, makes the widget Ready',
      async () => (await ready())?.status === 'True',
    );
    const mirror = await admin.request<KubeObject & { data?: Record<string, string> }>({
      verb: 'get',
      path: mirrorPath,
    });
    assert.deepEqual(mirror.data, { size: '3', secretKeys: 'tls.crt' });
    assert.equal(mirror.metadata?.ownerReferences?.[0]?.uid, (await readWidget()).metadata?.uid);

    await admin.request({ verb: 'delete', path: mirrorPath });
    await eventually('the deleted mirror is restored through the owner mapping', async () => {
      try {
        await admin.request({ verb: 'get', path: mirrorPath });
        return true;
      } catch {
        return false;
      }
    });

    // Converged: let several 1 s resyncs reconcile the widget and count the controller's writes.
    const before = await scrape(operator.httpPort, '/metrics');
    const reconcilesBefore = metricValue(
      before.text,
      metricNames.reconciles,
      'controller="widget",result="success"',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const writesBefore = controllerClient.writes;
    await eventually('three more reconciles', async () => {
      const now = await scrape(operator.httpPort, '/metrics');
      return (
        metricValue(now.text, metricNames.reconciles, 'controller="widget",result="success"') >=
        reconcilesBefore + 3
      );
    });
    assert.equal(controllerClient.writes, writesBefore, 'no write while nothing changed');

    const metrics = (await scrape(operator.httpPort, '/metrics')).text;
    assert.match(metrics, /mailfleet_operator_leader 1/);
    assert.match(metrics, /mailfleet_operator_api_requests_total\{verb="list",code="200"\} \d+/);
    assert.match(metrics, /mailfleet_operator_workqueue_depth\{controller="widget"\} \d+/);
    assert.match(metrics, /mailfleet_operator_reconcile_duration_seconds_count\{controller="widget"\} \d+/);
  } finally {
    await operator.stop();
  }
  const lease = await admin.request<{ spec?: LeaseSpec }>({
    verb: 'get',
    path: objectPath(coreResources.lease, { namespace: namespace.name, name: 'mailfleet-operator' }),
  });
  assert.equal(lease.spec?.holderIdentity, '', 'the lease is released on stop');
});

test('of two replicas only the leader reconciles; the standby takes over when it stops', async () => {
  const options = (identity: string) => {
    const parsed = parseOptions(
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--namespaces=${namespace.name}`,
        '--http-host=127.0.0.1',
        '--http-port=0',
        `--leader-election-namespace=${namespace.name}`,
        '--leader-election-name=two-replicas',
        `--leader-election-identity=${identity}`,
        '--lease-duration=3',
        '--renew-deadline=2',
        '--retry-period=0.25',
      ],
      {},
      identity,
    );
    if (!parsed.ok) assert.fail(parsed.errors.join('\n'));
    return parsed.options;
  };
  const clients = [clientFor(kubeconfigPath), clientFor(kubeconfigPath)] as const;
  const replicas = await Promise.all(
    clients.map((client, index) =>
      startOperator(
        options(`replica-${index}`),
        () => [widgetController(widgets, client, systemClock)],
        silentLog(),
      ),
    ),
  );
  const ns = namespace.name;
  const createWidget = (name: string) =>
    admin.request({
      verb: 'create',
      path: collectionPath(widgets, ns),
      body: { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name }, spec: { size: 1 } },
    });
  const readyReason = async (name: string) =>
    (await admin.request<Widget>({ verb: 'get', path: objectPath(widgets, { namespace: ns, name }) })).status
      ?.conditions?.[0]?.reason;
  const stopped = new Set<number>();
  try {
    await eventually('one replica runs workers', () =>
      replicas.some((replica) => replica.manager.workersRunning),
    );
    const leaderIndex = replicas.findIndex((replica) => replica.manager.workersRunning);
    const standbyIndex = 1 - leaderIndex;
    const [leader, standby] = [replicas[leaderIndex], replicas[standbyIndex]];
    assert.ok(leader && standby);
    assert.equal(standby.manager.workersRunning, false);
    // The leader may start its workers before the standby's informers have listed everything.
    await eventually('the standby keeps a warm cache', () => standby.manager.synced);
    assert.equal(standby.manager.workersRunning, false, 'a synced standby still runs no workers');

    await createWidget('two-a');
    await eventually(
      'the leader reconciles two-a',
      async () => (await readyReason('two-a')) === 'SecretMissing',
    );
    const standbyWrites = () => clients[standbyIndex]?.writes ?? 0;
    assert.equal(standbyWrites(), 0, 'the standby wrote nothing');

    await leader.stop();
    stopped.add(leaderIndex);
    await eventually('the standby runs workers', () => standby.manager.workersRunning);
    await createWidget('two-b');
    await eventually(
      'the new leader reconciles two-b',
      async () => (await readyReason('two-b')) === 'SecretMissing',
    );
    assert.ok(standbyWrites() > 0, 'the new leader writes');
  } finally {
    await Promise.all(
      replicas.map((replica, index) => (stopped.has(index) ? Promise.resolve() : replica.stop())),
    );
  }
});
