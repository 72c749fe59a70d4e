// The operator process, configured exactly as the chart's Deployment configures it and authenticated
// as the chart's ServiceAccount (a token from the TokenRequest API, bound to a Pod made from the
// Deployment's pod template, as the kubelet's projected token is), runs on the shared control plane
// under nothing but the chart's RBAC and its leader fence (an admission policy, switched on): its caches sync
// (every list and watch it makes is allowed), it takes its Lease, nothing it does is forbidden or
// fenced, and on SIGTERM it releases the Lease and exits 0.
// Its HTTPS metrics (case 38, on by default) refuse a scrape without a token (401), with a token of a
// ServiceAccount lacking the chart's metrics-reader ClusterRole (403), and serve one that has it.
// As reconcilers land in the operator, their watches and writes are checked here too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../support/control-plane.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { only, parseManifests, renderText, repoRoot } from '../../unit/chart/helm.ts';
import { kubectl, kubectlOk, restrictedNamespace, serverSideApply } from './kubectl.ts';
import { scrapeStatus } from './metrics-scrape.ts';

const controlPlane = sharedControlPlane();
const namespace = `chart-operator-${randomBytes(3).toString('hex')}`;
const workDir = await mkdtemp(join(tmpdir(), 'mailfleet-chart-operator-'));
const cleanups: (() => Promise<unknown>)[] = [() => rm(workDir, { recursive: true, force: true })];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Container {
  args: string[];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
}

async function leaseHolder(name: string): Promise<string> {
  const result = await kubectl(controlPlane, [
    '-n',
    namespace,
    'get',
    'lease',
    name,
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]);
  return result.code === 0 ? result.stdout.trim() : '';
}

test('the operator runs as the chart configures it, with only the chart RBAC', async () => {
  cleanups.push(await restrictedNamespace(controlPlane, namespace));
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const manifests = await renderText({
    release: namespace,
    namespace,
    set: [
      `operator.httpPort=${httpPort}`,
      `metrics.port=${metricsPort}`,
      'operator.extraArgs={--http-host=127.0.0.1}',
      // The leader fence (off by default): the leader's writes must pass it.
      'operator.leaderElection.apiServerFence=true',
    ],
  });
  cleanups.push(() =>
    kubectl(controlPlane, ['delete', '--wait=false', '--ignore-not-found', '-f', '-'], manifests),
  );
  await serverSideApply(controlPlane, manifests, 'apply');
  const objects = parseManifests(manifests);
  const serviceAccount = only(objects, 'ServiceAccount').metadata.name;
  // The DNSEndpoints of SenderDomains published through external-dns, asked of the authorizer by a
  // SubjectAccessReview (the CRD is not installed here; the bindings take a moment to be seen).
  for (const verb of ['get', 'create', 'patch', 'delete']) {
    const review = JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${namespace}:${serviceAccount}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
        resourceAttributes: { group: 'externaldns.k8s.io', resource: 'dnsendpoints', verb, namespace },
      },
    });
    await until(`the chart RBAC allows ${verb} on dnsendpoints`, async () =>
      (await kubectlOk(controlPlane, ['create', '-f', '-', '-o', 'jsonpath={.status.allowed}'], review)) ===
      'true'
        ? true
        : undefined,
    );
  }
  const deployment = only(objects, 'Deployment');
  const [container] = (deployment['spec'] as { template: { spec: { containers: Container[] } } }).template
    .spec.containers;
  assert.ok(container);

  // The pod the token is bound to: never scheduled (there is no node), it only has to exist.
  const podName = `${namespace}-operator-0`;
  const podTemplate = (deployment['spec'] as { template: { spec: object } }).template;
  await kubectlOk(
    controlPlane,
    ['-n', namespace, 'create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName }, spec: podTemplate.spec }),
  );
  const token = (
    await kubectlOk(controlPlane, [
      '-n',
      namespace,
      'create',
      'token',
      serviceAccount,
      '--bound-object-kind=Pod',
      `--bound-object-name=${podName}`,
    ])
  ).trim();
  const kubeconfigPath = join(workDir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: { server: controlPlane.server, 'certificate-authority': controlPlane.caPath },
        },
      ],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'test', user: serviceAccount, namespace } }],
      'current-context': 'operator',
    }),
    { mode: 0o600 },
  );

  const env = {
    PATH: process.env['PATH'] ?? '',
    KUBECONFIG: kubeconfigPath,
    POD_NAME: podName,
    POD_NAMESPACE: namespace,
  };
  const args = container.args.map((arg) => arg.replaceAll('$(POD_NAMESPACE)', namespace));
  const operator = spawn(process.execPath, [join(repoRoot, 'operator', 'main.ts'), ...args], { env });
  let output = '';
  operator.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  operator.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => operator.on('exit', resolve));
  cleanups.push(async () => {
    if (operator.exitCode === null) operator.kill('SIGKILL');
    await exited;
  });

  await until('/readyz answers 200', async () => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    return response.ok ? true : undefined;
  });
  const leaseName = /--leader-election-name=(\S+)/.exec(args.join(' '))?.[1] ?? '';
  await until('the operator holds its Lease', async () =>
    (await leaseHolder(leaseName)) === podName ? true : undefined,
  );
  // The chart's leader fence is in force: a write of the ServiceAccount with a token bound to no pod
  // (a server dry run) is refused.
  const unboundToken = (
    await kubectlOk(controlPlane, ['-n', namespace, 'create', 'token', serviceAccount])
  ).trim();
  await until('the leader fence refuses a token bound to no pod', async () => {
    const refused = await kubectl(controlPlane, [
      `--token=${unboundToken}`,
      '-n',
      namespace,
      'create',
      'configmap',
      'fence-probe',
      '--dry-run=server',
    ]);
    return refused.code !== 0 &&
      refused.stderr.includes('write refused by the leader fence: the token names no pod')
      ? true
      : undefined;
  });

  // The SenderDomain reconciler under the chart RBAC: it creates the DKIM Secret (apply), writes
  // the status subresource and records an Event.
  await kubectlOk(
    controlPlane,
    ['-n', namespace, 'apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'mailfleet.dev/v1alpha1',
      kind: 'SenderDomain',
      metadata: { name: 'rbac-example' },
      spec: { domain: 'rbac.example', dnsVerification: { enabled: false } },
    }),
  );
  await until('the SenderDomain gets its DKIM Secret and DkimKeyReady=True', async () => {
    const keys = await kubectl(controlPlane, [
      '-n',
      namespace,
      'get',
      'secret',
      'rbac-example-dkim',
      '-o',
      'name',
    ]);
    const ready = await kubectl(controlPlane, [
      '-n',
      namespace,
      'get',
      'senderdomain',
      'rbac-example',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="DkimKeyReady")].status}',
    ]);
    return keys.code === 0 && ready.stdout.trim() === 'True' ? true : undefined;
  });
  await until('the DkimKeyGenerated Event', async () => {
    const events = await kubectl(controlPlane, [
      '-n',
      namespace,
      'get',
      'events',
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    return events.stdout.includes('DkimKeyGenerated') ? true : undefined;
  });

  // The SmtpRelay reconciler under the chart RBAC: it applies the StatefulSet, Services,
  // ConfigMap, its own Secret and a PDB, writes the status, records a Warning Event for the missing
  // users Secret, deletes the PDB when scaled to one replica and switches the Service's type. The
  // namespace enforces the restricted Pod Security level, so the StatefulSet's pods being admitted
  // checks the pod template.
  const relay = (replicas: number, service: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: 'mailfleet.dev/v1alpha1',
      kind: 'SmtpRelay',
      metadata: { name: 'rbac-relay' },
      spec: {
        replicas,
        listeners: [{ name: 'submission', port: 587 }],
        tls: { secretRef: { name: 'rbac-relay-tls' } },
        auth: { usersSecretRef: { name: 'rbac-relay-users' } },
        senderDomainSelector: { matchLabels: { none: 'none' } },
        service,
      },
    });
  await kubectlOk(controlPlane, ['-n', namespace, 'apply', '-f', '-'], relay(2));
  const get = (kind: string, name: string, path = '{.metadata.name}') =>
    kubectl(controlPlane, ['-n', namespace, 'get', kind, name, '-o', `jsonpath=${path}`]);
  await until('the relay objects exist and the status names the missing Secret', async () => {
    const found = await Promise.all([
      get('statefulset', 'rbac-relay'),
      get('service', 'rbac-relay-peers'),
      get('configmap', 'rbac-relay-config'),
      get('secret', 'rbac-relay-relay-secrets'),
      get('poddisruptionbudget', 'rbac-relay'),
    ]);
    const ready = await get('smtprelay', 'rbac-relay', '{.status.conditions[?(@.type=="Ready")].reason}');
    return found.every((result) => result.code === 0) && ready.stdout.trim() === 'SecretNotFound'
      ? true
      : undefined;
  });
  await until('the SecretNotFound Warning Event', async () => {
    const events = await kubectl(controlPlane, [
      '-n',
      namespace,
      'get',
      'events',
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    return events.stdout.includes('SecretNotFound') ? true : undefined;
  });
  await until('the relay pods pass the restricted Pod Security admission', async () => {
    const pods = await kubectl(controlPlane, [
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/instance=rbac-relay',
      '-o',
      'name',
    ]);
    return pods.stdout.trim().split('\n').filter(Boolean).length === 2 ? true : undefined;
  });
  await kubectlOk(controlPlane, ['-n', namespace, 'apply', '-f', '-'], relay(1));
  await until('the PDB is deleted at one replica', async () =>
    (await get('poddisruptionbudget', 'rbac-relay')).code !== 0 ? true : undefined,
  );
  // Exposure under the chart RBAC: each switch of the client Service's type is one apply (patch).
  const clientService = async () =>
    (await get('service', 'rbac-relay', '{.spec.type} {.spec.ports[0].nodePort}')).stdout.trim();
  await kubectlOk(controlPlane, ['-n', namespace, 'apply', '-f', '-'], relay(1, { type: 'LoadBalancer' }));
  await until('the client Service is a LoadBalancer with a node port', async () =>
    /^LoadBalancer \d+$/.test(await clientService()) ? true : undefined,
  );
  await kubectlOk(controlPlane, ['-n', namespace, 'apply', '-f', '-'], relay(1, { type: 'ClusterIP' }));
  await until('the client Service is ClusterIP without a node port', async () =>
    (await clientService()) === 'ClusterIP' ? true : undefined,
  );

  // Case 38: the metrics endpoint asks the API server, with the chart's RBAC, about each scraper.
  const reader = only(
    objects.filter((object) => object.metadata.name.endsWith('-metrics-reader')),
    'ClusterRole',
  ).metadata.name;
  for (const account of ['scraper', 'stranger'])
    await kubectlOk(controlPlane, ['-n', namespace, 'create', 'serviceaccount', account]);
  await kubectlOk(controlPlane, [
    'create',
    'clusterrolebinding',
    `${namespace}-scraper`,
    `--clusterrole=${reader}`,
    `--serviceaccount=${namespace}:scraper`,
  ]);
  cleanups.push(() => kubectl(controlPlane, ['delete', 'clusterrolebinding', `${namespace}-scraper`]));
  const tokenOf = async (account: string) =>
    (await kubectlOk(controlPlane, ['-n', namespace, 'create', 'token', account])).trim();
  assert.equal((await fetch(`http://127.0.0.1:${httpPort}/metrics`)).status, 404, 'no plain metrics');
  assert.equal(await scrapeStatus(metricsPort, undefined), 401, 'no token');
  assert.equal(await scrapeStatus(metricsPort, 'not-a-token'), 401, 'a token the API server rejects');
  assert.equal(await scrapeStatus(metricsPort, await tokenOf('stranger')), 403, 'no metrics-reader role');
  const scraperToken = await tokenOf('scraper');
  await until('the metrics reader scrapes (RBAC caches catch up)', async () =>
    (await scrapeStatus(metricsPort, scraperToken)) === 200 ? true : undefined,
  );

  operator.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.notEqual(await leaseHolder(leaseName), podName, 'the Lease is released on SIGTERM');
  // An RBAC denial reads `... is forbidden: User "<the service account>" cannot <verb> ...`. Other
  // 403s are not about RBAC: on the shared control plane other tests' namespaces are being deleted
  // ("unable to create new content in namespace ... because it is being terminated").
  assert.doesNotMatch(output, /forbidden: User "[^"]*" cannot/i);
  assert.doesNotMatch(output, /write refused/, 'the leader was never fenced');
  assert.ok(output.includes('"workers started"'), 'the operator worked under the chart RBAC');
});
