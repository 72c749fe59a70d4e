// Scaled-away queues as a table: PVCs × pods × drain Jobs × replicas and whenScaled; and the drain Job.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SmtpRelay } from '../../../operator/api/types.generated.ts';
import type { KubeObject } from '../../../operator/kube/resource.ts';
import { renderDrainJob } from '../../../operator/render/relay-drain-job.ts';
import { renderSmtpRelay } from '../../../operator/render/smtp-relay-objects.ts';
import { planScaleDown, type DrainJobView } from '../../../operator/status/smtp-relay-scale-down.ts';
import { exampleSecrets, relayExamples } from '../operator-render/fixtures.ts';

const example = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
assert.ok(example);
const production: SmtpRelay = example;

function relay(replicas: number, whenScaled: 'Retain' | 'Delete' = 'Retain'): SmtpRelay {
  const queue = production.spec.queue;
  return {
    ...production,
    spec: {
      ...production.spec,
      replicas,
      queue: {
        ...queue,
        persistentVolumeClaimRetentionPolicy: { ...queue.persistentVolumeClaimRetentionPolicy, whenScaled },
      },
    },
  };
}

const claims = (...ordinals: number[]) => new Map(ordinals.map((n) => [n, `queue-outbound-${n}`]));
const job = (ordinal: number, state: DrainJobView['state']): DrainJobView => ({
  name: `outbound-drain-${ordinal}`,
  ordinal,
  state,
});

test('a scaled-away ordinal whose pod is still stopping waits; once it is gone a drain Job starts', () => {
  const stopping = planScaleDown({
    relay: relay(1),
    claims: claims(0, 1, 2),
    podOrdinals: new Set([0, 2]),
    jobs: [],
  });
  assert.deepEqual(stopping.createJobs, [1]);
  assert.deepEqual(
    stopping.queues.map((entry) => [entry.claim, entry.state]),
    [
      ['queue-outbound-1', 'draining'],
      ['queue-outbound-2', 'waiting'],
    ],
  );
  assert.equal(stopping.holdReplicasAt, undefined);
});

test('a Job that succeeded records an empty PVC: kept (Retain) or deleted (Delete), never drained twice', () => {
  const findings = { claims: claims(0, 1), podOrdinals: new Set([0]), jobs: [job(1, 'succeeded')] };
  const retain = planScaleDown({ ...findings, relay: relay(1) });
  assert.deepEqual(retain.createJobs, []);
  assert.deepEqual(retain.deleteClaims, []);
  assert.deepEqual(retain.deleteJobs, []);
  assert.deepEqual(
    retain.queues.map((entry) => entry.state),
    ['drained'],
  );
  const remove = planScaleDown({ ...findings, relay: relay(1, 'Delete') });
  assert.deepEqual(remove.deleteClaims, ['queue-outbound-1']);
  assert.deepEqual(
    remove.deleteJobs,
    ['outbound-drain-1'],
    "the Job's finished pod would keep the PVC in use",
  );
  assert.deepEqual(remove.queues, [], 'a deleted PVC is not reported');
  const after = planScaleDown({
    // a Job left over without its PVC (deleted by hand) goes too
    claims: claims(0),
    podOrdinals: new Set([0]),
    jobs: [job(1, 'succeeded')],
    relay: relay(1, 'Delete'),
  });
  assert.deepEqual(after.deleteJobs, ['outbound-drain-1'], 'the record goes with its PVC');
});

test('a failed Job is reported as failed (the PVC still holds mail) and not started again by itself', () => {
  const plan = planScaleDown({
    relay: relay(1),
    claims: claims(0, 1),
    podOrdinals: new Set([0]),
    jobs: [job(1, 'failed')],
  });
  assert.deepEqual(plan.createJobs, []);
  assert.equal(plan.queues[0]?.state, 'failed');
  assert.match(plan.queues[0].message ?? '', /still holds mail/);
});

test('a scale-up is held below an ordinal whose PVC a Job still drains; a finished Job of a returning ordinal is removed', () => {
  const held = planScaleDown({
    relay: relay(3),
    claims: claims(0, 1, 2),
    podOrdinals: new Set([0]),
    jobs: [job(1, 'succeeded'), job(2, 'running')],
  });
  assert.equal(held.holdReplicasAt, 2, 'pod 2 must not mount the PVC its drain Job still uses');
  assert.deepEqual(held.deleteJobs, ['outbound-drain-1']);
  assert.deepEqual(held.createJobs, []);
});

test('the drain Job runs the relay pod of the StatefulSet on the PVC, --drain-and-exit, outside the Service selector', () => {
  const secrets = exampleSecrets();
  const rendered = renderSmtpRelay({
    relay: relay(1),
    domains: [],
    secrets: (name) => secrets.get(name),
    relayImage: 'relay:test',
    clusterDomain: 'cluster.local',
    served: new Set(),
  });
  const statefulSet = rendered.objects.find((entry) => entry.resource.kind === 'StatefulSet')?.object;
  assert.ok(statefulSet);
  const drainJob = renderDrainJob(relay(1), statefulSet, 2) as KubeObject & {
    spec: {
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          restartPolicy: string;
          securityContext: unknown;
          containers: { image: string; args: string[]; readinessProbe?: unknown }[];
          volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
        };
      };
    };
  };
  const set = statefulSet as KubeObject & {
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: { spec: { securityContext: unknown } };
    };
  };
  const pod = drainJob.spec.template;
  assert.equal(drainJob.metadata?.name, 'outbound-drain-2');
  assert.deepEqual(pod.spec.containers[0]?.args, [
    '--config',
    '/etc/mailfleet/config/relay.yaml',
    '--drain-and-exit',
  ]);
  assert.equal(pod.spec.containers[0].image, 'relay:test');
  assert.equal(pod.spec.containers[0].readinessProbe, undefined);
  assert.equal(pod.spec.restartPolicy, 'OnFailure');
  assert.deepEqual(pod.spec.securityContext, set.spec.template.spec.securityContext);
  assert.deepEqual(pod.spec.volumes.find((volume) => volume.name === 'queue')?.persistentVolumeClaim, {
    claimName: 'queue-outbound-2',
  });
  const selected = Object.entries(set.spec.selector.matchLabels).every(
    ([key, value]) => pod.metadata.labels[key] === value,
  );
  assert.equal(selected, false, "the relay's selector does not pick the drain pod");
  assert.equal(
    pod.metadata.labels['app.kubernetes.io/instance'],
    undefined,
    '`-l app.kubernetes.io/instance=<relay>` finds only relay pods',
  );
});
