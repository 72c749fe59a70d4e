// Real node: deleting an SmtpRelay keeps the promise of its 250s. Relays of their own (not the shared
// fleet) with a Persistent queue, whose next hop is a Service that selects nothing until the test
// points it at the sink, so accepted mail stays queued:
//  - the deletion waits: the relay stays (finalizer), its pods are retired (421 4.3.2 on their own
//    address, not ready), status.deletion counts what they hold; once the next hop is back every
//    message is delivered once, the relay goes, and its PVCs go with it (whenDeleted: Delete);
//  - the bound (queue.deletionDrainTimeout) passes with mail held: the relay goes, the PVCs holding
//    mail are kept and a Warning Event names them; a relay created again under the same name takes
//    them back and delivers what they held;
//  - a scale to 0 with mail held and no peer to take it: the PVCs of the pods scaled away are reported
//    in status.scaledDownQueues, drained by Jobs once the next hop is back, then deleted (whenScaled:
//    Delete);
//  - the negative control: the operator started with the test-only switch that drops the finalizer
//    (MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN=1), the same deletion goes at once and the mail the
//    pods held is never delivered, which the test must catch;
//  - deleting the namespace of a relay that holds mail: the finalizer does not hold the namespace in
//    Terminating (what the pods held is lost, as docs/reliability.md says).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podCidr } from '../node/layout.ts';
import {
  applyObjects,
  countDelivered,
  operatorNamespace,
  operatorSelector,
  release,
  restrictedNamespace,
  swaks,
  waitAllDelivered,
  waitPodsReady,
} from '../node/mail-fleet.ts';
import { fleet } from '../node/fleet.ts';
import { pods } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const { namespace } = fleet;
const hop = 'retire-hop';

function retiringRelay(
  name: string,
  deletionDrainTimeout: string,
  whenScaled = 'Retain',
  relayNamespace: string = namespace,
): unknown {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name, namespace: relayNamespace },
    spec: {
      replicas: 2,
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      clientNetworks: [podCidr],
      delivery: {
        mode: 'Smarthost',
        smarthost: { host: `${hop}.${namespace}.svc.cluster.local`, port: 2525, tls: 'None' },
        retrySchedule: ['5s', '10s', '30s'],
      },
      queue: {
        storage: 'Persistent',
        size: '64Mi',
        drainTimeout: '5s',
        deletionDrainTimeout,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled },
      },
    },
  };
}

/** The next hop's Service: selecting nothing (deliveries refused, deferred) or the sink pod. */
async function hopSelects(app: 'nowhere' | 'sink'): Promise<void> {
  await applyObjects(cluster, [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: hop, namespace },
      spec: { selector: { app }, ports: [{ name: 'smtp', port: 2525, targetPort: 2525 }] },
    },
  ]);
}

interface RelayView {
  metadata: { finalizers?: string[]; deletionTimestamp?: string };
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    deletion?: { heldMessages?: number; podsHoldingMail?: string[]; deadline?: string };
    scaledDownQueues?: { claim: string; state: string; message?: string }[];
  };
}

async function relayView(name: string): Promise<RelayView | undefined> {
  try {
    return JSON.parse(
      await kubectl(cluster, ['-n', namespace, 'get', 'smtprelay', name, '-o', 'json']),
    ) as RelayView;
  } catch (error) {
    if (String(error).includes('NotFound')) return undefined;
    throw error;
  }
}

const claimsOf = async (name: string) =>
  (await kubectl(cluster, ['-n', namespace, 'get', 'pvc', '-o', 'name']))
    .split('\n')
    .filter((line) => new RegExp(`^persistentvolumeclaim/queue-${name}-\\d+$`).test(line))
    .map((line) => line.replace('persistentvolumeclaim/', ''))
    .sort();

/** The relay's queue PVCs that are not being deleted. */
async function liveClaimsOf(name: string): Promise<string[]> {
  const out = await kubectl(cluster, [
    ...['-n', namespace, 'get', 'pvc', '-o'],
    'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}',
  ]);
  return out
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(
      ([claim, deleting]) =>
        claim !== undefined && new RegExp(`^queue-${name}-\\d+$`).test(claim) && !deleting,
    )
    .map(([claim]) => claim ?? '')
    .sort();
}

async function eventsOf(name: string, reason: string): Promise<string[]> {
  const out = await kubectl(cluster, [
    ...['-n', namespace, 'get', 'events', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'],
    `--field-selector=involvedObject.name=${name},reason=${reason}`,
  ]);
  return out.split('\n').filter(Boolean);
}

/** Sends `count` messages through the relay's Service, each with the sequence header `<runId>-<n>`. */
async function sendThrough(name: string, runId: string, count: number): Promise<number[]> {
  const accepted: number[] = [];
  for (let n = 1; n <= count; n++) {
    const sent = await swaks(cluster, namespace, 'client-trusted', [
      ...['--server', `${name}.${namespace}.svc.cluster.local:25`, '--from', 'app@demo.example'],
      ...['--to', `retire-${n}@dest.example`, '--header', `X-E2e-Seq: ${runId}-${n}`],
    ]);
    assert.ok(sent.ok, sent.output);
    accepted.push(n);
  }
  return accepted;
}

async function createHoldingMail(
  name: string,
  deletionDrainTimeout: string,
  runId: string,
  whenScaled = 'Retain',
  guarded = true,
): Promise<number[]> {
  await hopSelects('nowhere');
  await applyObjects(cluster, [retiringRelay(name, deletionDrainTimeout, whenScaled)]);
  await waitPodsReady(cluster, namespace, `app.kubernetes.io/instance=${name}`, 2);
  if (guarded) {
    await eventually('the relay carries the drain finalizer', async () =>
      ((await relayView(name))?.metadata.finalizers ?? []).includes('mailfleet.dev/drain-queue'),
    );
  }
  await eventually(
    'the relay Service answers',
    async () =>
      (
        await swaks(cluster, namespace, 'client-trusted', [
          ...['--server', `${name}.${namespace}.svc.cluster.local:25`, '--quit-after', 'BANNER'],
        ])
      ).ok,
  );
  const accepted = await sendThrough(name, runId, 6);
  await topUpEmptyPods(name, runId, accepted);
  return accepted;
}

/** How many messages a relay pod holds now, from its queue CLI (`kubectl exec`, as the docs use it). */
async function heldBy(pod: string): Promise<number> {
  const output = await kubectl(cluster, [
    ...['-n', namespace, 'exec', pod, '--', 'mailfleet-relay', 'queue', 'list'],
  ]);
  return (JSON.parse(output) as { messages: unknown[] }).messages.length;
}

/**
 * kube-proxy spreads the Service's connections at random, so all six messages land on one pod
 * about one run in 32, and the tests here expect mail in both queues (a clean-clone run once saw
 * only one PVC reported after the scale to 0): a pod that holds none is sent one more, to its own
 * address. `accepted` grows by what is sent.
 */
async function topUpEmptyPods(name: string, runId: string, accepted: number[]): Promise<void> {
  const relayPods = await pods(
    cluster,
    namespace,
    `app.kubernetes.io/name=mailfleet-relay,app.kubernetes.io/instance=${name}`,
  );
  assert.equal(relayPods.length, 2, 'both relay pods are up');
  for (const pod of relayPods) {
    if ((await heldBy(pod.metadata.name)) > 0) continue;
    const n = accepted.length + 1;
    const sent = await swaks(cluster, namespace, 'client-trusted', [
      ...['--server', `${pod.status.podIP ?? ''}:2525`, '--from', 'app@demo.example'],
      ...['--to', `retire-${n}@dest.example`, '--header', `X-E2e-Seq: ${runId}-${n}`],
    ]);
    assert.ok(sent.ok, sent.output);
    accepted.push(n);
    console.log(`${pod.metadata.name} held no mail after six through the Service: sent it message ${n}`);
  }
}

test('real node: a deleted SmtpRelay waits for its pods to deliver what they hold, then goes with its PVCs', async () => {
  const name = 'retire';
  const runId = `retire-${Date.now()}`;
  const accepted = await createHoldingMail(name, '10m', runId);
  const claims = await claimsOf(name);
  assert.deepEqual(claims, [`queue-${name}-0`, `queue-${name}-1`]);
  await kubectl(cluster, ['-n', namespace, 'delete', 'smtprelay', name, '--wait=false']);

  let view: RelayView | undefined;
  await eventually(
    'status.deletion counts the six messages held, Ready=False Deleting',
    async () => {
      view = await relayView(name);
      const ready = view?.status?.conditions?.find((c) => c.type === 'Ready');
      return view?.status?.deletion?.heldMessages === accepted.length && ready?.reason === 'Deleting';
    },
    180_000,
  );
  assert.ok(view?.metadata.deletionTimestamp, 'the relay is being deleted');
  assert.ok((view.status?.deletion?.podsHoldingMail ?? []).length > 0);
  // Retired pods: out of their Service (not ready), and a client reaching one directly is told to go away.
  await eventually('both relay pods are retired: not ready', async () =>
    (await pods(cluster, namespace, `app.kubernetes.io/instance=${name}`)).every(
      (pod) => !(pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ),
  );
  const [first] = await pods(cluster, namespace, `app.kubernetes.io/instance=${name}`);
  const refused = await swaks(cluster, namespace, 'client-trusted', [
    ...[
      '--server',
      `${first?.status.podIP ?? ''}:2525`,
      '--from',
      'app@demo.example',
      '--to',
      'late@dest.example',
    ],
  ]);
  assert.ok(!refused.ok, 'a retired pod takes no new mail');
  assert.match(refused.output, /421 4\.3\.2 /);
  assert.equal(
    (await countDelivered(cluster, namespace, runId, accepted)).delivered,
    0,
    'nothing delivered yet',
  );
  assert.ok(await relayView(name), 'the relay is still there while its pods hold mail');

  await hopSelects('sink');
  const count = await waitAllDelivered(cluster, namespace, runId, accepted);
  assert.deepEqual(count.missing, []);
  assert.equal(count.duplicates, 0);
  await eventually('the SmtpRelay is gone', async () => (await relayView(name)) === undefined, 120_000);
  await eventually(
    'its PVCs are deleted (whenDeleted: Delete, read empty)',
    async () => (await claimsOf(name)).length === 0,
  );
  const drained = await eventsOf(name, 'Drained');
  assert.ok(
    drained.some((message) => message.includes('every relay pod delivered what it held')),
    drained.join('; '),
  );
  console.log(`deletion: ${accepted.length} held, ${count.delivered} delivered once, relay and PVCs gone`);
});

/**
 * Sets (or, with undefined, removes) an environment variable of the operator and waits for the roll,
 * and then for the old pods to be gone: `rollout status` returns once the new pod is available,
 * while an old one may still be terminating, and reconciling, with the old setting (a clean-clone
 * run saw it put the drain finalizer on a relay the switched-off operator was meant to create).
 */
async function operatorEnv(name: string, value: string | undefined): Promise<void> {
  const assignment = value === undefined ? `${name}-` : `${name}=${value}`;
  await kubectl(cluster, ['-n', operatorNamespace, 'set', 'env', `deployment/${release}`, assignment]);
  await kubectl(cluster, [
    ...['-n', operatorNamespace, 'rollout', 'status', `deployment/${release}`, '--timeout=180s'],
  ]);
  await eventually(
    `only operator pods with ${assignment} are left`,
    async () => {
      const operators = await pods(cluster, operatorNamespace, operatorSelector);
      return (
        operators.length > 0 &&
        operators.every(
          (pod) =>
            pod.metadata.deletionTimestamp === undefined &&
            pod.spec.containers.some(
              (container) => container.env?.find((env) => env.name === name)?.value === value,
            ),
        )
      );
    },
    120_000,
  );
}

test('real node, negative control: with the drain finalizer switched off (test-only), the same deletion loses the mail', async () => {
  const name = 'unguarded';
  const runId = `unguarded-${Date.now()}`;
  await operatorEnv('MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN', '1');
  try {
    const accepted = await createHoldingMail(name, '10m', runId, 'Retain', false);
    assert.deepEqual((await relayView(name))?.metadata.finalizers ?? [], [], 'no drain finalizer');
    await kubectl(cluster, ['-n', namespace, 'delete', 'smtprelay', name, '--wait=false']);
    await eventually(
      'the SmtpRelay is gone at once',
      async () => (await relayView(name)) === undefined,
      30_000,
    );
    await eventually(
      'its pods are gone, with their queues on the PVCs',
      async () => (await pods(cluster, namespace, `app.kubernetes.io/instance=${name}`)).length === 0,
      120_000,
    );
    // The next hop is back, as in the guarded test: there, every message arrived; here nothing will.
    await hopSelects('sink');
    const lost = await waitAllDelivered(cluster, namespace, runId, accepted, 45_000).then(
      () => undefined,
      (error: unknown) => String(error),
    );
    const count = await countDelivered(cluster, namespace, runId, accepted);
    assert.ok(lost !== undefined, 'without the finalizer the test must catch undelivered mail');
    assert.ok(count.missing.length > 0, `accepted messages never delivered: ${count.missing.join(', ')}`);
    console.log(
      `negative control: finalizer off, ${count.missing.length} of ${accepted.length} accepted messages never delivered`,
    );
  } finally {
    await operatorEnv('MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN', undefined);
    for (const claim of await claimsOf(name)) {
      await kubectl(cluster, ['-n', namespace, 'delete', 'pvc', claim, '--wait=false']);
    }
  }
});

test('real node: the deletion bound passes with mail held: the PVCs holding it are kept and named, and a new relay of the same name delivers it', async () => {
  const name = 'retire-bound';
  const runId = `bound-${Date.now()}`;
  const accepted = await createHoldingMail(name, '30s', runId);
  const started = Date.now();
  await kubectl(cluster, ['-n', namespace, 'delete', 'smtprelay', name, '--wait=false']);
  await eventually(
    'the SmtpRelay is gone after the bound',
    async () => (await relayView(name)) === undefined,
    180_000,
  );
  const waited = (Date.now() - started) / 1000;
  assert.ok(waited >= 25, `the deletion waited for the bound (${waited.toFixed(1)} s)`);
  const retained = await eventsOf(name, 'MailRetained');
  assert.ok(retained.length > 0, 'a Warning Event says mail was kept');
  await eventually(
    'the old pods are gone',
    async () => (await pods(cluster, namespace, `app.kubernetes.io/instance=${name}`)).length === 0,
  );
  // A PVC the operator read empty is deleted (whenDeleted: Delete), but stays listed until its pod
  // is gone: only those left once nothing uses them are the kept ones.
  let kept: string[] = [];
  await eventually('only the PVCs holding mail are left', async () => {
    kept = await liveClaimsOf(name);
    return kept.length === (await claimsOf(name)).length;
  });
  assert.ok(kept.length > 0, 'the PVCs holding mail are kept despite whenDeleted: Delete');
  for (const claim of kept) assert.match(retained.join('\n'), new RegExp(claim), `the Event names ${claim}`);

  // The same name again: the StatefulSet takes the kept PVCs back, and their mail is delivered.
  await hopSelects('sink');
  await applyObjects(cluster, [retiringRelay(name, '2m')]);
  const count = await waitAllDelivered(cluster, namespace, runId, accepted);
  assert.deepEqual(count.missing, []);
  assert.equal(count.duplicates, 0);
  console.log(
    `deletion bound: ${accepted.length} held after ${waited.toFixed(1)} s, PVCs kept: ${kept.join(', ')}; delivered once after the relay came back`,
  );
  await kubectl(cluster, ['-n', namespace, 'delete', 'smtprelay', name, '--wait=true', '--timeout=180s']);
  await eventually(
    'drained this time: the PVCs go (once their pods are gone)',
    async () => (await claimsOf(name)).length === 0,
  );
});

test('real node: scaled to 0 with mail held: the PVCs left behind are reported, drained by Jobs, then deleted', async () => {
  const name = 'shrink';
  const runId = `shrink-${Date.now()}`;
  const accepted = await createHoldingMail(name, '2m', runId, 'Delete');
  await kubectl(cluster, [
    '-n',
    namespace,
    'patch',
    'smtprelay',
    name,
    '--type=merge',
    '-p',
    '{"spec":{"replicas":0}}',
  ]);
  await eventually(
    "the relay pods are gone (the drain Jobs' pods carry the instance label too, not the name)",
    async () =>
      (
        await pods(
          cluster,
          namespace,
          `app.kubernetes.io/name=mailfleet-relay,app.kubernetes.io/instance=${name}`,
        )
      ).length === 0,
  );
  let reported: string[] = [];
  await eventually('status.scaledDownQueues reports both PVCs', async () => {
    reported = ((await relayView(name))?.status?.scaledDownQueues ?? []).map((q) => `${q.claim}=${q.state}`);
    return reported.length === 2;
  });
  assert.equal(
    (await countDelivered(cluster, namespace, runId, accepted)).delivered,
    0,
    'nothing delivered yet',
  );

  await hopSelects('sink');
  const count = await waitAllDelivered(cluster, namespace, runId, accepted);
  assert.deepEqual(count.missing, []);
  assert.equal(count.duplicates, 0);
  await eventually(
    'the drained PVCs are deleted (whenScaled: Delete) and no longer reported',
    async () =>
      (await claimsOf(name)).length === 0 && (await relayView(name))?.status?.scaledDownQueues === undefined,
  );
  console.log(
    `scale 2 → 0 with ${accepted.length} held: reported ${reported.join(', ')}; delivered once by drain Jobs`,
  );
  await kubectl(cluster, ['-n', namespace, 'delete', 'smtprelay', name, '--wait=true', '--timeout=120s']);
  await eventually(
    'the drain Jobs went with the relay',
    async () =>
      !(await kubectl(cluster, ['-n', namespace, 'get', 'jobs', '-o', 'name'])).includes(`${name}-drain-`),
  );
});

test('real node: deleting the namespace of a relay holding mail is not held up by the finalizer', async () => {
  const gone = 'retire-ns';
  await hopSelects('nowhere');
  await restrictedNamespace(cluster, gone);
  await applyObjects(cluster, [retiringRelay('doomed', '10m', 'Retain', gone)]);
  await waitPodsReady(cluster, gone, 'app.kubernetes.io/instance=doomed', 2);
  const host = `doomed.${gone}.svc.cluster.local:25`;
  await eventually(
    'the relay Service answers',
    async () =>
      (await swaks(cluster, namespace, 'client-trusted', ['--server', host, '--quit-after', 'BANNER'])).ok,
  );
  const sent = await swaks(cluster, namespace, 'client-trusted', [
    ...['--server', host, '--from', 'app@demo.example', '--to', 'doomed@dest.example'],
  ]);
  assert.ok(sent.ok, sent.output);
  const started = Date.now();
  await kubectl(cluster, ['delete', 'namespace', gone, '--wait=true', '--timeout=180s']);
  console.log(
    `namespace with a relay holding mail deleted in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});
