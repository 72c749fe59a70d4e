// The operator as deployed (two `node operator/main.ts` processes with leader election, both
// reconcilers) on a private control plane: only the leader reconciles; a kill -9 of the leader
// hands over within the lease duration and the standby converges a change made meanwhile; the
// kube-apiserver restarting mid-test is ridden out and a later change still converges.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { coreResources, objectPath, type KubeObject } from '../../../operator/kube/resource.ts';
import { startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { clientFor, eventually, privateNamespace } from '../operator-kube/support.ts';

const mainPath = new URL('../../../operator/main.ts', import.meta.url).pathname;
const examples = new URL('../../../examples/', import.meta.url);
const readExample = async (file: string) =>
  parse(await readFile(new URL(file, examples), 'utf8')) as KubeObject;
const leaseSeconds = 3;
let controlPlane: ControlPlane;
let admin: KubeClient;
let ns: string;

interface OperatorProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  output(): string;
  port(): Promise<number>;
}

function startOperatorProcess(identity: string): OperatorProcess {
  const child = spawn(
    process.execPath,
    [
      mainPath,
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      `--namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      `--leader-election-identity=${identity}`,
      `--lease-duration=${leaseSeconds}`,
      '--renew-deadline=2',
      '--retry-period=0.25',
      '--relay-image=relay:failover',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return {
    identity,
    child,
    output: () => output,
    async port() {
      let found: number | undefined;
      await eventually(`${identity} logs its port`, () => {
        const line = output.split('\n').find((entry) => entry.includes('"operator starting"'));
        found = line === undefined ? undefined : (JSON.parse(line) as { httpPort: number }).httpPort;
        return found !== undefined;
      });
      return found ?? 0;
    },
  };
}

async function metric(operator: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${await operator.port()}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function get<T extends KubeObject>(path: string): Promise<T | undefined> {
  return admin.request<T>({ verb: 'get', path }).catch(() => undefined);
}

const statefulSetPath = () => objectPath(coreResources.statefulSet, { namespace: ns, name: 'internal' });
const configMapPath = () => objectPath(coreResources.configMap, { namespace: ns, name: 'internal-config' });

async function patchRelay(spec: Record<string, unknown>): Promise<void> {
  await admin.request({
    verb: 'patch',
    path: objectPath(smtpRelayResource, { namespace: ns, name: 'internal' }),
    contentType: 'application/merge-patch+json',
    body: { spec },
  });
}

const operators: OperatorProcess[] = [];

before(async () => {
  controlPlane = await startControlPlane();
  admin = clientFor(controlPlane.kubeconfigPath);
  ns = (await privateNamespace(admin, 'failover')).name;
  for (const [resource, file] of [
    [smtpRelayResource, 'smtprelay-minimal.yaml'],
    [senderDomainResource, 'senderdomain.yaml'],
  ] as const) {
    const example = await readExample(file);
    await admin.request({
      verb: 'apply',
      path: objectPath(resource, { namespace: ns, name: example.metadata?.name ?? '' }),
      query: { fieldManager: 'failover-test', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: { ...example, metadata: { ...example.metadata, namespace: ns } },
    });
  }
});

after(async () => {
  for (const operator of operators) {
    if (operator.child.exitCode === null && operator.child.signalCode === null) {
      const exited = once(operator.child, 'exit');
      operator.child.kill('SIGKILL');
      await exited;
    }
  }
  await controlPlane.stop();
});

test('two replicas: only the leader reconciles; kill -9 of the leader hands over and a change converges', async (t) => {
  const first = startOperatorProcess('failover-a');
  operators.push(first);
  await eventually(
    'the first replica leads',
    async () => (await metric(first, 'mailfleet_operator_leader')) === 1,
  );
  const second = startOperatorProcess('failover-b');
  operators.push(second);
  await second.port();
  await eventually('the relay is rendered', async () => (await get(configMapPath())) !== undefined, 60_000);
  await eventually(
    'the SenderDomain has its keys',
    async () =>
      (await get(objectPath(coreResources.secret, { namespace: ns, name: 'example-com-dkim' }))) !==
      undefined,
    60_000,
  );
  assert.equal(await metric(second, 'mailfleet_operator_leader'), 0);
  assert.equal(
    await metric(second, 'mailfleet_operator_reconcile_total'),
    0,
    'the standby reconciles nothing',
  );
  assert.ok((await metric(first, 'mailfleet_operator_reconcile_total')) > 0);

  first.child.kill('SIGKILL');
  const killedAt = Date.now();
  await patchRelay({ replicas: 3 });
  await eventually(
    'the standby takes the lease and scales the StatefulSet',
    async () =>
      (await get<{ spec: { replicas: number } } & KubeObject>(statefulSetPath()))?.spec.replicas === 3,
    30_000,
  );
  const handOverMs = Date.now() - killedAt;
  t.diagnostic(
    `change converged ${handOverMs} ms after kill -9 of the leader (lease ${leaseSeconds * 1000} ms)`,
  );
  assert.equal(await metric(second, 'mailfleet_operator_leader'), 1);
  assert.ok(handOverMs < (leaseSeconds + 10) * 1000);
});

test("case 27: no DKIM private key in the operators' logs, in Events or in the SenderDomain status", async () => {
  const secret = await get<{ data?: Record<string, string> } & KubeObject>(
    objectPath(coreResources.secret, { namespace: ns, name: 'example-com-dkim' }),
  );
  const pems = Object.values(secret?.data ?? {}).map((value) => Buffer.from(value, 'base64').toString());
  assert.ok(pems.length > 0 && pems.every((pem) => pem.includes('PRIVATE KEY')));
  // A stretch of each key's body, as it would appear in any log line or message that leaked it.
  const fragments = pems.map((pem) => pem.split('\n')[1]?.slice(0, 40) ?? '');
  const events = await admin.request<{ items: { message?: string }[] }>({
    verb: 'list',
    path: `/api/v1/namespaces/${ns}/events`,
  });
  const domain = await get(objectPath(senderDomainResource, { namespace: ns, name: 'example-com' }));
  const places = {
    'operator logs': operators.map((operator) => operator.output()).join('\n'),
    events: events.items.map((event) => event.message ?? '').join('\n'),
    'SenderDomain status': JSON.stringify(domain?.['status'] ?? {}),
  };
  assert.ok(events.items.length > 0, 'the operator recorded Events');
  for (const [place, text] of Object.entries(places)) {
    assert.doesNotMatch(text, /PRIVATE KEY/, place);
    for (const fragment of fragments)
      assert.equal(text.includes(fragment), false, `${place} holds key material`);
  }
});

test('the kube-apiserver restarts mid-test: the operator rides it out and converges a later change', async (t) => {
  const leader = operators.find(
    (operator) => operator.child.exitCode === null && operator.child.signalCode === null,
  );
  assert.ok(leader);
  await controlPlane.stopApiServer();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await controlPlane.startApiServer();
  const restartedAt = Date.now();
  await patchRelay({ clientNetworks: ['10.244.0.0/16', '192.0.2.0/24'] });
  await eventually(
    'the rendered config follows the change',
    async () => {
      const configMap = await get<{ data?: Record<string, string> } & KubeObject>(configMapPath());
      const config = parse(configMap?.data?.['relay.yaml'] ?? '{}') as {
        policy?: { allowedNetworks?: string[] };
      };
      return config.policy?.allowedNetworks?.includes('192.0.2.0/24') === true;
    },
    60_000,
  );
  t.diagnostic(`converged ${Date.now() - restartedAt} ms after the apiserver came back`);
  assert.equal(leader.child.exitCode, null, 'the operator never exited');
});
