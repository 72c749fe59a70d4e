// Real node: voluntary and involuntary disruptions of the fleet 01 installed. An eviction that would
// break the relay's PodDisruptionBudget is refused by the API server; killing the leading operator's
// process (SIGKILL: it cannot hand its Lease over) lets the standby lead within the lease, and the new
// leader reconciles a change to the SmtpRelay. The standby, or the pod that replaces the killed one,
// takes over once the Lease expires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleet, patchRelaySpec, relayReconciled } from '../node/fleet.ts';
import { operatorLease, operatorNamespace, operatorSelector, waitPodsReady } from '../node/mail-fleet.ts';
import { evict, killContainer } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const { namespace, relay } = fleet;
const relaySelector = `app.kubernetes.io/instance=${relay}`;

test('real node: an eviction that would break the relay PodDisruptionBudget is refused', async () => {
  await waitPodsReady(cluster, namespace, relaySelector, fleet.replicas);
  await eventually('the PDB allows one disruption', async () => {
    const allowed = await kubectl(cluster, [
      '-n',
      namespace,
      'get',
      'pdb',
      relay,
      '-o',
      'jsonpath={.status.disruptionsAllowed}',
    ]);
    return allowed === '1';
  });
  const first = await evict(cluster, namespace, `${relay}-2`);
  assert.ok(first.ok, `the first eviction is allowed: ${first.message}`);
  const second = await evict(cluster, namespace, `${relay}-1`);
  assert.ok(!second.ok, 'the second eviction is refused');
  assert.match(second.message, /disruption budget/);
  await waitPodsReady(cluster, namespace, relaySelector, fleet.replicas);
});

test('real node: the leading operator killed: the standby leads within the lease and the fleet converges', async () => {
  const holder = () => operatorLease(cluster, '{.spec.holderIdentity}');
  const leader = await holder();
  assert.ok(leader, 'a leader holds the Lease');
  const leaseSeconds = Number(await operatorLease(cluster, '{.spec.leaseDurationSeconds}'));
  const killed = Date.now();
  // SIGKILL, so it cannot hand the Lease over; the pod object goes too, so the kubelet does not restart
  // the process under the same identity (which would simply resume leading).
  await killContainer(cluster, operatorNamespace, leader);
  await kubectl(cluster, [
    '-n',
    operatorNamespace,
    'delete',
    'pod',
    leader,
    '--grace-period=0',
    '--force',
    '--wait=false',
  ]);
  let newLeader = '';
  await eventually(
    'the standby takes the Lease',
    async () => {
      newLeader = await holder();
      return newLeader !== '' && newLeader !== leader;
    },
    (leaseSeconds + 30) * 1000,
  );
  const takeover = (Date.now() - killed) / 1000;
  console.log(
    `leader ${leader} killed; ${newLeader} leads after ${takeover.toFixed(1)} s (lease ${leaseSeconds} s)`,
  );
  assert.ok(takeover < leaseSeconds + 10, `takeover in ${takeover.toFixed(1)} s`);

  // The new leader reconciles: a spec change reaches the relay's ConfigMap and status.
  await patchRelaySpec(cluster, { delivery: { retrySchedule: ['5s', '15s', '30s'] } });
  await eventually('status.observedGeneration reaches the new generation', () => relayReconciled(cluster));
  console.log(`fleet converged ${((Date.now() - killed) / 1000).toFixed(1)} s after the kill`);
  await waitPodsReady(cluster, operatorNamespace, operatorSelector, 2);
});
