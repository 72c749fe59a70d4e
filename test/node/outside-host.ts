// A host outside the cluster, for the exposure tests: a network namespace with a veth to this machine,
// addressed in the outside range, routed to the node address and nothing else. Clients run in it with
// `ip netns exec`, so the relay sees a client address that is neither a pod's nor the node's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { nodeIp, outsideNetns } from './layout.ts';

const run = promisify(execFile);

export interface OutsideHost {
  readonly address: string;
  /** Runs a command inside the namespace; resolves with its output whatever its exit code. */
  exec(command: string, args: readonly string[]): Promise<{ ok: boolean; output: string }>;
  remove(): Promise<void>;
}

export async function addOutsideHost(name = outsideNetns): Promise<OutsideHost> {
  const [hostSide, peerSide] = [`${name}-h`, `${name}-p`];
  const [hostAddress, address] = ['10.245.0.1', '10.245.0.2'];
  const remove = async () => {
    await run('ip', ['link', 'delete', hostSide]).catch(() => undefined);
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
  };
  await remove();
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', peerSide, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', hostSide]);
    await run('ip', ['link', 'set', hostSide, 'up']);
    const inside = (args: string[]) => run('ip', ['netns', 'exec', name, ...args]);
    await inside(['ip', 'addr', 'add', `${address}/24`, 'dev', peerSide]);
    await inside(['ip', 'link', 'set', peerSide, 'up']);
    await inside(['ip', 'link', 'set', 'lo', 'up']);
    await inside(['ip', 'route', 'add', `${nodeIp}/32`, 'via', hostAddress]);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    address,
    async exec(command, args) {
      try {
        const { stdout, stderr } = await run('ip', ['netns', 'exec', name, command, ...args], {
          timeout: 60_000,
        });
        return { ok: true, output: stdout + stderr };
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        return { ok: false, output: stdout + stderr };
      }
    },
    remove,
  };
}
