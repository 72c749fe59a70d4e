// Leader election against the real apiserver: of two candidates exactly one leads; a leader that
// stops releases the lease and the standby takes over at once; a leader that is killed (no
// release) is replaced once the lease expires. Hand-over times are reported, not asserted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { systemClock } from '../../../operator/kube/clock.ts';
import { LeaderElector } from '../../../operator/kube/leader.ts';
import { coreResources, objectPath } from '../../../operator/kube/resource.ts';
import type { LeaseSpec } from '../../../operator/kube/lease.ts';
import { silentLog } from '../../../operator/log.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { electionTimings } from './election-timings.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';

const { kubeconfigPath } = sharedControlPlane();
const admin = clientFor(kubeconfigPath);
let namespace: Awaited<ReturnType<typeof privateNamespace>>;

before(async () => {
  namespace = await privateNamespace(admin, 'leader');
});
after(async () => {
  await namespace.remove();
});

function candidate(lease: string, identity: string) {
  const state = { leading: false, terms: 0 };
  const elector = new LeaderElector({
    client: clientFor(kubeconfigPath),
    clock: systemClock,
    log: silentLog(),
    namespace: namespace.name,
    name: lease,
    identity,
    ...electionTimings,
    onStartedLeading: () => {
      state.leading = true;
      state.terms += 1;
    },
    onStoppedLeading: () => {
      state.leading = false;
    },
  });
  return { elector, state };
}

async function leaseHolder(lease: string): Promise<string | undefined> {
  const object = await admin.request<{ spec?: LeaseSpec }>({
    verb: 'get',
    path: objectPath(coreResources.lease, { namespace: namespace.name, name: lease }),
  });
  return object.spec?.holderIdentity;
}

test('one of two candidates leads; a stopping leader releases and the standby takes over', async (t) => {
  const a = candidate('stop', 'replica-a');
  const b = candidate('stop', 'replica-b');
  a.elector.start();
  b.elector.start();
  try {
    await eventually('someone leads', () => a.state.leading || b.state.leading);
    // Several retry periods with both campaigning: still exactly one leader.
    for (let round = 0; round < 8; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, electionTimings.retryPeriodMs));
      assert.equal(
        Number(a.state.leading) + Number(b.state.leading),
        1,
        `round ${round}: exactly one leader`,
      );
    }
    const [leader, standby] = a.state.leading ? [a, b] : [b, a];
    assert.equal(await leaseHolder('stop'), leader === a ? 'replica-a' : 'replica-b');

    const stoppedAt = Date.now();
    await leader.elector.stop();
    assert.equal(leader.state.leading, false);
    await eventually('the standby leads', () => standby.state.leading);
    t.diagnostic(`hand-over after a release: ${Date.now() - stoppedAt} ms`);
    assert.equal(await leaseHolder('stop'), standby === a ? 'replica-a' : 'replica-b');
  } finally {
    await a.elector.stop();
    await b.elector.stop();
  }
});

test('a killed leader is replaced once its lease expires', async (t) => {
  const child = spawn(
    process.execPath,
    [
      new URL('./elector-process.ts', import.meta.url).pathname,
      kubeconfigPath,
      namespace.name,
      'kill',
      'doomed',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const standby = candidate('kill', 'survivor');
  try {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually('the child process leads', () => output.includes('leading'));
    standby.elector.start();
    await new Promise((resolve) => setTimeout(resolve, electionTimings.leaseDurationMs / 2));
    assert.equal(standby.state.leading, false, 'the standby waits while the leader renews');

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    await eventually('the standby leads', () => standby.state.leading, 4 * electionTimings.leaseDurationMs);
    t.diagnostic(
      `hand-over after SIGKILL: ${Date.now() - killedAt} ms (lease duration ${electionTimings.leaseDurationMs} ms)`,
    );
    assert.equal(await leaseHolder('kill'), 'survivor');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await standby.elector.stop();
  }
});
