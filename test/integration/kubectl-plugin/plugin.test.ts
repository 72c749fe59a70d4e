// `kubectl mailfleet` against the real kube-apiserver and kube-controller-manager: the operator in
// process renders a two-pod relay and a SenderDomain; the stand-in kubelet (test/kubelet/) runs the
// relay pods as local processes. The packaged executable is run through the real kubectl (which finds
// it on PATH) for `status`, `dns records` and `dns check` (against dnsmasq). The queue commands run
// with runCommand and the stand-in's exec, because the stand-in has no container to `kubectl exec`
// into: the real exec path (kubectl → apiserver → kubelet) is shown to reach the apiserver, which
// answers that the pod has no node, and is left to a real-node test.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import { operatorControllers } from '../../../operator/main.ts';
import { txtLookup } from '../../../operator/reconcile/sender-domain-dns-lookup.ts';
import { containerPortFor } from '../../../operator/render/relay-paths.ts';
import { parseCommandLine, type Command } from '../../../kubectl-plugin/args.ts';
import { apiCluster } from '../../../kubectl-plugin/cluster.ts';
import type { Outcome } from '../../../kubectl-plugin/queue.ts';
import { runCommand } from '../../../kubectl-plugin/run.ts';
import { zoneLines } from '../../../kubectl-plugin/zone.ts';
import { LocalKubelet } from '../../kubelet/local-kubelet.ts';
import { startDnsmasq, type Dnsmasq } from '../../support/dnsmasq.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { freeTcpPort } from '../../support/smtp-sink.ts';
import {
  admin,
  applyAsUser,
  eventually,
  privateNamespace,
  startRelayOperator,
  type OperatorUnderTest,
} from '../operator/smtp-relay-support.ts';

const run = promisify(execFile);
const { kubeconfigPath, binDir } = sharedControlPlane();
const pluginBin = new URL('../../../kubectl-plugin/bin', import.meta.url).pathname;
const relayName = 'plugin';
const domainName = 'plugin-example';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let ns = '';
let operator: OperatorUnderTest;
let kubelet: LocalKubelet;
let work = '';
let dnsmasq: Dnsmasq | undefined;

/** `kubectl mailfleet …` as a user types it: kubectl finds kubectl-mailfleet on PATH. */
async function kubectlMailfleet(...args: string[]): Promise<Outcome> {
  return run(join(binDir, 'kubectl'), ['mailfleet', ...args], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
      PATH: [pluginBin, binDir, process.env['PATH'] ?? ''].join(delimiter),
    },
  }).then(
    ({ stdout, stderr }) => ({ out: stdout, err: stderr, exitCode: 0 }),
    (error: unknown) => {
      const failed = error as { stdout: string; stderr: string; code: number };
      return { out: failed.stdout, err: failed.stderr, exitCode: failed.code };
    },
  );
}

/** A queue command through runCommand, its exec done by the stand-in kubelet. */
async function plugin(...argv: string[]): Promise<Outcome> {
  const parsed = parseCommandLine(['-n', ns, ...argv]);
  if (!parsed.ok) throw new Error(parsed.problem);
  return runCommand(parsed.command satisfies Command, {
    namespace: ns,
    cluster: apiCluster(admin),
    exec: async (_namespace, pod, args) => ({ pod, ...(await kubelet.exec(pod, args)) }),
    lookupTxt: (server) => txtLookup(server),
    now: Date.now,
  });
}

async function send(pod: string, count: number): Promise<void> {
  const port = kubelet.localPort(pod, containerPortFor(25));
  if (port === undefined) throw new Error(`pod ${pod} has no port 25`);
  for (let index = 0; index < count; index += 1) {
    let transcript = '';
    await eventually(`${pod} queues a message`, async () => {
      const answer = await run('swaks', [
        ...['--server', `127.0.0.1:${port}`, '--from', 'app@plugin.example', '--to', 'someone@example.net'],
        ...['--header', `Subject: plugin test ${index}`, '--body', 'queued for the plugin test'],
      ]).catch((error: unknown) => error as { stdout: string });
      transcript = answer.stdout;
      return /<- {2}250 2\.6\.0 /.test(transcript);
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; swaks said:\n${transcript}`);
    });
  }
}

function listedIds(outcome: Outcome): { pod: string; queueId: string }[] {
  return (JSON.parse(outcome.out) as { messages: { pod: string; queueId: string }[] }).messages.map(
    ({ pod, queueId }) => ({ pod, queueId }),
  );
}

before(async () => {
  namespace = await privateNamespace(admin, 'kubectl-plugin');
  ns = namespace.name;
  work = await mkdtemp(join(tmpdir(), 'mailfleet-plugin-'));
  operator = await startRelayOperator(ns, {}, operatorControllers);
  const closedPort = await freeTcpPort();
  await applyAsUser(smtpRelayResource, ns, {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name: relayName },
    spec: {
      replicas: 2,
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      clientNetworks: ['127.0.0.0/8'],
      // Nothing listens there: every message stays queued, deferred.
      delivery: {
        mode: 'Smarthost',
        smarthost: { host: '127.0.0.1', port: closedPort, tls: 'None' },
        retrySchedule: ['1h'],
      },
      queue: { storage: 'Ephemeral', size: '64Mi', drainTimeout: '5s' },
    },
  });
  await applyAsUser(senderDomainResource, ns, {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name: domainName },
    spec: {
      domain: 'plugin.example',
      relays: [relayName],
      dkim: { selector: 'mf', algorithms: ['Ed25519'] },
      spf: { mechanisms: ['ip4:192.0.2.25'] },
      dmarc: { policy: 'None' },
      // The operator would ask the system's resolvers; this test asks dnsmasq itself.
      dnsVerification: { enabled: false },
    },
  });
  kubelet = new LocalKubelet({
    client: admin,
    namespace: ns,
    podSelector: `app.kubernetes.io/instance=${relayName}`,
    workDir: join(work, 'kubelet'),
  });
  await kubelet.start();
  await eventually(
    'both relay pods are ready',
    async () => ((await apiCluster(admin).relay(ns, relayName)).status?.readyReplicas ?? 0) === 2,
    120_000,
  );
  await send(`${relayName}-0`, 2);
  await send(`${relayName}-1`, 1);
});

after(async () => {
  await kubelet.stop();
  await operator.operator.stop();
  await dnsmasq?.stop();
  await namespace.remove();
  await rm(work, { recursive: true, force: true });
});

test('kubectl mailfleet status (kubectl finds the plugin): relays, domains, conditions; the real kubectl exec reaches the apiserver', async () => {
  const outcome = await kubectlMailfleet('-n', ns, 'status');
  assert.equal(outcome.exitCode, 0, outcome.err);
  assert.match(
    outcome.out,
    /SMTP RELAYS\nNAME +READY +PODS .*\nplugin +True +2\/2 +\S+ +False +plugin\.example\n/,
  );
  assert.match(
    outcome.out,
    /SENDER DOMAINS\nNAME +DOMAIN +READY .*\nplugin-example +plugin\.example +\S+ +True +/,
  );
  // The stand-in kubelet is no node: the apiserver refuses the exec, and the plugin says which pod.
  assert.match(outcome.out, /plugin +plugin-0 +\? +\? +\?\n/);
  assert.match(outcome.out, /pod plugin-0: queue not read: .*does not have a host assigned/);
});

test('status with the stand-in exec: the queue depth of each pod', async () => {
  const outcome = await plugin('status');
  assert.equal(outcome.exitCode, 0, outcome.err);
  assert.match(
    outcome.out,
    /RELAY PODS\nRELAY +POD +QUEUED +DEFERRED +OLDEST\nplugin +plugin-0 +2 +\d +\S+\nplugin +plugin-1 +1 +\d +\S+\n/,
  );
});

test('queue list, retry, delete across the pods', async () => {
  const listed = await plugin('queue', 'list', relayName);
  assert.equal(listed.exitCode, 0, listed.err);
  assert.equal(listed.out.trimEnd().split('\n').length, 4, listed.out);
  assert.match(
    listed.out,
    /^plugin-0 +\S+ +app@plugin\.example +\S+ +\d+ +someone@example\.net \((pending|deferred), \d\)/m,
  );
  const ids = listedIds(await plugin('queue', 'list', relayName, '-o', 'json'));
  assert.deepEqual(
    ids.map(({ pod }) => pod),
    ['plugin-0', 'plugin-0', 'plugin-1'],
  );
  const onPod1 = ids.find(({ pod }) => pod === 'plugin-1')?.queueId ?? '';
  const retried = await plugin('queue', 'retry', relayName, onPod1);
  assert.deepEqual(retried, { out: `${onPod1} retried on pod plugin-1\n`, err: '', exitCode: 0 });
  const all = await plugin('queue', 'retry', relayName, '--all');
  assert.equal(all.exitCode, 0, all.err);
  assert.match(all.out, /plugin-0 +2\nplugin-1 +1\n3 message\(s\) set to retry now\n$/);

  const onPod0 = ids.find(({ pod }) => pod === 'plugin-0')?.queueId ?? '';
  assert.deepEqual(await plugin('queue', 'delete', relayName, onPod0), {
    out: `${onPod0} deleted on pod plugin-0\n`,
    err: '',
    exitCode: 0,
  });
  const again = await plugin('queue', 'delete', relayName, onPod0);
  assert.equal(again.exitCode, 1);
  assert.equal(again.err, `queue id ${onPod0} is in no pod of SmtpRelay ${relayName} (plugin-0, plugin-1)\n`);
  assert.deepEqual(
    listedIds(await plugin('queue', 'list', relayName, '-o', 'json')).map(({ pod }) => pod),
    ['plugin-0', 'plugin-1'],
  );
});

test('queue drain --pod: what the pod cannot deliver by the deadline goes to its peer', async () => {
  const drained = await plugin('queue', 'drain', relayName, '--pod', 'plugin-0', '--deadline', '0');
  assert.deepEqual(drained, {
    out: 'pod plugin-0 drained: 1 handed to peers, 0 still queued\n',
    err: '',
    exitCode: 0,
  });
  assert.deepEqual(
    listedIds(await plugin('queue', 'list', relayName, '-o', 'json')).map(({ pod }) => pod),
    ['plugin-1', 'plugin-1'],
  );
  const wrongPod = await plugin('queue', 'drain', relayName, '--pod', 'other-0');
  assert.equal(wrongPod.err, 'pod other-0 is not a running pod of SmtpRelay plugin (plugin-0, plugin-1)\n');
});

test('kubectl mailfleet dns records, then dns check against dnsmasq: missing, different, then published', async () => {
  const domain = await apiCluster(admin).domain(ns, domainName);
  const records = domain.status?.dnsRecords ?? [];
  assert.deepEqual(
    records.map((record) => record.purpose),
    ['DKIM', 'SPF', 'DMARC'],
  );
  const zone = await kubectlMailfleet('-n', ns, 'dns', 'records', domainName);
  assert.deepEqual(zone, { out: zoneLines(records), err: '', exitCode: 0 });
  assert.match(zone.out, /^plugin\.example\.\tIN\tTXT\t"v=spf1 ip4:192\.0\.2\.25 ~all"\t; SPF$/m);

  const port = await freeTcpPort();
  const serve = (txt: { name: string; text: string }[]) =>
    startDnsmasq({ localDomains: ['plugin.example'], txt }, { port });
  const [dkim, spf, dmarc] = records;
  if (dkim === undefined || spf === undefined || dmarc === undefined) throw new Error('three records');
  dnsmasq = await serve([
    { name: spf.name, text: 'v=spf1 -all' },
    { name: dmarc.name, text: dmarc.value },
  ]);
  const partly = await kubectlMailfleet('-n', ns, 'dns', 'check', domainName, '--dns-server', dnsmasq.server);
  assert.equal(partly.exitCode, 1);
  assert.match(partly.out, /DKIM +TXT +mf\._domainkey\.plugin\.example +MISSING\n/);
  assert.match(partly.out, /SPF +TXT +plugin\.example +DIFFERENT\n/);
  assert.match(partly.out, /DMARC +TXT +_dmarc\.plugin\.example +published\n/);
  assert.match(
    partly.err,
    /SPF TXT plugin\.example is "v=spf1 -all", expected "v=spf1 ip4:192\.0\.2\.25 ~all"/,
  );

  await dnsmasq.stop();
  dnsmasq = await serve(records.map((record) => ({ name: record.name, text: record.value })));
  const published = await kubectlMailfleet(
    '-n',
    ns,
    'dns',
    'check',
    domainName,
    '--dns-server',
    dnsmasq.server,
  );
  assert.equal(published.exitCode, 0, published.err);
  assert.equal(published.out.match(/ published\n/g)?.length, 3, published.out);

  const unknown = await kubectlMailfleet('-n', ns, 'dns', 'records', 'nope');
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.err, /kubectl mailfleet: get .*senderdomains\/nope: 404 NotFound/);
});
