// Runs a command in a relay pod with `kubectl exec`, as the docs tell an operator to do by hand: the
// relay's queue CLI reaches the admin endpoint on the pod's loopback and reads its token file, which
// only a process inside the pod can (docs/queue.md, case 35). kubectl is there: it runs this plugin.
import { execFile } from 'node:child_process';
import type { Target } from './args.ts';
import { relayContainer, type PodAnswer } from './queue.ts';

export type PodExec = (namespace: string, pod: string, argv: readonly string[]) => Promise<PodAnswer>;

/** kubectl's arguments for `argv` in the relay container of `pod`; pure. */
export function kubectlExecArgs(
  target: Target,
  namespace: string,
  pod: string,
  argv: readonly string[],
): string[] {
  return [
    ...(target.kubeconfig === undefined ? [] : ['--kubeconfig', target.kubeconfig]),
    ...(target.context === undefined ? [] : ['--context', target.context]),
    '--namespace',
    namespace,
    'exec',
    pod,
    '--container',
    relayContainer,
    '--',
    ...argv,
  ];
}

export function kubectlExec(target: Target, kubectl = 'kubectl'): PodExec {
  return (namespace, pod, argv) =>
    new Promise((resolve) => {
      execFile(
        kubectl,
        kubectlExecArgs(target, namespace, pod, argv),
        { maxBuffer: 256 << 20, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          resolve({ pod, code, stdout, stderr: error !== null && stderr === '' ? error.message : stderr });
        },
      );
    });
}
