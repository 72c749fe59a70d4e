// The client manifests of examples/clients/ (a projected ServiceAccount token for the relay's
// audience, no API token) are valid as written: the real API server admits each object in a
// server-side dry run.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubeRequest } from '../../support/control-plane.ts';
import { createServiceAccount } from '../../support/service-account-tokens.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';

const clientsDir = new URL('../../../examples/clients/', import.meta.url).pathname;
const cluster = sharedControlPlane();
// A namespace of its own: a dry run of a ServiceAccount another test made would answer 409.
const namespace = 'client-examples';
const paths: Record<string, string> = {
  ServiceAccount: `/api/v1/namespaces/${namespace}/serviceaccounts`,
  Pod: `/api/v1/namespaces/${namespace}/pods`,
  Deployment: `/apis/apps/v1/namespaces/${namespace}/deployments`,
};

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

before(async () => {
  await createServiceAccount(cluster, namespace, 'default');
});

const files = (await readdir(clientsDir)).filter((file) => file.endsWith('.yaml'));

test('there is a manifest for each client example', () => {
  assert.deepEqual(files.sort(), ['msmtp-pod.yaml', 'nodemailer-deployment.yaml', 'smtplib-pod.yaml']);
});

for (const file of files) {
  test(`examples/clients/${file}: admitted by the API server, with a projected token for mailfleet.dev/smtp`, async () => {
    const documents = parseAllDocuments(await readFile(join(clientsDir, file), 'utf8')).map(
      (document) => document.toJS() as Manifest,
    );
    const text = JSON.stringify(documents);
    assert.match(text, /"serviceAccountToken":\{"path":"token","audience":"mailfleet\.dev\/smtp"/);
    assert.match(text, /"automountServiceAccountToken":false/);
    for (const manifest of documents) {
      const path = paths[manifest.kind];
      assert.ok(path, `${file}: ${manifest.kind} is not a kind this test knows`);
      const response = await kubeRequest(cluster, 'POST', `${path}?dryRun=All`, {
        body: JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, namespace } }),
        contentType: 'application/json',
      });
      assert.equal(
        response.status,
        201,
        `${file} ${manifest.kind}/${manifest.metadata.name}: ${response.body}`,
      );
    }
  });
}
