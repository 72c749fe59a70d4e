// The shared control plane is the real thing: the versions it reports, an authenticated admin, RBAC
// refusing an unprivileged identity, and kubectl working against it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { kubeRequest } from '../../support/control-plane.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';

const execFileAsync = promisify(execFile);
const controlPlane = sharedControlPlane();

async function pinnedVersion(goMod: string, module: string): Promise<string> {
  const text = await readFile(join(import.meta.dirname, '../../controlplane', goMod), 'utf8');
  const match = new RegExp(`${module.replaceAll('.', '\\.')} v(\\d+\\.\\d+\\.\\d+)`).exec(text);
  assert.ok(match?.[1], `no pinned version of ${module} in ${goMod}`);
  return match[1];
}

test('kube-apiserver reports the pinned release in /version', async () => {
  const expected = await pinnedVersion('kube/go.mod', 'k8s.io/kubernetes');
  const response = await kubeRequest(controlPlane, 'GET', '/version');
  assert.equal(response.status, 200);
  const version = JSON.parse(response.body) as { gitVersion: string; major: string; minor: string };
  assert.equal(version.gitVersion, `v${expected}`);
  assert.equal(`${version.major}.${version.minor}`, expected.split('.').slice(0, 2).join('.'));
});

test('etcd reports the pinned release', async () => {
  const expected = await pinnedVersion('etcd/go.mod', 'go.etcd.io/etcd/server/v3');
  const { stdout } = await execFileAsync(join(controlPlane.binDir, 'etcd'), ['--version']);
  assert.match(stdout, new RegExp(`etcd Version: ${expected.replaceAll('.', '\\.')}\\b`));
});

test('the admin identity is authenticated and RBAC refuses an unprivileged one', async () => {
  const admin = await kubeRequest(controlPlane, 'GET', '/api/v1/namespaces/default');
  assert.equal(admin.status, 200);
  const token = controlPlane.userTokens['mailfleet-unprivileged'];
  assert.ok(token);
  const unprivileged = await kubeRequest(controlPlane, 'GET', '/api/v1/secrets', { token });
  assert.equal(unprivileged.status, 403);
  assert.match(unprivileged.body, /mailfleet-unprivileged/);
  const anonymous = await kubeRequest(controlPlane, 'GET', '/api/v1/secrets', { token: 'not-a-token' });
  assert.equal(anonymous.status, 401);
});

test('kubectl talks to the control plane through the generated kubeconfig', async () => {
  const { stdout } = await execFileAsync(join(controlPlane.binDir, 'kubectl'), [
    '--kubeconfig',
    controlPlane.kubeconfigPath,
    'get',
    'namespace',
    'default',
    '-o',
    'jsonpath={.status.phase}',
  ]);
  assert.equal(stdout, 'Active');
});
