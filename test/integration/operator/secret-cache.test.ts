// Case 37: the operator reads only the Secrets it needs. Against the real apiserver, the operator's
// own client records every request it sends: Secrets are listed and watched only with the owned
// label selector or one by one by name (a `metadata.name` field selector), an unrelated 100 KiB
// Secret never enters its cache, a referenced Secret that appears, disappears or comes back still
// reconciles the relay, and a reference that goes away stops the watch of its Secret.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { ApiRequest } from '../../../operator/kube/client.ts';
import { coreResources, formatKey, objectPath } from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { startOperator, type RunningOperator } from '../../../operator/main.ts';
import { parseOptions } from '../../../operator/options.ts';
import { ownedSecretSelector } from '../../../operator/reconcile/secret-references.ts';
import { smtpRelayController } from '../../../operator/reconcile/smtp-relay.ts';
import {
  admin,
  applyAsUser,
  base64,
  eventually,
  kubeconfigPath,
  privateNamespace,
  readExample,
  relayCondition,
} from './smtp-relay-support.ts';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let operator: RunningOperator;
let ns = '';
/** The operator's list and watch requests on Secrets, as its client sent them. */
const secretReads: ApiRequest[] = [];

before(async () => {
  namespace = await privateNamespace(admin, 'secret-cache');
  ns = namespace.name;
  const parsed = parseOptions(
    [
      `--kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      `--namespaces=${ns}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      '--relay-image=relay:integration',
    ],
    {},
    'secret-cache-test',
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  operator = await startOperator(
    parsed.options,
    (tools) => {
      tools.client.onRequest((verb, _code, request) => {
        if ((verb === 'list' || verb === 'watch') && request.path.endsWith('/secrets')) {
          secretReads.push(request);
        }
      });
      return [smtpRelayController({ ...tools, relayImage: tools.options.relayImage, discoveryTtlMs: 500 })];
    },
    silentLog(),
  );
  await eventually('the caches sync', () => operator.manager.synced);
});

after(async () => {
  await operator.stop();
  await namespace.remove();
});

const secret = (name: string, data: Record<string, string>) =>
  applyAsUser(coreResources.secret, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data });

const usersSecret = () =>
  secret('submission-smtp-users', {
    users: base64('billing-app:$2b$10$abcdefghijklmnopqrstuuJ4bYwJ6Wm2yV5Yk9o2b3f5b0N1lq7lK\n'),
  });

const cachedSecret = (name: string) =>
  operator.manager.cache(coreResources.secret).get(formatKey({ namespace: ns, name }));

const blamesSecret = async (name: string) => {
  const ready = await relayCondition(ns, 'submission', 'Ready');
  return ready?.reason === 'SecretNotFound' && ready.message.includes(`/${name} `);
};

test('case 37: an unrelated Secret is never cached; Secrets are listed and watched only by label or by name', async () => {
  await secret('unrelated-helm-release', { release: base64('x'.repeat(100 * 1024)) });
  await applyAsUser(senderDomainResource, ns, await readExample('senderdomain-own-key.yaml'));
  await applyAsUser(smtpRelayResource, ns, await readExample('smtprelay-external.yaml'));
  await eventually('Ready=False names the missing users Secret', () => blamesSecret('submission-smtp-users'));

  await usersSecret();
  await secret('submission-tls', {
    'tls.crt': base64('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'),
    'tls.key': base64('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n'),
  });
  await eventually('Ready no longer blames a Secret', async () => {
    const reason = (await relayCondition(ns, 'submission', 'Ready'))?.reason ?? '';
    return reason !== '' && !reason.startsWith('Secret');
  });
  await eventually(
    'the relay-owned Secret is cached',
    () => cachedSecret('submission-relay-secrets') !== undefined,
  );

  assert.equal(cachedSecret('unrelated-helm-release'), undefined, 'the unrelated Secret is not cached');
  assert.ok(cachedSecret('submission-smtp-users'), 'the referenced users Secret is cached');
  assert.ok(cachedSecret('submission-tls'), 'the referenced TLS Secret is cached');
  const everyCached = operator.manager.cache(coreResources.secret).keys();
  assert.ok(!everyCached.includes(formatKey({ namespace: ns, name: 'unrelated-helm-release' })));

  assert.ok(secretReads.length > 0, 'the operator reads Secrets');
  const unselected = secretReads.filter(
    (request) =>
      request.query?.['labelSelector'] !== ownedSecretSelector &&
      !(request.query?.['fieldSelector'] ?? '').startsWith('metadata.name='),
  );
  assert.deepEqual(
    unselected.map((request) => `${request.verb} ${request.path} ${JSON.stringify(request.query)}`),
    [],
    'every list and watch of Secrets carries the owned label selector or a name',
  );
  const byName = secretReads.map((request) => request.query?.['fieldSelector']);
  assert.ok(byName.includes('metadata.name=submission-smtp-users'));
  assert.ok(byName.includes('metadata.name=billing-dkim'), "the SenderDomain's own key Secret is watched");
});

test('case 37: a referenced Secret deleted and created again reconciles the relay each time', async () => {
  await admin.request({
    verb: 'delete',
    path: objectPath(coreResources.secret, { namespace: ns, name: 'submission-smtp-users' }),
  });
  await eventually('Ready=False names the deleted users Secret', () => blamesSecret('submission-smtp-users'));
  await usersSecret();
  await eventually('Ready no longer blames a Secret', async () => {
    const reason = (await relayCondition(ns, 'submission', 'Ready'))?.reason ?? '';
    return reason !== '' && !reason.startsWith('Secret');
  });
});

test('case 37: once nothing references a Secret, it leaves the cache', async () => {
  assert.ok(cachedSecret('submission-smtp-users'));
  // No kubelet here: the relay's pods never start, so a deletion would wait for their queues until
  // queue.deletionDrainTimeout (docs/reliability.md). Zero: the relay goes at once.
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'submission' }),
    contentType: 'application/merge-patch+json',
    body: { spec: { queue: { deletionDrainTimeout: '0s' } } },
  });
  await admin.request({
    verb: 'delete',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'submission' }),
  });
  await eventually(
    'the users Secret leaves the cache',
    () => cachedSecret('submission-smtp-users') === undefined,
  );
});
