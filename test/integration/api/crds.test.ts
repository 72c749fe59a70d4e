// The generated CRDs as the apiserver serves them: established, named and categorised as designed,
// every example applies with server-side apply, printer columns show in `kubectl get`, and field
// descriptions reach `kubectl explain`.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { apiGroup } from '../../../operator/api/crd.ts';
import { apiKinds, smtpRelayKind } from '../../../operator/api/kinds.ts';
import {
  apply,
  examplesDir,
  fieldManager,
  kubectl,
  parsed,
  readExample,
  request,
  temporaryNamespace,
  type Json,
} from './support.ts';

interface CrdView {
  spec: {
    names: { shortNames: string[]; categories: string[]; kind: string };
    scope: string;
    versions: {
      name: string;
      served: boolean;
      subresources: Json;
      additionalPrinterColumns: { name: string; jsonPath: string }[];
    }[];
  };
  status: { conditions: { type: string; status: string }[]; acceptedNames: { kind: string } };
}

let namespace: Awaited<ReturnType<typeof temporaryNamespace>>;
before(async () => {
  namespace = await temporaryNamespace('api-crds');
});
after(async () => {
  await namespace.remove();
});

for (const kind of apiKinds) {
  test(`${kind.kind}: the CRD is established and served as designed`, async () => {
    const response = await request(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${kind.plural}.${apiGroup}`,
    );
    assert.equal(response.status, 200);
    const crd = parsed(response) as CrdView;
    const conditions = new Map(crd.status.conditions.map((c) => [c.type, c.status]));
    assert.equal(conditions.get('Established'), 'True');
    assert.equal(conditions.get('NamesAccepted'), 'True');
    assert.equal(conditions.get('NonStructuralSchema'), undefined, 'the schema is structural');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names.shortNames, kind.shortNames);
    assert.deepEqual(crd.spec.names.categories, ['mailfleet']);
    const [version] = crd.spec.versions;
    assert.ok(version?.served);
    assert.deepEqual(Object.keys(version.subresources).sort(), kind.scale ? ['scale', 'status'] : ['status']);
    assert.deepEqual(
      version.additionalPrinterColumns.map((column) => column.name),
      kind.printerColumns.map((column) => column.name),
    );
    const list = await request('GET', `/apis/${apiGroup}/${version.name}/${kind.plural}`);
    assert.equal(list.status, 200);
  });
}

test('every example applies cleanly with server-side apply and is owned by the field manager', async () => {
  // examples/demo/ too: the apiserver's CEL rules are checked only here. examples/clients/ holds
  // the sending workloads (Pods, Deployments): client-manifests.test.ts dry-runs those.
  const files = (await readdir(examplesDir, { recursive: true }))
    .filter((file) => file.endsWith('.yaml') && !file.startsWith('clients/'))
    .sort();
  assert.ok(files.length >= 5, `examples: ${files.join(', ')}`);
  for (const file of files) {
    const example = await readExample(file);
    const response = await apply(namespace.name, example);
    assert.ok(
      response.status === 200 || response.status === 201,
      `${file}: ${response.status} ${response.body}`,
    );
    const applied = parsed(response) as Json;
    const managers = ((applied['metadata'] as Json)['managedFields'] as { manager: string }[]).map(
      (m) => m.manager,
    );
    assert.deepEqual(managers, [fieldManager], file);
    const again = await apply(namespace.name, example);
    assert.equal(again.status, 200, `${file} re-applies: ${again.body}`);
  }
});

test('kubectl get shows the printer columns, by short name and by category', async () => {
  const relay = await readExample('smtprelay-minimal.yaml');
  const applied = await apply(namespace.name, relay);
  assert.ok(applied.status < 300, applied.body);
  const wide = await kubectl('get', 'smr', '-n', namespace.name, '-o', 'wide');
  const header = wide.split('\n')[0]?.trim().split(/\s+/) ?? [];
  assert.deepEqual(header, [
    'NAME',
    ...smtpRelayKind.printerColumns.map((column) => column.name.toUpperCase()),
  ]);
  assert.match(wide, /^internal\s+2\s+Direct\s/m);
  assert.match(wide, /^outbound\s+3\s+Smarthost\s+smtp\.mailprovider\.example\s/m);
  const domain = await readExample('senderdomain.yaml');
  assert.ok((await apply(namespace.name, domain)).status < 300);
  const byCategory = await kubectl('get', 'mailfleet', '-n', namespace.name, '-o', 'name');
  assert.match(byCategory, /^smtprelay\.mailfleet\.dev\/internal$/m);
  assert.match(byCategory, /^senderdomain\.mailfleet\.dev\/example-com$/m);
  const sd = await kubectl('get', 'sd', '-n', namespace.name);
  assert.match(sd, /^NAME\s+DOMAIN\s+READY\s+DKIMKEYREADY\s+DNSVERIFIED\s+AGE$/m);
  assert.match(sd, /^example-com\s+example\.com\s/m);
});

test('kubectl explain documents fields from the schema descriptions', async () => {
  const explained = await kubectl('explain', 'smtprelays.spec.clientNetworks');
  assert.match(explained, /Empty by default/);
  const dkim = await kubectl('explain', 'senderdomains.spec.dkim.rotation.overlap');
  assert.match(dkim, /Go-style duration/);
});
