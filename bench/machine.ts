// What the figures were measured on: hardware, kernel, versions and the commit.
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { postfixVersion } from './postfix.ts';
import { repositoryRoot } from './mailfleet.ts';

const run = promisify(execFile);

export interface MachineInfo {
  readonly processors: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly nodeVersion: string;
  readonly postfixVersion: string;
  /** Short commit id, with "+changes" when the working tree differs from it. */
  readonly commit: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews every figure. */
  readonly loadAverageAtStart: readonly number[];
}

async function describeCommit(): Promise<string> {
  try {
    const { stdout: commit } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repositoryRoot });
    const { stdout: status } = await run('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repositoryRoot,
    });
    return `${commit.trim()}${status.trim() === '' ? '' : '+changes'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  return {
    processors: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    kernel: release(),
    nodeVersion: process.version,
    postfixVersion: await postfixVersion(),
    commit: await describeCommit(),
    loadAverageAtStart: loadavg(),
  };
}
