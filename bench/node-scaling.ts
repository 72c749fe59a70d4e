// `make bench-node`: one relay pod with a CPU limit of 1 on the real node (test/node), reached through
// its Service, and how delivered msg/s grows from 1 to 3 replicas under one load generator pod. Run
// through test/with-cluster.ts, which brings the node up and tears it down. The chart is installed as
// docs/install.md says; an SmtpRelay (Ephemeral queue, every pod limited to 1 CPU, requesting 100m so
// three fit the node) relays for the pod range to a next hop in the cluster. The load pod runs
// Postfix's smtp-sink (the next hop, behind the Service `sink`) and bench/node-load.py, which sends
// with smtp-source through the relay Service and waits until the sink has counted every message.
// CPU per pod comes from the pods' cgroups (cgroup v1, cgroupfs, as test/node/config.ts sets up).
// Writes docs/node-scaling.md and docs/node-scaling.json. Knobs (environment):
//   MAILFLEET_NODE_REPLICAS=1,2,3  MAILFLEET_NODE_LOADS=new-connection,reused  MAILFLEET_NODE_REPEATS=3
//   MAILFLEET_NODE_MESSAGES=4000 (a run, new connections)  MAILFLEET_NODE_REUSED_MESSAGES=12000 (a run,
//   reused connections)  MAILFLEET_NODE_SESSIONS=300 (enough that the relay's 100 ms greeting pause does
//   not bound new connections)  MAILFLEET_NODE_BYTES=2048
//   MAILFLEET_NODE_WARMUP=1000 (messages sent and not measured after each scale change)
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { podCidr } from '../test/node/layout.ts';
import {
  applyObjects,
  helm,
  localImageValues,
  operatorNamespace,
  release,
  restrictedContainer,
  restrictedNamespace,
  waitPodsReady,
} from '../test/node/mail-fleet.ts';
import { pods } from '../test/node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../test/node/shared.ts';
import { describeMachine } from './machine.ts';
import { repositoryRoot } from './mailfleet.ts';
import {
  nodeLoads,
  renderNodeTable,
  summariseNodeRuns,
  type NodeLoad,
  type NodeRun,
} from './node-scaling-report.ts';

const env = process.env;
const replicaCounts = (env['MAILFLEET_NODE_REPLICAS'] ?? '1,2,3').split(',').map(Number);
const loads = (env['MAILFLEET_NODE_LOADS'] ?? 'new-connection,reused').split(',') as NodeLoad[];
const repeats = Number(env['MAILFLEET_NODE_REPEATS'] ?? 3);
const messagesPerRun: Record<NodeLoad, number> = {
  'new-connection': Number(env['MAILFLEET_NODE_MESSAGES'] ?? 4000),
  reused: Number(env['MAILFLEET_NODE_REUSED_MESSAGES'] ?? 12000),
};
const sessions = Number(env['MAILFLEET_NODE_SESSIONS'] ?? 300);
const bytes = Number(env['MAILFLEET_NODE_BYTES'] ?? 2048);
const warmup = Number(env['MAILFLEET_NODE_WARMUP'] ?? 1000);
for (const load of loads)
  if (!(load in nodeLoads)) throw new Error(`MAILFLEET_NODE_LOADS: unknown load ${load}`);

const cluster = sharedCluster();
const namespace = 'bench';
const relay = 'relay';
const relayHost = `${relay}.${namespace}.svc.cluster.local`;
const relaySelector = `app.kubernetes.io/instance=${relay}`;
const progress = (message: string): void => {
  console.error(`[bench-node ${new Date().toISOString().slice(11, 19)}] ${message}`);
};

function relayObject(replicas: number): unknown {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name: relay, namespace },
    spec: {
      replicas,
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      clientNetworks: [podCidr],
      delivery: {
        mode: 'Smarthost',
        smarthost: { host: `sink.${namespace}.svc.cluster.local`, port: 2525, tls: 'None' },
      },
      queue: { storage: 'Ephemeral' },
      // Every connection comes from the one load pod.
      limits: { connections: 1000, connectionsPerClient: 1000 },
      pod: { resources: { requests: { cpu: '100m' }, limits: { cpu: '1' } } },
    },
  };
}

/** smtp-sink and the load script in one pod, so one clock times sending and arrival. */
function loadObjects(image: string): unknown[] {
  const shared = { name: 'shared', mountPath: '/shared' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'load', namespace, labels: { app: 'load' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'sink',
            image,
            command: ['sh', '-c', 'exec /usr/sbin/smtp-sink -c 0.0.0.0:2525 1024 >/shared/sink.out'],
            ports: [{ containerPort: 2525, name: 'smtp' }],
            securityContext: restrictedContainer,
            readinessProbe: { tcpSocket: { port: 2525 }, periodSeconds: 1 },
            volumeMounts: [shared],
          },
          {
            name: 'load',
            image,
            command: ['sleep', 'infinity'],
            securityContext: restrictedContainer,
            volumeMounts: [shared, { name: 'script', mountPath: '/etc/node-load' }],
          },
        ],
        volumes: [
          { name: 'shared', emptyDir: {} },
          { name: 'script', configMap: { name: 'node-load' } },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sink', namespace },
      spec: { selector: { app: 'load' }, ports: [{ name: 'smtp', port: 2525, targetPort: 2525 }] },
    },
  ];
}

/** CPU seconds a pod's cgroup has used (cpuacct.usage, nanoseconds, under any QoS class). */
async function podCpuSeconds(uid: string): Promise<number> {
  // This machine mounts each v1 controller on its own; others mount cpu and cpuacct together.
  for (const root of ['/sys/fs/cgroup/cpuacct/kubepods', '/sys/fs/cgroup/cpu,cpuacct/kubepods']) {
    for (const qos of ['', 'burstable', 'besteffort']) {
      const usage = await readFile(join(root, qos, `pod${uid}`, 'cpuacct.usage'), 'utf8').catch(
        () => undefined,
      );
      if (usage !== undefined) return Number(usage) / 1e9;
    }
  }
  throw new Error(`no cpuacct cgroup for pod ${uid} under /sys/fs/cgroup/{cpuacct,cpu,cpuacct}/kubepods`);
}

/** Seconds the CFS quota (the CPU limit) held a pod's cgroup back (cpu.stat throttled_time). */
async function podThrottledSeconds(uid: string): Promise<number> {
  for (const root of ['/sys/fs/cgroup/cpu/kubepods', '/sys/fs/cgroup/cpu,cpuacct/kubepods']) {
    for (const qos of ['', 'burstable', 'besteffort']) {
      const stat = await readFile(join(root, qos, `pod${uid}`, 'cpu.stat'), 'utf8').catch(() => undefined);
      const throttled = stat === undefined ? undefined : /^throttled_time (\d+)$/m.exec(stat)?.[1];
      if (throttled !== undefined) return Number(throttled) / 1e9;
    }
  }
  throw new Error(`no cpu cgroup for pod ${uid} under /sys/fs/cgroup/{cpu,cpu,cpuacct}/kubepods`);
}

async function sumOverPods(selector: string, read: (uid: string) => Promise<number>): Promise<number> {
  const listed = await pods(cluster, namespace, selector);
  const values = await Promise.all(listed.map((pod) => read(pod.metadata.uid)));
  return values.reduce((sum, value) => sum + value, 0);
}

const cpuOf = (selector: string): Promise<number> => sumOverPods(selector, podCpuSeconds);

/** busy and idle jiffies of the whole machine (/proc/stat). */
async function machineTimes(): Promise<{ busy: number; idle: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}

interface LoadOutput {
  readonly messages: number;
  readonly sendSeconds: number;
  readonly deliveredSeconds: number;
  readonly delivered: number;
  readonly smtpSourceExit: number;
  readonly smtpSourceErrors: readonly string[];
}

async function sendLoad(load: NodeLoad, count: number): Promise<LoadOutput> {
  const out = await kubectl(cluster, [
    ...['-n', namespace, 'exec', 'load', '-c', 'load', '--'],
    ...['python3', '/etc/node-load/node-load.py', relayHost, '25', String(count), String(sessions)],
    ...[String(bytes), load === 'reused' ? '1' : '0', '600'],
  ]);
  return JSON.parse(out) as LoadOutput;
}

async function measure(load: NodeLoad, replicas: number): Promise<NodeRun> {
  const messages = messagesPerRun[load];
  const relayBefore = await cpuOf(relaySelector);
  const throttledBefore = await sumOverPods(relaySelector, podThrottledSeconds);
  const loadBefore = await cpuOf('app=load');
  const machineBefore = await machineTimes();
  const result = await sendLoad(load, messages);
  const machineAfter = await machineTimes();
  const run: NodeRun = {
    load,
    replicas,
    messages,
    sessions,
    bytes,
    sendSeconds: result.sendSeconds,
    deliveredSeconds: result.deliveredSeconds,
    delivered: result.delivered,
    relayCpuSeconds: (await cpuOf(relaySelector)) - relayBefore,
    relayThrottledSeconds: (await sumOverPods(relaySelector, podThrottledSeconds)) - throttledBefore,
    loadPodCpuSeconds: (await cpuOf('app=load')) - loadBefore,
    machineIdle:
      (machineAfter.idle - machineBefore.idle) /
      (machineAfter.busy - machineBefore.busy + machineAfter.idle - machineBefore.idle),
  };
  if (result.smtpSourceExit !== 0 || result.delivered < messages)
    progress(`incomplete run: ${JSON.stringify(result)}`);
  return run;
}

/** The relay at `replicas` ready pods, each an endpoint of the Service. */
async function scaleTo(replicas: number): Promise<void> {
  await applyObjects(cluster, [relayObject(replicas)]);
  await waitPodsReady(cluster, namespace, relaySelector, replicas);
  await eventually(`${String(replicas)} ready endpoints behind the relay Service`, async () => {
    const slices = JSON.parse(
      await kubectl(cluster, [
        ...['-n', namespace, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${relay}`],
        ...['-o', 'json'],
      ]),
    ) as { items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] };
    const ready = slices.items.flatMap((slice) => slice.endpoints ?? []).filter((e) => e.conditions?.ready);
    return ready.length === replicas;
  });
}

const machine = await describeMachine();
progress('installing the chart');
await restrictedNamespace(cluster, operatorNamespace);
await helm(cluster, [
  ...['install', release, 'charts/mailfleet', '--namespace', operatorNamespace],
  ...localImageValues(cluster.images),
]);
await kubectl(cluster, [
  ...['-n', operatorNamespace, 'rollout', 'status', `deployment/${release}`, '--timeout=180s'],
]);
await restrictedNamespace(cluster, namespace);
await kubectl(cluster, [
  ...['-n', namespace, 'create', 'configmap', 'node-load'],
  `--from-file=node-load.py=${join(repositoryRoot, 'bench/node-load.py')}`,
]);
await applyObjects(cluster, loadObjects(cluster.images.TOOLS_IMAGE));
await waitPodsReady(cluster, namespace, 'app=load', 1);

const runs: NodeRun[] = [];
// Replica counts take turns, one run of each load per turn: the machine is shared, and a change in
// what else runs on it then spreads over every replica count instead of favouring one.
for (let repeat = 1; repeat <= repeats; repeat++) {
  for (const replicas of replicaCounts) {
    progress(`round ${String(repeat)}/${String(repeats)}: scaling the relay to ${String(replicas)}`);
    await scaleTo(replicas);
    for (const load of loads) {
      // Not measured: new pods' JIT warms up and kube-proxy's rules are in place.
      const warm = await sendLoad(load, warmup);
      progress(`warm-up ${load}: ${String(warm.delivered)} of ${String(warmup)} delivered`);
      const run = await measure(load, replicas);
      runs.push(run);
      progress(
        `${load} × ${String(replicas)}: ${(run.messages / run.deliveredSeconds).toFixed(0)} msg/s delivered, ` +
          `relay CPU ${((1000 * run.relayCpuSeconds) / run.messages).toFixed(2)} ms/msg, ` +
          `throttled ${run.relayThrottledSeconds.toFixed(2)} s, idle ${(100 * run.machineIdle).toFixed(0)}%`,
      );
    }
  }
}

const rows = summariseNodeRuns(runs);
const command = 'make bench-node';
const page = [
  '# One relay pod on the real node, and 1 to 3 of them',
  '',
  `Generated by \`${command}\` (bench/node-scaling.ts) on ${new Date().toISOString().slice(0, 10)}; ` +
    '[scaling.md](scaling.md) reads these figures as sizing guidance and says what they do not show.',
  '',
  `Machine: ${String(machine.processors)} CPUs (${machine.cpuModel}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
    `kernel ${machine.kernel}, Node ${machine.nodeVersion}, commit ${machine.commit}; load average at the start ` +
    `${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(', ')}. The node's kubelet, containerd, ` +
    'kube-apiserver, etcd, the operator, the load pod and every relay pod share these CPUs.',
  '',
  `Each relay pod: \`resources: {requests: {cpu: 100m}, limits: {cpu: "1"}}\`, \`queue.storage: Ephemeral\` ` +
    '(an emptyDir on the node\u2019s disk, every message fdatasync\u2019d before its 250), no TLS, no AUTH (the load ' +
    'pod is in `clientNetworks`), the operator\u2019s defaults otherwise (among them a 100 ms pause before the banner). ' +
    `Load: one pod running Postfix\u2019s smtp-source with ${String(sessions)} sessions, ${String(messagesPerRun['new-connection'])} ` +
    `(new connections) or ${String(messagesPerRun.reused)} (reused connections) messages of ${String(bytes)} bytes a run, to the relay Service\u2019s cluster IP (kube-proxy spreads connections over the pods); ` +
    'its other container is smtp-sink, the relays\u2019 next hop. A run counts as delivered when the sink has counted ' +
    `every message. The replica counts take turns (${String(repeats)} rounds of ${replicaCounts.join(', ')} replicas, one run of each load per turn), ` +
    `so other work on the shared machine falls on all of them alike; ${String(warmup)} messages are sent unmeasured before each run.`,
  '',
  renderNodeTable(rows),
].join('\n');
// Both formatted as `make lint` (prettier --check) expects.
const formatted = async (path: string, text: string): Promise<string> =>
  format(text, { ...((await resolveConfig(path)) ?? {}), filepath: path });
const markdownPath = join(repositoryRoot, 'docs', 'node-scaling.md');
await writeFile(markdownPath, await formatted(markdownPath, page));
const jsonPath = join(repositoryRoot, 'docs', 'node-scaling.json');
const settings = { sessions, messagesPerRun, bytes, warmup, repeats };
await writeFile(
  jsonPath,
  await formatted(jsonPath, JSON.stringify({ command, machine, settings, runs, rows })),
);
progress('wrote docs/node-scaling.md and docs/node-scaling.json');
