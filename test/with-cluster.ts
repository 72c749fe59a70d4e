// Runs a command (the real-node tests) with one real single-node cluster shared by all of it
// (test/node/cluster.ts): KUBECONFIG and MAILFLEET_TEST_CLUSTER point at it. When the command ends the
// cluster is torn down and the machine compared with how it was before: a process, mount, network
// namespace, link, iptables rule, cgroup or sysctl left behind fails the run.
import { spawn } from 'node:child_process';
import { startCluster } from './node/cluster.ts';
import { hostState, leftovers } from './node/host.ts';
import { exportCluster } from './node/shared.ts';

const separator = process.argv.indexOf('--');
const [program, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
if (program === undefined) {
  console.error('usage: node test/with-cluster.ts -- <command> [args...]');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('with-cluster: the real node needs root (containerd, the kubelet and the pod network)');
  process.exit(2);
}

const before = await hostState();
const started = Date.now();
const cluster = await startCluster();
console.error(`cluster ready in ${Date.now() - started} ms`);

const child = spawn(program, args, { stdio: 'inherit', env: { ...process.env, ...exportCluster(cluster) } });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
let code = await new Promise<number>((done) =>
  child.on('exit', (exitCode, signal) => {
    done(exitCode ?? (signal ? 1 : 0));
  }),
);
const stopping = Date.now();
await cluster.stop();
const left = leftovers(before, await hostState());
if (left.length > 0) {
  console.error(`with-cluster: the tear-down left ${left.length} things behind:\n  ${left.join('\n  ')}`);
  code = code || 1;
} else {
  console.error(`cluster torn down in ${Date.now() - stopping} ms; nothing left behind`);
}
process.exit(code);
