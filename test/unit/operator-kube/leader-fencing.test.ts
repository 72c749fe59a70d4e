// Fenced leadership on the fake clock: the fence admits writes only inside a term and aborts them
// when it ends (a paused process refuses them before its timers run); the client refuses fenced
// writes without sending them; the elector opens and closes the fence, and once stop() has begun
// it never takes the lease or starts a term again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../operator/kube/client.ts';
import type { Clock } from '../../../operator/kube/clock.ts';
import { LeadershipFence, NotLeadingError } from '../../../operator/kube/fence.ts';
import { LeaderElector } from '../../../operator/kube/leader.ts';
import { microTime } from '../../../operator/kube/lease.ts';
import { silentLog } from '../../../operator/log.ts';
import { FakeClock, settle } from './fake-clock.ts';
import { InMemoryLeaseApi } from './lease-api.ts';

const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 } as const;

function elector(clock: FakeClock, api: InMemoryLeaseApi, events: string[], onStopped?: () => Promise<void>) {
  const fence = new LeadershipFence(clock);
  const candidate = new LeaderElector({
    client: api,
    clock,
    log: silentLog(),
    fence,
    namespace: 'ns',
    name: 'lease',
    identity: 'me',
    ...timings,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => {
      events.push(`stopped, fence ${fenceOpen(fence) ? 'open' : 'closed'}`);
      return onStopped?.();
    },
  });
  return { fence, candidate };
}

function fenceOpen(fence: LeadershipFence): boolean {
  try {
    fence.admit();
    return true;
  } catch {
    return false;
  }
}

test('the fence admits writes only inside a term and aborts them when it ends', async () => {
  const clock = new FakeClock();
  const fence = new LeadershipFence(clock);
  assert.throws(() => fence.admit(), NotLeadingError);
  fence.extend(2_000);
  const inFlight = fence.admit();
  await clock.advance(1_999);
  fence.extend(3_000);
  await clock.advance(1_000);
  assert.equal(inFlight.aborted, false, 'extended: the same term goes on');
  await clock.advance(1);
  assert.equal(inFlight.aborted, true, 'aborted at the deadline');
  assert.ok(inFlight.reason instanceof NotLeadingError);
  assert.throws(() => fence.admit(), NotLeadingError);

  fence.extend(10_000);
  const next = fence.admit();
  assert.notEqual(next, inFlight, 'a new term has its own signal');
  fence.close('another replica holds the lease');
  assert.equal(next.aborted, true);
  assert.throws(() => fence.admit(), /another replica holds the lease|no term open/);
});

test('a process paused past its deadline refuses writes before any timer of its has run', () => {
  let now = 0;
  // Timers never fire: the process was stopped (SIGSTOP) and has just been continued.
  const paused: Clock = { now: () => now, setTimer: () => ({ cancel: () => undefined }) };
  const fence = new LeadershipFence(paused);
  fence.extend(2_000);
  const inFlight = fence.admit();
  now = 6_000;
  assert.throws(() => fence.admit(), /renew deadline passed/);
  assert.equal(inFlight.aborted, true);
});

test('the client refuses a fenced write without sending it; lease writes and reads pass', async () => {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'nowhere', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'user', token: 'token' }],
    contexts: [{ name: 'nowhere', cluster: 'nowhere', user: 'user' }],
    currentContext: 'nowhere',
  });
  const client = new KubeClient(config);
  const sent: string[] = [];
  client.onRequest((verb) => sent.push(verb));
  client.fenceWrites(new LeadershipFence(new FakeClock()));
  await assert.rejects(
    client.request({ verb: 'patch', path: '/api/v1/namespaces/ns/configmaps/a', body: {} }),
    NotLeadingError,
  );
  assert.equal(client.writes, 0);
  assert.deepEqual(sent, [], 'nothing left the process');
  // Port 9 refuses: these were sent, not fenced.
  await assert.rejects(
    client.request({ verb: 'get', path: '/api/v1/namespaces/ns/configmaps/a' }),
    (error) => !(error instanceof NotLeadingError),
  );
  await assert.rejects(
    client.request({
      verb: 'update',
      path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l',
      body: {},
      unfenced: true,
    }),
    (error) => !(error instanceof NotLeadingError),
  );
  assert.deepEqual(sent, ['get', 'update']);
});

test('the elector opens the fence while it leads and closes it before onStoppedLeading', async () => {
  const clock = new FakeClock();
  const api = new InMemoryLeaseApi();
  const events: string[] = [];
  const { fence, candidate } = elector(clock, api, events);
  candidate.start();
  await clock.advance(0);
  assert.deepEqual(events, ['started']);
  assert.equal(fenceOpen(fence), true);
  api.setHolder('other', microTime(clock.now()));
  await clock.advance(timings.retryPeriodMs);
  assert.deepEqual(events, ['started', 'stopped, fence closed']);
  await candidate.stop();
});

test('a leader whose renews hang is fenced at the renew deadline, before the elector gives up', async () => {
  const clock = new FakeClock();
  const api = new InMemoryLeaseApi();
  const events: string[] = [];
  const { fence, candidate } = elector(clock, api, events);
  candidate.start();
  await clock.advance(0);
  const inFlight = fence.admit();
  api.hold();
  await clock.advance(timings.renewDeadlineMs - 1);
  assert.equal(inFlight.aborted, false);
  await clock.advance(1);
  assert.equal(inFlight.aborted, true, 'the write in flight is cut off');
  assert.equal(fenceOpen(fence), false);
  api.release();
  await candidate.stop();
});

test('once stop() has begun the elector never takes the lease and never starts a term', async () => {
  const clock = new FakeClock();
  const api = new InMemoryLeaseApi();
  api.setHolder('other', microTime(0));
  const events: string[] = [];
  const { fence, candidate } = elector(clock, api, events);
  candidate.start();
  await clock.advance(1_000);
  assert.deepEqual(events, [], 'a standby while the other renews');
  api.hold();
  await clock.advance(timings.retryPeriodMs);
  assert.equal(api.waiting, 1, 'a read of the lease is in flight');
  // The other replica releases the lease just as this one begins to stop.
  api.setHolder('', microTime(clock.now()));
  const stopped = candidate.stop();
  api.release();
  await stopped;
  await clock.advance(10 * timings.leaseDurationMs);
  assert.deepEqual(events, []);
  assert.deepEqual(api.writes, [], 'no lease write');
  assert.equal(api.holder, '');
  assert.equal(fenceOpen(fence), false);
});

test('a stopping leader closes the fence, waits for its workers, then releases the lease', async () => {
  const clock = new FakeClock();
  const api = new InMemoryLeaseApi();
  const events: string[] = [];
  let workersStopped: () => void = () => undefined;
  const { candidate } = elector(
    clock,
    api,
    events,
    () => new Promise<void>((resolve) => (workersStopped = resolve)),
  );
  candidate.start();
  await clock.advance(timings.retryPeriodMs);
  const stopped = candidate.stop();
  await settle();
  assert.deepEqual(events, ['started', 'stopped, fence closed']);
  assert.equal(api.holder, 'me', 'held while the workers drain');
  workersStopped();
  await stopped;
  assert.equal(api.holder, '', 'released');
  await clock.advance(10 * timings.leaseDurationMs);
  assert.deepEqual(events, ['started', 'stopped, fence closed'], 'no term after stop()');
});
