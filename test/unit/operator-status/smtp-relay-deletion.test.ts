// The deletion gate's decisions as a table: pods' reports × time × storage and PVC policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SmtpRelay } from '../../../operator/api/types.generated.ts';
import { renderSmtpRelay } from '../../../operator/render/smtp-relay-objects.ts';
import {
  decideDeletion,
  deletionDeadline,
  type PodQueue,
} from '../../../operator/status/smtp-relay-deletion.ts';
import { exampleSecrets, relayExamples } from '../operator-render/fixtures.ts';

const example = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
assert.ok(example);
const production: SmtpRelay = example;
const deletedAt = Date.parse('2026-12-05T10:00:00Z');

function deleted(queue: Partial<SmtpRelay['spec']['queue']> = {}, base: SmtpRelay = production): SmtpRelay {
  return {
    ...base,
    metadata: { ...base.metadata, deletionTimestamp: new Date(deletedAt).toISOString() },
    spec: { ...base.spec, queue: { ...base.spec.queue, deletionDrainTimeout: '10m', ...queue } },
  };
}

const claim = (n: number) => `queue-outbound-${n}`;
const pod = (n: number, report?: { phase: string; messages: number }): PodQueue => ({
  name: `outbound-${n}`,
  claim: claim(n),
  ...report,
});
const retired = (messages: number) => ({ phase: 'retiring', messages });
const minutes = (n: number) => deletedAt + n * 60_000;

test('the deadline is the deletion time plus queue.deletionDrainTimeout', () => {
  assert.equal(deletionDeadline(deleted()), minutes(10));
});

test('mail still held, or a pod unread, or a pod not yet retired: wait, and say for what', () => {
  const cases: { pods: PodQueue[]; held: number; holding: string[]; unreachable: string[]; says: RegExp }[] =
    [
      {
        pods: [pod(0, retired(3)), pod(1, retired(0))],
        held: 3,
        holding: ['outbound-0'],
        unreachable: [],
        says: /3 messages in outbound-0/,
      },
      {
        pods: [pod(0), pod(1, retired(0))],
        held: 0,
        holding: [],
        unreachable: ['outbound-0'],
        says: /queues of outbound-0 \(not readable\)/,
      },
      {
        pods: [pod(0, { phase: 'serving', messages: 0 })],
        held: 0,
        holding: [],
        unreachable: [],
        says: /outbound-0 to read the retired config/,
      },
    ];
  for (const { pods, held, holding, unreachable, says } of cases) {
    const decision = decideDeletion({
      relay: deleted(),
      pods,
      claims: [claim(0), claim(1)],
      now: minutes(1),
    });
    assert.equal(decision.action, 'wait');
    assert.equal(decision.deletion.heldMessages, held);
    assert.deepEqual(decision.deletion.podsHoldingMail, holding);
    assert.deepEqual(decision.deletion.unreachablePods, unreachable);
    assert.equal(decision.deletion.deadline, new Date(minutes(10)).toISOString());
    assert.match(decision.message, says);
    assert.ok(decision.requeueAfterMs > 0 && decision.requeueAfterMs <= 5_000);
  }
});

test('every pod retired and empty: the deletion goes on; whenDeleted Delete deletes only PVCs known empty', () => {
  const pods = [pod(0, retired(0)), pod(1, retired(0))];
  const claims = [claim(0), claim(1), claim(2)];
  const retain = decideDeletion({ relay: deleted(), pods, claims, now: minutes(1) });
  assert.equal(retain.action, 'release');
  assert.equal(retain.outcome, 'drained');
  assert.deepEqual(retain.deleteClaims, [], 'Retain (the default) deletes no PVC');
  const relay = deleted({
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
  });
  const remove = decideDeletion({ relay, pods, claims, now: minutes(1) });
  assert.equal(remove.action, 'release');
  assert.deepEqual(remove.deleteClaims, [claim(0), claim(1)]);
  assert.deepEqual(remove.keptClaims, [
    { claim: claim(2), why: 'no pod mounts it, so what it holds is unknown' },
  ]);
});

test('the bound passed with mail held: the deletion goes on, the PVCs holding mail are kept whatever the policy', () => {
  const relay = deleted({
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
  });
  const pods = [pod(0, retired(4)), pod(1, retired(0)), pod(2)];
  const decision = decideDeletion({ relay, pods, claims: [claim(0), claim(1), claim(2)], now: minutes(10) });
  assert.equal(decision.action, 'release');
  assert.equal(decision.outcome, 'timedOut');
  assert.equal(decision.heldMessages, 4);
  assert.deepEqual(decision.deleteClaims, [claim(1)]);
  assert.deepEqual(
    decision.keptClaims.map((entry) => entry.claim),
    [claim(0), claim(2)],
  );
  assert.match(
    decision.message,
    /4 messages in outbound-0 and unread queues of outbound-2: kept on the PVCs queue-outbound-0, queue-outbound-2/,
  );
});

test('Ephemeral storage at the bound: what is left is lost, and the message says so', () => {
  const relay = deleted({ storage: 'Ephemeral' });
  const decision = decideDeletion({ relay, pods: [pod(0, retired(2))], claims: [], now: minutes(11) });
  assert.equal(decision.action, 'release');
  assert.match(decision.message, /2 messages in outbound-0: lost with the pods \(Ephemeral storage\)/);
  assert.deepEqual(decision.deleteClaims, []);
});

test('a deleted relay renders retired: no drain peers, retiring in the config, and the pods do not roll', () => {
  const live = production;
  const secrets = exampleSecrets();
  const render = (relay: SmtpRelay) =>
    renderSmtpRelay({
      relay,
      domains: [],
      secrets: (name) => secrets.get(name),
      relayImage: 'relay:test',
      clusterDomain: 'cluster.local',
      served: new Set(),
    });
  const serving = render(live);
  const retiring = render(deleted());
  assert.equal(serving.config.retiring, false);
  assert.ok(serving.config.delivery.drainPeers.length > 0);
  assert.equal(retiring.config.retiring, true);
  assert.deepEqual(retiring.config.delivery.drainPeers, []);
  const template = (objects: typeof serving.objects) =>
    JSON.stringify(objects.find((entry) => entry.resource.kind === 'StatefulSet')?.object);
  assert.equal(template(retiring.objects), template(serving.objects), 'the StatefulSet is unchanged');
});
