// What the real test node changes on this machine, and how all of it is put back: the bridge, two
// sysctls, iptables rules, mounts, network namespaces, cgroups and directories. The tear-down works from
// the layout alone, so it also cleans what a run that crashed left behind. hostState() is what the
// leak check compares before the node starts and after it is torn down.
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  bridge,
  cniIpamDir,
  containerdSocket,
  containerLogLinks,
  forwardChain,
  kubeletChains,
  kubeletRoot,
  localPathDir,
  nodeIp,
  outsideCidr,
  outsideNetns,
  persistentDir,
  podCidr,
  podLogsDir,
  runDir,
} from './layout.ts';

const run = promisify(execFile);
const sysctls = ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables'] as const;
const savedSysctls = join(runDir, 'sysctl.json');
const iptablesTables = ['filter', 'nat', 'mangle'] as const;
const iptablesCommands = ['iptables', 'ip6tables'] as const;

async function quiet(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/** The bridge with the node address, forwarding for the pod range, and the egress guard. */
export async function setUpHost(): Promise<void> {
  await mkdir(runDir, { recursive: true });
  const saved: Record<string, string> = {};
  for (const key of sysctls) saved[key] = (await readFile(`/proc/sys/${key}`, 'utf8')).trim();
  await writeFile(savedSysctls, JSON.stringify(saved));
  for (const key of sysctls) await writeFile(`/proc/sys/${key}`, '1');
  await shareNetnsDir();
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${nodeIp}/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  // Nothing from a pod leaves by another interface than the bridge: pods have no default route, and
  // this holds even for a pod that adds one.
  await run('iptables', ['-N', forwardChain]);
  await run('iptables', ['-A', forwardChain, '-s', podCidr, '-d', outsideCidr, '-j', 'RETURN']);
  await run('iptables', ['-A', forwardChain, '-s', podCidr, '!', '-o', bridge, '-j', 'DROP']);
  await run('iptables', ['-I', 'FORWARD', '1', '-j', forwardChain]);
}

const netnsDir = '/run/netns';
const madeNetnsMount = join(runDir, 'netns-mount-made');

async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => line.split(' ')[4] === path);
}

/**
 * Makes /run/netns the shared mount point `ip netns` makes of it on first use, before any pod's network
 * namespace is mounted there. Otherwise a later `ip netns add` (the exposure tests' outside host) binds
 * the directory over itself, each namespace mount already there gets a second copy underneath, and
 * containerd can no longer remove a pod's namespace (EBUSY): the pod stays Terminating.
 */
async function shareNetnsDir(): Promise<void> {
  await mkdir(netnsDir, { recursive: true });
  if (await isMountPoint(netnsDir)) return;
  await run('mount', ['--rbind', netnsDir, netnsDir]);
  await run('mount', ['--make-rshared', netnsDir]);
  await writeFile(madeNetnsMount, '');
}

/** Chains created by the node: the kubelet's, kube-proxy's (KUBE-*) and ours. */
function isNodeChain(chain: string): boolean {
  return (
    chain.startsWith('KUBE-') ||
    chain === forwardChain ||
    (kubeletChains as readonly string[]).includes(chain)
  );
}

async function removeIptablesChains(): Promise<void> {
  for (const command of iptablesCommands) {
    for (const table of iptablesTables) {
      const saved = await run(`${command}-save`, ['-t', table]).catch(() => ({ stdout: '' }));
      const lines = saved.stdout.split('\n');
      const chains = lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0] ?? '');
      const builtIn = chains.filter((chain) => !isNodeChain(chain));
      for (const line of lines) {
        const match = /^-A (\S+) (.*)$/.exec(line);
        if (!match?.[1] || !builtIn.includes(match[1])) continue;
        const target = /-j (\S+)/.exec(match[2] ?? '')?.[1] ?? '';
        if (!isNodeChain(target)) continue;
        // iptables-save quotes comments; the argument list needs them unquoted.
        const args = (match[2] ?? '').match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"(.*)"$/, '$1')) ?? [];
        await quiet(command, ['-t', table, '-D', match[1], ...args]);
      }
      const own = chains.filter(isNodeChain);
      for (const chain of own) await quiet(command, ['-t', table, '-F', chain]);
      for (const chain of own) await quiet(command, ['-t', table, '-X', chain]);
    }
  }
}

/** Mount points at or under any of the paths, deepest first. */
async function mountsUnder(paths: readonly string[]): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => paths.some((path) => point === path || point.startsWith(`${path}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountAll(paths: readonly string[]): Promise<void> {
  for (const point of await mountsUnder(paths)) {
    if (!(await quiet('umount', [point]))) await quiet('umount', ['-l', point]);
  }
}

/** Pod sandboxes' network namespaces (containerd names them cni-<uuid> under /run/netns). */
async function podNetworkNamespaces(): Promise<string[]> {
  const names = await readdir('/run/netns').catch(() => []);
  return names.filter((name) => name.startsWith('cni-'));
}

/** cgroup directories the kubelet made (cgroupfs driver: <controller>/kubepods/...), deepest first. */
async function kubepodsCgroups(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await walk(join(dir, entry.name));
    found.push(dir);
  };
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [])) {
    const top = join('/sys/fs/cgroup', controller, 'kubepods');
    if ((await readdir(top).catch(() => null)) !== null) await walk(top);
  }
  return found;
}

/** Processes still in the node's cgroups, or shims of its containerd: left only by a crashed run. */
async function strayProcesses(): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of await kubepodsCgroups()) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) pids.add(Number(pid));
  }
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('containerd-shim') && cmdline.includes(containerdSocket)) pids.add(Number(pid));
  }
  return [...pids];
}

/**
 * Puts the machine back: kills what a crashed run left in the node's cgroups, unmounts, deletes the
 * pods' network namespaces, the bridge, the iptables chains and the cgroups, restores the sysctls and
 * removes the per-run directories. containerd's image store (persistentDir/containerd) stays.
 */
export async function tearDownHost(): Promise<void> {
  for (const pid of await strayProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await unmountAll([kubeletRoot, runDir, join(persistentDir, 'containerd')]);
  // A namespace file can be mounted more than once, and copies can hide beneath our bind mount of
  // /run/netns (see shareNetnsDir): unmount every copy, then the bind mount, then what it hid.
  const clearNamespaces = async () => {
    for (const name of await podNetworkNamespaces()) {
      const path = join(netnsDir, name);
      for (let copies = 0; copies < 8 && (await isMountPoint(path)); copies++) await quiet('umount', [path]);
      await rm(path, { force: true }).catch(() => undefined);
    }
  };
  await quiet('ip', ['link', 'delete', `${outsideNetns}-h`]);
  await quiet('ip', ['netns', 'delete', outsideNetns]);
  await clearNamespaces();
  if ((await readFile(madeNetnsMount).catch(() => null)) !== null) await quiet('umount', [netnsDir]);
  await clearNamespaces();
  await quiet('ip', ['link', 'delete', bridge]);
  await removeIptablesChains();
  for (const dir of await kubepodsCgroups()) await rmdir(dir).catch(() => undefined);
  const saved = await readFile(savedSysctls, 'utf8').catch(() => '');
  if (saved) {
    const values = JSON.parse(saved) as Record<string, string>;
    for (const [key, value] of Object.entries(values)) await writeFile(`/proc/sys/${key}`, value);
  }
  for (const link of await readdir(containerLogLinks).catch(() => [])) {
    const target = await readlink(join(containerLogLinks, link)).catch(() => '');
    if (target.startsWith(podLogsDir)) await rm(join(containerLogLinks, link), { force: true });
  }
  for (const dir of [kubeletRoot, podLogsDir, localPathDir, cniIpamDir, runDir]) {
    await rm(dir, { recursive: true, force: true });
  }
  // libcni's cache of results for our network.
  for (const file of await readdir('/var/lib/cni/results').catch(() => [])) {
    if (file.startsWith('mailfleet-node-')) await rm(join('/var/lib/cni/results', file), { force: true });
  }
}

export interface HostState {
  readonly processes: readonly string[];
  readonly mounts: readonly string[];
  readonly netns: readonly string[];
  readonly links: readonly string[];
  readonly iptables: readonly string[];
  readonly cgroups: readonly string[];
  readonly sysctls: readonly string[];
}

/** What the leak check compares: everything a node could leave behind on this machine. */
export async function hostState(): Promise<HostState> {
  const iptables: string[] = [];
  for (const command of iptablesCommands) {
    for (const table of iptablesTables) {
      const saved = await run(`${command}-save`, ['-t', table]).catch(() => ({ stdout: '' }));
      for (const line of saved.stdout.split('\n')) {
        if (line.startsWith('-A') || line.startsWith(':'))
          iptables.push(`${command} ${table} ${line.replace(/\[\d+:\d+\]/, '')}`);
      }
    }
  }
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter(Boolean);
  const processes: string[] = [];
  for (const pid of await strayProcesses()) processes.push(String(pid));
  return {
    processes,
    mounts: await mountsUnder([kubeletRoot, runDir, persistentDir, '/run/netns']),
    netns: await podNetworkNamespaces(),
    links,
    iptables,
    cgroups: await kubepodsCgroups(),
    sysctls: await Promise.all(
      sysctls.map(async (k) => `${k}=${(await readFile(`/proc/sys/${k}`, 'utf8')).trim()}`),
    ),
  };
}

/** What the node left behind: each entry of `after` that `before` did not have. */
export function leftovers(before: HostState, after: HostState): string[] {
  const found: string[] = [];
  for (const key of Object.keys(after) as (keyof HostState)[]) {
    const had = new Set(before[key]);
    for (const entry of after[key]) if (!had.has(entry)) found.push(`${key}: ${entry}`);
  }
  return found;
}
