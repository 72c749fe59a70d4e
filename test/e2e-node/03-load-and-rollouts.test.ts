// Real node: no accepted message lost while the fleet changes under a steady load. The load sends one
// message per connection through the relay Service from a pod in clientNetworks; every message the
// relay answered 250 must reach the sink exactly once (copies are counted by a sequence header).
// Scenarios: scale 3 → 1 under load; a relay pod holding a deferred message on its Persistent queue is
// deleted and the message is delivered once the next hop is back; the relay image rolled to a rebuilt
// tag under load, one pod at a time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildImages, importImages } from '../node/cluster.ts';
import { fleet, patchRelaySpec, relayHost, sendSequenced } from '../node/fleet.ts';
import {
  helmUpgrade,
  localImageValues,
  runLoad,
  waitAllDelivered,
  waitPodsReady,
  countDelivered,
} from '../node/mail-fleet.ts';
import { isReady, pods } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const { namespace, relay } = fleet;
const relaySelector = `app.kubernetes.io/instance=${relay}`;

async function scale(replicas: number): Promise<void> {
  await patchRelaySpec(cluster, { replicas });
}

function report(
  name: string,
  load: { sent: number; accepted: readonly number[]; refused: Record<string, number> },
  delivered: { delivered: number; duplicates: number },
  seconds: number,
): void {
  console.log(
    `${name}: sent ${load.sent}, accepted ${load.accepted.length}, refused ${JSON.stringify(load.refused)}, ` +
      `delivered ${delivered.delivered}, duplicates ${delivered.duplicates}, lost 0, converged in ${seconds.toFixed(1)} s`,
  );
}

test('real node: scale 3 → 1 under a steady load: every accepted message delivered once', async () => {
  await waitPodsReady(cluster, namespace, relaySelector, 3);
  const runId = `scale-${Date.now()}`;
  const loading = runLoad(cluster, namespace, relayHost, runId, 40);
  await sleep(8_000);
  const started = Date.now();
  await scale(1);
  await waitPodsReady(cluster, namespace, relaySelector, 1);
  const converged = (Date.now() - started) / 1000;
  const load = await loading;
  assert.ok(
    load.accepted.length > 50,
    `a steady load: ${JSON.stringify({ ...load, accepted: load.accepted.length })}`,
  );
  const count = await waitAllDelivered(cluster, namespace, runId, load.accepted);
  report('scale 3 → 1', load, count, converged);
  assert.deepEqual(count.missing, []);
  assert.equal(count.duplicates, 0);
  await scale(3);
  await waitPodsReady(cluster, namespace, relaySelector, 3);
});

async function selectSink(app: string): Promise<void> {
  await kubectl(cluster, [
    '-n',
    namespace,
    'patch',
    'service',
    'sink',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { selector: { app } } }),
  ]);
  await eventually(`the sink Service selects app=${app}`, async () => {
    const addresses = await kubectl(cluster, [
      '-n',
      namespace,
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=sink',
      '-o',
      'jsonpath={.items[*].endpoints[*].addresses[*]}',
    ]);
    return app === 'sink' ? addresses.trim() !== '' : addresses.trim() === '';
  });
  // kube-proxy applies the change within its sync period (1 s minimum).
  await sleep(3_000);
}

test('real node: a relay pod holding a deferred message is deleted: the message is delivered after it returns', async (t) => {
  // The next hop goes away (its Service selects nothing): deliveries are refused and deferred.
  await selectSink('nowhere');
  t.after(() => selectSink('sink'));
  const runId = `deferred-${Date.now()}`;
  const sent = await sendSequenced(cluster, runId, 'held@dest.example');
  assert.ok(sent.ok, sent.output);
  let holder = '';
  await eventually(
    'one relay pod lists the message as deferred',
    async () => {
      for (const pod of await pods(cluster, namespace, relaySelector)) {
        const list = await kubectl(cluster, [
          '-n',
          namespace,
          'exec',
          pod.metadata.name,
          '--',
          'mailfleet-relay',
          'queue',
          'list',
          '--status',
          'deferred',
          '--recipient',
          'held@dest.example',
        ]);
        if (list.includes('held@dest.example')) holder = pod.metadata.name;
      }
      return holder !== '';
    },
    60_000,
  );
  const [before] = (await pods(cluster, namespace, relaySelector)).filter((p) => p.metadata.name === holder);
  await kubectl(cluster, ['-n', namespace, 'delete', 'pod', holder, '--wait=true']);
  await eventually(
    `${holder} is back and Ready`,
    async () => {
      const [after] = (await pods(cluster, namespace, relaySelector)).filter(
        (p) => p.metadata.name === holder,
      );
      return after !== undefined && after.metadata.uid !== before?.metadata.uid && isReady(after);
    },
    180_000,
  );
  await selectSink('sink');
  const count = await waitAllDelivered(cluster, namespace, runId, [1], 120_000);
  console.log(
    `deferred message held by ${holder}: delivered ${count.delivered}, duplicates ${count.duplicates} after the pod returned`,
  );
  assert.equal(count.duplicates, 0);
});

test('real node: the relay image rolled to a rebuilt tag under load: one pod at a time, no mail lost', async () => {
  const rebuilt = await buildImages({ MAILFLEET_IMAGE_TAG: 'e2e-2', MAILFLEET_IMAGE_VERSION: 'e2e-2' });
  await importImages(rebuilt.dir, rebuilt.images);
  assert.notEqual(rebuilt.images.RELAY_IMAGE, cluster.images.RELAY_IMAGE);
  await waitPodsReady(cluster, namespace, relaySelector, 3);
  const runId = `roll-${Date.now()}`;
  const loading = runLoad(cluster, namespace, relayHost, runId, 60);
  await sleep(5_000);
  const started = Date.now();
  await helmUpgrade(cluster, localImageValues(rebuilt.images));
  let mostUnready = 0;
  await eventually(
    'every relay pod runs the rebuilt image and is Ready',
    async () => {
      const current = await pods(cluster, namespace, relaySelector);
      mostUnready = Math.max(mostUnready, 3 - current.filter(isReady).length);
      return (
        current.length === 3 &&
        current.every((p) => isReady(p) && p.spec.containers[0]?.image === rebuilt.images.RELAY_IMAGE)
      );
    },
    300_000,
  );
  const converged = (Date.now() - started) / 1000;
  const load = await loading;
  const count = await waitAllDelivered(cluster, namespace, runId, load.accepted);
  report('image roll', load, count, converged);
  console.log(`at most ${mostUnready} relay pod(s) not Ready at once during the roll`);
  assert.ok(mostUnready <= 1, `pods restarted one at a time (at most ${mostUnready} not Ready at once)`);
  assert.deepEqual(count.missing, []);
  assert.equal(count.duplicates, 0);
  assert.ok(
    (await countDelivered(cluster, namespace, runId, load.accepted)).delivered >= load.accepted.length,
  );
});
