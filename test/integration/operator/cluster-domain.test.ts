// --cluster-domain end to end: the operator started from its own option parser with the controllers
// main.ts runs (operatorControllers), against a real kube-apiserver. The relay config it renders
// names the relay and its drain peers in that domain, not in cluster.local.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { smtpRelayResource } from '../../../operator/api/kinds.ts';
import { coreResources, type KubeObject } from '../../../operator/kube/resource.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import { startInProcessOperator } from '../operator-kube/in-process-operator.ts';
import {
  admin,
  applyAsUser,
  eventually,
  get,
  kubeconfigPath,
  privateNamespace,
  readExample,
} from './smtp-relay-support.ts';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let operator: RunningOperator;

before(async () => {
  namespace = await privateNamespace(admin, 'cluster-domain');
  operator = await startInProcessOperator({
    kubeconfigPath,
    namespace: namespace.name,
    flags: ['--cluster-domain=corp.internal'],
    name: 'cluster-domain-test',
  });
});

after(async () => {
  await operator.stop();
  await namespace.remove();
});

test('--cluster-domain: the relay config names the relay and its drain peers in that domain', async () => {
  await applyAsUser(smtpRelayResource, namespace.name, await readExample('smtprelay-minimal.yaml'));
  let config: { hostname?: string; delivery?: { drainPeers?: string[] } } = {};
  await eventually('the relay config is rendered', async () => {
    const configMap = await get<KubeObject & { data?: Record<string, string> }>(
      coreResources.configMap,
      namespace.name,
      'internal-config',
    );
    config = parse(configMap?.data?.['relay.yaml'] ?? '{}') as typeof config;
    return config.hostname !== undefined;
  });
  assert.equal(config.hostname, `internal.${namespace.name}.svc.corp.internal`);
  const peers = config.delivery?.drainPeers ?? [];
  assert.ok(peers.length > 0, 'two replicas drain to each other');
  for (const peer of peers)
    assert.match(peer, new RegExp(`\\.${namespace.name}\\.svc\\.corp\\.internal:\\d+$`));
});
