// operator/main.ts as a process: it serves /healthz, /readyz and /metrics, takes the lease, logs
// JSON lines, stops on SIGTERM with exit code 0 after releasing the lease, and refuses an invalid
// configuration with exit code 2 and messages that name the flag.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { coreResources, objectPath } from '../../../operator/kube/resource.ts';
import { metricNames } from '../../../operator/metrics.ts';
import type { LeaseSpec } from '../../../operator/kube/lease.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';

const mainPath = new URL('../../../operator/main.ts', import.meta.url).pathname;
const { kubeconfigPath } = sharedControlPlane();
const admin = clientFor(kubeconfigPath);
let namespace: Awaited<ReturnType<typeof privateNamespace>>;

before(async () => {
  namespace = await privateNamespace(admin, 'main');
});
after(async () => {
  await namespace.remove();
});

/** `promtool check metrics` on the exposition text: naming and help conventions. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

function run(args: string[]) {
  const child = spawn(process.execPath, [mainPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output, exited };
}

test('main serves health and metrics, leads, and stops cleanly on SIGTERM', async () => {
  const { child, output, exited } = run([
    `--kubeconfig=${kubeconfigPath}`,
    '--http-host=127.0.0.1',
    '--http-port=0',
    `--leader-election-namespace=${namespace.name}`,
    '--leader-election-identity=main-test',
    '--lease-duration=3',
    '--renew-deadline=2',
    '--retry-period=0.25',
    // Only its own namespace: the shared control plane holds other tests' relays.
    `--namespaces=${namespace.name}`,
  ]);
  try {
    await eventually('the operator logs its start', () => output.stdout.includes('operator starting'));
    const lines = output.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; httpPort?: number });
    const port = lines.find((line) => line.msg === 'operator starting')?.httpPort;
    assert.ok(port);
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, text: await response.text() };
    };
    assert.equal((await get('/healthz')).status, 200);
    await eventually('ready', async () => (await get('/readyz')).status === 200);
    await eventually('leading', async () =>
      (await get('/metrics')).text.includes('mailfleet_operator_leader 1'),
    );
    assert.equal((await get('/nope')).status, 404);
    // prom-client's default nodejs_active_*_total gauges draw promtool's naming lint; ours must not.
    const lint = await promtoolCheck((await get('/metrics')).text);
    const declared = Object.values(metricNames);
    const ourProblems = lint.output
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('mailfleet_operator_nodejs_active_'));
    assert.deepEqual(ourProblems, [], `promtool check metrics on ${declared.join(', ')}`);

    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, output.stderr);
    assert.match(output.stdout, /"msg":"operator stopped"/);
    const lease = await admin.request<{ spec?: LeaseSpec }>({
      verb: 'get',
      path: objectPath(coreResources.lease, { namespace: namespace.name, name: 'mailfleet-operator' }),
    });
    assert.equal(lease.spec?.holderIdentity, '');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
});

test('an invalid configuration exits 2 naming every bad flag', async () => {
  const { output, exited } = run(['--log-level=loud', '--http-port=-1']);
  const [code] = await exited;
  assert.equal(code, 2);
  assert.match(output.stderr, /--log-level \(env MAILFLEET_LOG_LEVEL\): "loud"/);
  assert.match(output.stderr, /--http-port \(env MAILFLEET_HTTP_PORT\): "-1"/);
});
