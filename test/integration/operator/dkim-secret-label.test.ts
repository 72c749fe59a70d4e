// Case 37 on upgrade: the operator caches only the Secrets it labels, and generated DKIM key Secrets
// made before they carried the label must not be taken for missing ones. A generated Secret whose
// label is removed (as one an older operator wrote) is labelled again by the next reconcile, with
// the same keys: no key is generated twice, so the published DNS records stay valid.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { senderDomainResource } from '../../../operator/api/kinds.ts';
import { coreResources, objectPath } from '../../../operator/kube/resource.ts';
import { managedByLabel, operatorName } from '../../../operator/render/relay-names.ts';
import { eventually, privateNamespace } from '../operator-kube/support.ts';
import {
  admin,
  condition,
  create,
  eventsOf,
  noDns,
  readDomain,
  readSecret,
  senderDomainManifest,
  startController,
  type Running,
} from './sender-domain-support.ts';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: Running;

before(async () => {
  namespace = await privateNamespace(admin, 'dkim-label');
  running = await startController(namespace.name, noDns);
});
after(async () => {
  await running.stop();
  await namespace.remove();
});

test('case 37: a generated DKIM Secret without the managed-by label gets it back with the same keys', async () => {
  const ns = namespace.name;
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('upgraded', {
      domain: 'upgraded.example',
      relays: ['internal'],
      dnsVerification: { enabled: false },
    }),
  );
  await eventually(
    'Ready',
    async () => condition(await readDomain(ns, 'upgraded'), 'Ready')?.status === 'True',
  );
  const generated = await readSecret(ns, 'upgraded-dkim');
  assert.ok(generated);
  assert.equal(generated.metadata?.labels?.[managedByLabel], operatorName, 'generated Secrets are labelled');

  await admin.request({
    verb: 'patch',
    path: objectPath(coreResources.secret, { namespace: ns, name: 'upgraded-dkim' }),
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: null } },
  });
  await eventually(
    'the label is back',
    async () => (await readSecret(ns, 'upgraded-dkim'))?.metadata?.labels?.[managedByLabel] === operatorName,
  );
  const relabelled = await readSecret(ns, 'upgraded-dkim');
  assert.deepEqual(relabelled?.data, generated.data, 'the same keys');
  const generatedEvents = (await eventsOf(ns, 'upgraded')).filter(
    (event) => event.reason === 'DkimKeyGenerated',
  );
  assert.equal(generatedEvents.length, 1, 'keys were generated once');
  assert.equal(generatedEvents[0]?.count ?? 1, 1);
  assert.equal(condition(await readDomain(ns, 'upgraded'), 'Ready')?.status, 'True');
});
