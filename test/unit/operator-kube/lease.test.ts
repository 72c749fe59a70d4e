import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideLease,
  microTime,
  releasedLease,
  sameLeaseRecord,
  type LeaseSpec,
} from '../../../operator/kube/lease.ts';

const held = (holder: string, renewMs: number): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: microTime(0),
  renewTime: microTime(renewMs),
  leaseTransitions: 2,
});

test('lease decisions: create, renew, wait, take over when expired or released', () => {
  const table: {
    name: string;
    spec: LeaseSpec | undefined;
    observedAt: number;
    now: number;
    action: string;
    transitions?: number;
  }[] = [
    { name: 'no lease yet', spec: undefined, observedAt: 0, now: 1_000, action: 'create', transitions: 0 },
    { name: 'ours: renew', spec: held('me', 0), observedAt: 0, now: 60_000, action: 'renew', transitions: 2 },
    { name: 'theirs, fresh', spec: held('other', 0), observedAt: 10_000, now: 24_999, action: 'wait' },
    {
      name: 'theirs, unseen change for a lease duration',
      spec: held('other', 0),
      observedAt: 10_000,
      now: 25_000,
      action: 'take',
      transitions: 3,
    },
    {
      name: 'released',
      spec: { ...held('other', 0), holderIdentity: '' },
      observedAt: 10_000,
      now: 10_001,
      action: 'take',
      transitions: 3,
    },
  ];
  for (const row of table) {
    const decision = decideLease({ spec: row.spec, observedAt: row.observedAt }, 'me', row.now, 15_000);
    assert.equal(decision.action, row.action, row.name);
    if (decision.action === 'wait') {
      assert.equal(decision.holder, 'other', row.name);
      continue;
    }
    assert.equal(decision.spec.holderIdentity, 'me', row.name);
    assert.equal(decision.spec.renewTime, microTime(row.now), row.name);
    assert.equal(decision.spec.leaseDurationSeconds, 15, row.name);
    assert.equal(decision.spec.leaseTransitions, row.transitions, row.name);
  }
});

test('a renewal keeps the acquire time; a take-over resets it', () => {
  const renew = decideLease({ spec: held('me', 0), observedAt: 0 }, 'me', 5_000, 15_000);
  assert.equal(renew.action === 'wait' ? undefined : renew.spec.acquireTime, microTime(0));
  const take = decideLease({ spec: held('other', 0), observedAt: 0 }, 'me', 20_000, 15_000);
  assert.equal(take.action === 'wait' ? undefined : take.spec.acquireTime, microTime(20_000));
});

test('MicroTime has microseconds; a released lease has no holder', () => {
  assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  const released = releasedLease(held('me', 0), 9_000);
  assert.equal(released.holderIdentity, '');
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 2);
});

test('records differ when the holder renewed', () => {
  assert.equal(sameLeaseRecord(held('a', 0), held('a', 0)), true);
  assert.equal(sameLeaseRecord(held('a', 0), held('a', 1)), false);
  assert.equal(sameLeaseRecord(held('a', 0), held('b', 0)), false);
  assert.equal(sameLeaseRecord(undefined, undefined), true);
  assert.equal(sameLeaseRecord(undefined, held('a', 0)), false);
});
