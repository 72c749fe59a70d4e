// `make demo`: mailfleet end to end on this machine, no cluster needed. A real etcd, kube-apiserver
// and kube-controller-manager on loopback; the operator as a process; examples/demo/ applied; the
// relay pods the operator declares run by the local kubelet stand-in (test/kubelet/) as relay
// processes fed from the ConfigMap and Secrets the operator rendered; a message sent with swaks
// (STARTTLS + AUTH) arrives at Postfix's smtp-sink with DKIM signatures that dkimpy verifies against
// the records the SenderDomain lists, served by a local dnsmasq. Ctrl-C stops everything.
// MAILFLEET_DEMO_EXIT=1 ends after the walk-through instead of waiting (the e2e test uses it).
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import type { SenderDomain, SmtpRelay } from '../operator/api/types.generated.ts';
import { KubeClient } from '../operator/kube/client.ts';
import { containerPortFor, httpPort as relayHttpPort } from '../operator/render/relay-paths.ts';
import { LocalKubelet } from '../test/kubelet/local-kubelet.ts';
import { startControlPlane, type ControlPlane } from '../test/support/control-plane.ts';
import { verifyWithDkimpy } from '../test/support/dkimpy.ts';
import { startDnsmasq, type Dnsmasq } from '../test/support/dnsmasq.ts';
import { freeTcpPort, startSmtpSink, type SmtpSink } from '../test/support/smtp-sink.ts';
import { makeTestCertificates } from '../test/support/tls.ts';

const run = promisify(execFile);
const repoRoot = new URL('..', import.meta.url).pathname;
const namespace = 'mailfleet-demo';
const exitWhenDone = process.env['MAILFLEET_DEMO_EXIT'] === '1';
const started = Date.now();

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
function step(text: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`\n${bold(`[${seconds}s] ${text}`)}\n`);
}
const say = (text: string) => process.stdout.write(`  ${text.replace(/\n/g, '\n  ')}\n`);

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup(): Promise<void> {
  for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
  cleanups.length = 0;
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs / 1000} s: ${what}`);
    await sleep(250);
  }
}

function condition(
  object: { status?: { conditions?: readonly { type: string; status: string }[] } },
  type: string,
) {
  return object.status?.conditions?.find((candidate) => candidate.type === type)?.status;
}

/** How many times each running pod's relay logged a reload. */
async function relayReloads(kubelet: LocalKubelet): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const pod of kubelet.runningPods()) {
    const log = await readFile(kubelet.logPath(pod), 'utf8').catch(() => '');
    counts.set(pod, log.split('\n').filter((line) => line.includes('"event":"reloaded"')).length);
  }
  return counts;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mailfleet-demo-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));

  step(
    'Starting a local control plane: etcd, kube-apiserver, kube-controller-manager (built from source, cached)',
  );
  const controlPlane: ControlPlane = await startControlPlane({ controllerManager: true });
  cleanups.push(() => controlPlane.stop());
  say(`apiserver ${controlPlane.server}; CRDs from crds/ installed and served`);
  const kubectl = (...args: string[]) =>
    run(join(controlPlane.binDir, 'kubectl'), [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args], {
      maxBuffer: 8 << 20,
    }).then(({ stdout }) => stdout);
  const config = new KubeConfig();
  config.loadFromFile(controlPlane.kubeconfigPath);
  const client = new KubeClient(config);

  step('Starting the things a cluster would talk to: a smarthost (smtp-sink) and a DNS server (dnsmasq)');
  const sink: SmtpSink = await startSmtpSink();
  cleanups.push(() => sink.stop());
  const dnsPort = await freeTcpPort();
  let dns: Dnsmasq = await startDnsmasq({ localDomains: ['demo.example'] }, { port: dnsPort });
  cleanups.push(() => dns.stop());
  say(
    `smtp-sink on 127.0.0.1:${sink.port}; dnsmasq on 127.0.0.1:${dnsPort}, nothing published for demo.example yet`,
  );

  step('Starting the operator (node operator/main.ts)');
  const operatorLog = join(work, 'operator.log');
  const operator = spawn(
    process.execPath,
    [
      join(repoRoot, 'operator/main.ts'),
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--leader-elect=false',
      '--http-host=127.0.0.1',
      '--http-port=0',
      `--dns-resolver=127.0.0.1:${dnsPort}`,
      `--namespaces=${namespace}`,
      '--relay-image=mailfleet-relay:demo',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let operatorOutput = '';
  const operatorLogFile = createWriteStream(operatorLog);
  for (const stream of [operator.stdout, operator.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      operatorOutput = `${operatorOutput}${chunk}`.slice(-1_000_000);
      operatorLogFile.write(chunk);
    });
  }
  cleanups.push(async () => {
    if (operator.exitCode !== null) return;
    const exited = new Promise((resolve) => operator.once('exit', resolve));
    operator.kill('SIGTERM');
    await exited;
  });
  const operatorPort = await eventually(
    'the operator logs its HTTP port',
    () => {
      const line = operatorOutput.split('\n').find((entry) => entry.includes('"operator starting"'));
      return Promise.resolve(
        line === undefined ? undefined : (JSON.parse(line) as { httpPort: number }).httpPort,
      );
    },
    30_000,
  );
  say(`operator up; its /metrics, /healthz and /readyz on 127.0.0.1:${operatorPort}`);

  step(
    `Creating namespace ${namespace} and the Secrets the relay references (a TLS certificate, AUTH users)`,
  );
  await kubectl('create', 'namespace', namespace);
  const certificates = await makeTestCertificates(['demo.mailfleet-demo.svc', 'localhost'], work);
  await kubectl(
    '-n',
    namespace,
    'create',
    'secret',
    'tls',
    'demo-tls',
    `--cert=${certificates.certFile}`,
    `--key=${certificates.keyFile}`,
  );
  const password = `demo-${Math.random().toString(36).slice(2, 10)}`;
  const usersFile = join(work, 'users');
  await writeFile(usersFile, `app:${bcrypt.hashSync(password, 10)}\n`);
  await kubectl(
    '-n',
    namespace,
    'create',
    'secret',
    'generic',
    'demo-smtp-users',
    `--from-file=users=${usersFile}`,
  );
  say('secret/demo-tls (kubernetes.io/tls) and secret/demo-smtp-users (user "app", bcrypt hash) created');

  step('Applying examples/demo/smtprelay.yaml and examples/demo/senderdomain.yaml');
  const relay = parse(await readFile(join(repoRoot, 'examples/demo/smtprelay.yaml'), 'utf8')) as SmtpRelay;
  const smarthost = relay.spec.delivery.smarthost;
  if (smarthost === undefined) throw new Error('examples/demo/smtprelay.yaml: no smarthost');
  const relayDocument = {
    ...relay,
    spec: {
      ...relay.spec,
      delivery: { ...relay.spec.delivery, smarthost: { ...smarthost, port: sink.port } },
    },
  };
  const relayFile = join(work, 'smtprelay.json');
  await writeFile(relayFile, JSON.stringify(relayDocument));
  say(`(spec.delivery.smarthost.port set to the sink's port, ${sink.port})`);
  say(
    (
      await kubectl(
        '-n',
        namespace,
        'apply',
        '--server-side',
        '-f',
        relayFile,
        '-f',
        join(repoRoot, 'examples/demo/senderdomain.yaml'),
      )
    ).trim(),
  );

  step(
    'The operator renders the fleet; the local kubelet stand-in runs the pods the StatefulSet controller creates',
  );
  const kubelet = new LocalKubelet({
    client,
    namespace,
    podSelector: 'app.kubernetes.io/instance=demo',
    workDir: join(work, 'kubelet'),
    onEvent: (event, pod, detail) => {
      say(`kubelet: ${pod} ${event}${detail === undefined ? '' : ` — ${detail}`}`);
    },
  });
  await kubelet.start();
  cleanups.push(() => kubelet.stop());

  const getRelay = async () =>
    JSON.parse(await kubectl('-n', namespace, 'get', 'smtprelay', 'demo', '-o', 'json')) as SmtpRelay;
  const getDomain = async () =>
    JSON.parse(
      await kubectl('-n', namespace, 'get', 'senderdomain', 'demo-example', '-o', 'json'),
    ) as SenderDomain;

  step('Waiting for the DKIM keys and for both relay pods to be Ready');
  const domain = await eventually('SenderDomain DkimKeyReady', async () => {
    const current = await getDomain();
    return condition(current, 'DkimKeyReady') === 'True' && (current.status?.dnsRecords?.length ?? 0) > 0
      ? current
      : undefined;
  });
  await eventually(
    'SmtpRelay Ready',
    async () => (condition(await getRelay(), 'Ready') === 'True' ? true : undefined),
    120_000,
  );
  say(
    (
      await kubectl(
        '-n',
        namespace,
        'get',
        'statefulsets,services,configmaps,secrets,poddisruptionbudgets,pods',
      )
    ).trim(),
  );

  step('Publishing the DNS records the SenderDomain asks for (status.dnsRecords) on the local dnsmasq');
  const records = domain.status?.dnsRecords ?? [];
  for (const record of records)
    say(
      `${record.type} ${record.name}  "${record.value.length > 90 ? `${record.value.slice(0, 87)}...` : record.value}"`,
    );
  await dns.stop();
  dns = await startDnsmasq(
    {
      localDomains: ['demo.example'],
      txt: records
        .filter((record) => record.type === 'TXT')
        .map((record) => ({ name: record.name, text: record.value })),
    },
    { port: dnsPort },
  );
  // The operator re-checks on spec.dnsVerification.interval, and at once after any spec change.
  say('kubectl patch: spec.dnsVerification.interval 1m → 10m (a spec change makes the operator check now)');
  await kubectl(
    '-n',
    namespace,
    'patch',
    'senderdomain',
    'demo-example',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { dnsVerification: { interval: '10m' } } }),
  );
  const verified = await eventually(
    'DnsVerified',
    async () => {
      const current = await getDomain();
      return condition(current, 'DnsVerified') === 'True' ? current : undefined;
    },
    100_000,
  ).catch(() => undefined);
  say(
    verified === undefined
      ? 'DnsVerified is not True yet (the operator checks every minute)'
      : 'DnsVerified=True: every record is published',
  );

  step('Sending a message with swaks: STARTTLS and AUTH PLAIN on the submission port of pod demo-0');
  const submissionPort = kubelet.localPort('demo-0', containerPortFor(587));
  if (submissionPort === undefined) throw new Error('pod demo-0 has no submission port');
  const swaks = await run('swaks', [
    '--server',
    `127.0.0.1:${submissionPort}`,
    '--tls',
    '--auth',
    'PLAIN',
    '--auth-user',
    'app',
    '--auth-password',
    password,
    '--from',
    'app@demo.example',
    '--to',
    'someone@example.net',
    '--header',
    'Subject: Hello from mailfleet',
    '--body',
    'Sent through the demo relay.',
  ]).catch((error: unknown) => error as { stdout: string; stderr: string });
  const output = `${swaks.stdout}${swaks.stderr}`;
  if (!/<~ {2}250 2\.6\.0 /.test(output))
    throw new Error(`swaks: the relay did not queue the message:\n${output}`);
  const transcript = output
    .split('\n')
    .filter((line) => /^\s*(<~|~>|<-|->|<\*\*|\*\*\*)/.test(line) && !line.includes('AUTH PLAIN'));
  say(transcript.slice(0, 40).join('\n'));

  step('The message arrives at the smarthost (smtp-sink), signed');
  const [arrived] = await sink.waitForMessages(1, 30_000);
  const raw = arrived?.raw ?? '';
  const message = raw.slice(raw.indexOf('DKIM-Signature:'));
  say(
    message
      .split('\r\n\r\n')[0]
      ?.split(/\r?\n/)
      .map((line) => (line.length > 110 ? `${line.slice(0, 107)}...` : line))
      .join('\n') ?? '',
  );

  step('Verifying the DKIM signatures with an independent verifier (dkimpy) against the published records');
  const report = await verifyWithDkimpy(message, `127.0.0.1:${dnsPort}`);
  say(
    report
      .trim()
      .split('\n')
      .map((line) => {
        const [index, d, s, result] = line.split(' ');
        return `signature ${index}: d=${d} s=${s} → ${result}`;
      })
      .join('\n'),
  );
  if (!report.includes('pass') || report.includes('fail'))
    throw new Error(`DKIM verification failed:\n${report}`);

  step(
    'A change reaches the running relays the way it does in a pod: a second AUTH user in the users Secret',
  );
  const reloadsBefore = await relayReloads(kubelet);
  const secondPassword = `demo-${Math.random().toString(36).slice(2, 10)}`;
  await writeFile(
    usersFile,
    `app:${bcrypt.hashSync(password, 10)}\nreports:${bcrypt.hashSync(secondPassword, 10)}\n`,
  );
  const updatedSecret = await kubectl(
    '-n',
    namespace,
    'create',
    'secret',
    'generic',
    'demo-smtp-users',
    `--from-file=users=${usersFile}`,
    '--dry-run=client',
    '-o',
    'json',
  );
  const updatedFile = join(work, 'users-secret.json');
  await writeFile(updatedFile, updatedSecret);
  say(
    (await kubectl('-n', namespace, 'apply', '--server-side', '--force-conflicts', '-f', updatedFile)).trim(),
  );
  await eventually(
    'both relays reloaded',
    async () => {
      const reloads = await relayReloads(kubelet);
      return kubelet.runningPods().every((pod) => (reloads.get(pod) ?? 0) > (reloadsBefore.get(pod) ?? 0))
        ? true
        : undefined;
    },
    60_000,
  );
  say('both relay processes logged "configuration reloaded" (same pids, no restart)');
  const second = await run('swaks', [
    '--server',
    `127.0.0.1:${kubelet.localPort('demo-1', containerPortFor(587)) ?? 0}`,
    '--tls',
    '--auth',
    'LOGIN',
    '--auth-user',
    'reports',
    '--auth-password',
    secondPassword,
    '--from',
    'reports@demo.example',
    '--to',
    'someone@example.net',
    '--header',
    'Subject: From the new user',
  ]).catch((error: unknown) => error as { stdout: string; stderr: string });
  const secondOutput = `${second.stdout}${second.stderr}`;
  const authLine = secondOutput.split('\n').find((line) => line.includes('<~  235 '));
  if (authLine === undefined) throw new Error(`the new user could not authenticate:\n${secondOutput}`);
  say(`user "reports" on pod demo-1: ${authLine.trim()}`);
  say(
    '(the SenderDomain lists only "app" in authorizedUsers, so the relay refuses reports@demo.example as sender:)',
  );
  const refusal = secondOutput.split('\n').find((line) => /<~\*? +553 /.test(line));
  say(refusal?.trim() ?? '(no refusal seen)');

  step('kubectl get smtprelays,senderdomains');
  say((await kubectl('-n', namespace, 'get', 'smtprelays,senderdomains', '-o', 'wide')).trim());
  step('Status conditions');
  for (const object of [await getRelay(), await getDomain()]) {
    for (const entry of object.status?.conditions ?? [])
      say(
        `${object.kind}/${object.metadata.name ?? ''} ${entry.type}=${entry.status} (${entry.reason}) ${entry.message}`,
      );
  }

  step('A few relay metrics (pod demo-0, /metrics)');
  const httpPort = kubelet.localPort('demo-0', relayHttpPort);
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort ?? 0}/metrics`)).text();
  say(
    metrics
      .split('\n')
      .filter((line) =>
        /^mailfleet_relay_(messages_received_total|delivery_recipients_total|dkim_signatures_total|queue_messages|tls_sessions)/.test(
          line,
        ),
      )
      .slice(0, 14)
      .join('\n'),
  );

  step(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s. Where to look next`);
  say(
    [
      `kubectl:       ${join(controlPlane.binDir, 'kubectl')} --kubeconfig=${controlPlane.kubeconfigPath} -n ${namespace} get smtprelays,senderdomains`,
      `relay logs:    ${kubelet.logPath('demo-0')}`,
      `operator log:  ${operatorLog}`,
      `send more:     swaks --server 127.0.0.1:${submissionPort} --tls --auth PLAIN --auth-user app --auth-password ${password} --from app@demo.example --to you@example.net`,
      `(logs and volumes live in ${work} until the demo stops)`,
      'docs:          docs/quickstart.md, docs/operator.md, docs/relay-config.md, docs/dns.md, docs/queue.md',
    ].join('\n'),
  );
  if (exitWhenDone) return;
  say('\nCtrl-C stops everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

main().then(
  async () => {
    step('Stopping');
    await cleanup();
    process.exit(0);
  },
  async (error: unknown) => {
    process.stderr.write(`\nmake demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await cleanup();
    process.exit(1);
  },
);
