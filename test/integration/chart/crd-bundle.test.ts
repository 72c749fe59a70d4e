// The release asset crds.yaml, built by hack/crd-bundle.sh as the release workflow builds it: one
// YAML document per CRD of crds/, each starting with `---`, and what docs/install.md tells users to
// run (`kubectl apply --server-side --force-conflicts -f crds.yaml`) establishes every one of them
// on the shared control plane. Its CRDs are the ones the harness installed from the same files, so
// the apply changes no spec and other tests see no difference.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { repoRoot } from '../../unit/chart/helm.ts';
import { kubectlOk } from './kubectl.ts';

const execFileAsync = promisify(execFile);
const controlPlane = sharedControlPlane();
const workDir = await mkdtemp(join(tmpdir(), 'mailfleet-crd-bundle-'));
after(() => rm(workDir, { recursive: true, force: true }));

interface CrdHead {
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

test('hack/crd-bundle.sh writes every CRD as its own document, and kubectl establishes them all', async () => {
  const bundle = join(workDir, 'crds.yaml');
  await execFileAsync('bash', [join(repoRoot, 'hack/crd-bundle.sh'), bundle]);
  const text = await readFile(bundle, 'utf8');

  const files = (await readdir(join(repoRoot, 'crds'))).filter((file) => file.endsWith('.yaml')).sort();
  const expected = await Promise.all(
    files.map(
      async (file) => (parse(await readFile(join(repoRoot, 'crds', file), 'utf8')) as CrdHead).metadata.name,
    ),
  );
  assert.ok(expected.length >= 2, `CRDs in crds/: ${files.join(', ')}`);
  assert.equal(text.match(/^---$/gm)?.length, expected.length, 'one `---` per CRD');
  const documents = parseAllDocuments(text);
  for (const document of documents) assert.deepEqual(document.errors, []);
  const crds = documents.map((document) => document.toJS() as CrdHead);
  assert.deepEqual(
    crds.map((crd) => [crd.kind, crd.metadata.name]),
    expected.map((name) => ['CustomResourceDefinition', name]),
  );

  const applied = await kubectlOk(controlPlane, [
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=mailfleet-crd-bundle-test',
    '-f',
    bundle,
  ]);
  for (const name of expected) {
    assert.match(
      applied,
      new RegExp(
        `customresourcedefinition.apiextensions.k8s.io/${name.replaceAll('.', '\\.')} serverside-applied`,
      ),
    );
  }
  const established = await kubectlOk(controlPlane, [
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    ...expected.map((name) => `crd/${name}`),
  ]);
  for (const name of expected)
    assert.match(established, new RegExp(`${name.replaceAll('.', '\\.')} condition met`));
});
