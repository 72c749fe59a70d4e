// Real node: `helm upgrade` and `helm uninstall` do what docs/install.md says. The upgrade applies the
// CRDs first, then rolls the operator with maxUnavailable 0 (a Ready operator at every moment) and the
// changed value reaches it. The uninstall removes the operator and its RBAC, keeps the CRDs, and the
// relays it created keep running and delivering, unmanaged. Then the plain manifests of deploy/ as the
// same page applies and deletes them. Runs last: it removes the operator, the CRDs and the relays.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fleet, patchRelaySpec, relayReconciled, sendSequenced } from '../node/fleet.ts';
import {
  helm,
  helmUpgrade,
  operatorNamespace,
  operatorSelector,
  release,
  repoRoot,
  waitAllDelivered,
} from '../node/mail-fleet.ts';
import { isReady, pods } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const work = await mkdtemp(join(tmpdir(), 'mailfleet-deploy-'));
after(() => rm(work, { recursive: true, force: true }));

test('real node: helm upgrade: CRDs applied first, the operator rolls with a Ready replica throughout', async () => {
  await kubectl(cluster, ['apply', '--server-side', '--force-conflicts', '-f', 'charts/mailfleet/crds/']);
  const upgrading = helmUpgrade(cluster, ['--set', 'operator.logLevel=debug']);
  let fewestReady = Infinity;
  let done = false;
  void upgrading.finally(() => {
    done = true;
  });
  await eventually(
    'every operator pod runs with --log-level=debug',
    async () => {
      const current = await pods(cluster, operatorNamespace, operatorSelector);
      fewestReady = Math.min(fewestReady, current.filter(isReady).length);
      const deployment = JSON.parse(
        await kubectl(cluster, ['-n', operatorNamespace, 'get', 'deployment', release, '-o', 'json']),
      ) as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
        status: { updatedReplicas?: number; readyReplicas?: number; replicas?: number };
      };
      const args = deployment.spec.template.spec.containers[0]?.args ?? [];
      const { updatedReplicas, readyReplicas, replicas } = deployment.status;
      return (
        done &&
        args.includes('--log-level=debug') &&
        updatedReplicas === 2 &&
        readyReplicas === 2 &&
        replicas === 2
      );
    },
    180_000,
  );
  assert.match(await upgrading, /STATUS: deployed/);
  assert.ok(fewestReady >= 1, `a Ready operator throughout the roll (fewest seen: ${fewestReady})`);
});

test('real node: helm uninstall: the operator and its RBAC go, the CRDs stay, the relays keep delivering', async () => {
  await helm(cluster, ['uninstall', release, '--namespace', operatorNamespace, '--wait']);
  await eventually(
    'no operator pod left',
    async () => (await pods(cluster, operatorNamespace, operatorSelector)).length === 0,
  );
  await assert.rejects(kubectl(cluster, ['get', 'clusterrole', release]), /NotFound/);
  await kubectl(cluster, ['get', 'crd', 'smtprelays.mailfleet.dev', 'senderdomains.mailfleet.dev']);
  const relays = await pods(cluster, fleet.namespace, `app.kubernetes.io/instance=${fleet.relay}`);
  assert.ok(relays.length > 0 && relays.every(isReady), 'the relay pods still run');
  const runId = `unmanaged-${Date.now()}`;
  const sent = await sendSequenced(cluster, runId, 'after@dest.example');
  assert.ok(sent.ok, sent.output);
  await waitAllDelivered(cluster, fleet.namespace, runId, [1], 60_000);
});

test('real node: without Helm: deploy/ applied as docs/install.md says runs the operator; the relays deleted (drained) first, then deploy/ and the CRDs', async () => {
  const relayImage = await kubectl(cluster, [
    '-n',
    fleet.namespace,
    'get',
    'statefulset',
    fleet.relay,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  ]);
  // The file names the release images; this node has only the ones built here.
  const manifest = (await readFile(join(repoRoot, 'deploy/mailfleet.yaml'), 'utf8'))
    .replace(/image: ghcr\.io\/mailfleet\/operator:\S+/, `image: ${cluster.images.OPERATOR_IMAGE}`)
    .replace(/--relay-image=ghcr\.io\/mailfleet\/relay:\S+/, `--relay-image=${relayImage}`);
  const local = join(work, 'mailfleet.yaml');
  await writeFile(local, manifest);
  await kubectl(cluster, [
    'apply',
    '--server-side',
    '-f',
    join(repoRoot, 'deploy/namespace.yaml'),
    '-f',
    local,
  ]);
  await kubectl(cluster, [
    '-n',
    operatorNamespace,
    'rollout',
    'status',
    'deployment/mailfleet',
    '--timeout=180s',
  ]);
  await patchRelaySpec(cluster, { delivery: { retrySchedule: ['5s', '10s', '30s'] } });
  await eventually('the operator from deploy/ reconciles the relay', () => relayReconciled(cluster)).catch(
    async (error: unknown) => {
      // What the operator pods said and who holds their Lease, for the failure's report.
      const said = await kubectl(cluster, [
        '-n',
        operatorNamespace,
        'logs',
        '-l',
        operatorSelector,
        '--prefix',
        '--tail=40',
      ]).catch(String);
      const lease = await kubectl(cluster, ['-n', operatorNamespace, 'get', 'lease', '-o', 'yaml']).catch(
        String,
      );
      throw new Error(`${String(error)}\n--- operator logs\n${said}\n--- leases\n${lease}`, { cause: error });
    },
  );

  // As docs/install.md says: the SmtpRelays first, while the operator runs to let their deletion
  // drain them (their finalizer waits for the operator), then the operator and the CRDs.
  await kubectl(cluster, [
    'delete',
    'smtprelays',
    '--all',
    '--all-namespaces',
    '--wait=true',
    '--timeout=180s',
  ]);
  await kubectl(cluster, ['delete', '-f', local, '--wait=true', '--timeout=180s']);
  await assert.rejects(kubectl(cluster, ['get', 'crd', 'smtprelays.mailfleet.dev']), /NotFound/);
  await eventually(
    'the relay pods are gone with their SmtpRelay',
    async () =>
      (await pods(cluster, fleet.namespace, `app.kubernetes.io/instance=${fleet.relay}`)).length === 0,
    180_000,
  );
});
