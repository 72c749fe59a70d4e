// One relay's reconciliation paused with the mailfleet.dev/paused annotation, against the real API
// server: while paused, a new spec.pod.image (the per-relay image override) reaches nothing the
// operator owns and Progressing says Paused; once the annotation is removed the StatefulSet runs
// the pinned image. A relay next to it, not paused, keeps being reconciled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { KubeObject } from '../../../operator/kube/resource.ts';
import { relayResources } from '../../../operator/render/relay-resources.ts';
import {
  applyAsUser,
  eventually,
  get,
  privateNamespace,
  readExample,
  relayCondition,
  startRelayOperator,
  admin,
  type OperatorUnderTest,
} from './smtp-relay-support.ts';

interface StatefulSetView extends KubeObject {
  spec: { template: { spec: { containers: { image: string }[] } } };
}

const pinned = `registry.example.com/mailfleet/relay:0.0.9@sha256:${'b'.repeat(64)}`;
let namespace: { name: string; remove(): Promise<void> };
let running: OperatorUnderTest;

before(async () => {
  namespace = await privateNamespace(admin, 'pause');
  running = await startRelayOperator(namespace.name);
});

after(async () => {
  await running.operator.stop();
  await namespace.remove();
});

async function imageOf(name: string): Promise<string | undefined> {
  const statefulSet = await get<StatefulSetView>(relayResources.statefulSet, namespace.name, name);
  return statefulSet?.spec.template.spec.containers[0]?.image;
}

/** The minimal example under `name`, with `annotations` and, when given, the pinned relay image. */
async function relay(name: string, annotations: Record<string, string>, image?: string): Promise<KubeObject> {
  const example = (await readExample('smtprelay-minimal.yaml')) as KubeObject & { spec: { pod?: object } };
  return {
    ...example,
    metadata: { name, annotations },
    spec: { ...example.spec, pod: { ...example.spec.pod, ...(image === undefined ? {} : { image }) } },
  };
}

test('a paused relay is not reconciled until the annotation goes; spec.pod.image then rolls it alone', async () => {
  const ns = namespace.name;
  await applyAsUser(senderDomainResource, ns, await readExample('senderdomain.yaml'));
  await applyAsUser(smtpRelayResource, ns, await relay('held', {}));
  await applyAsUser(smtpRelayResource, ns, await relay('free', {}));
  await eventually(
    'both StatefulSets exist',
    async () => (await imageOf('held')) !== undefined && (await imageOf('free')) !== undefined,
  );
  assert.equal(await imageOf('held'), 'relay:integration');

  await applyAsUser(smtpRelayResource, ns, await relay('held', { 'mailfleet.dev/paused': 'true' }, pinned));
  await applyAsUser(smtpRelayResource, ns, await relay('free', {}, pinned));
  await eventually(
    'the relay that is not paused runs the pinned image',
    async () => (await imageOf('free')) === pinned,
  );
  await eventually(
    'the paused relay says so',
    async () => (await relayCondition(ns, 'held', 'Progressing'))?.reason === 'Paused',
  );
  const progressing = await relayCondition(ns, 'held', 'Progressing');
  assert.match(progressing?.message ?? '', /mailfleet\.dev\/paused=true/);
  assert.equal(await imageOf('held'), 'relay:integration');

  await applyAsUser(smtpRelayResource, ns, await relay('held', {}, pinned));
  await eventually('the resumed relay runs the pinned image', async () => (await imageOf('held')) === pinned);
  await eventually(
    'Progressing no longer says Paused',
    async () => (await relayCondition(ns, 'held', 'Progressing'))?.reason !== 'Paused',
  );
});
