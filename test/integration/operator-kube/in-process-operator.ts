// The operator started in process the way main.ts starts it: from its own option parser, with the
// controllers main.ts runs (operatorControllers), watching one namespace of the shared control
// plane, without leader election, its HTTP port on loopback. Resolves once its caches have synced.
import { silentLog } from '../../../operator/log.ts';
import { operatorControllers, startOperator, type RunningOperator } from '../../../operator/main.ts';
import { parseOptions } from '../../../operator/options.ts';
import { eventually } from './support.ts';

export interface InProcessOperatorOptions {
  readonly kubeconfigPath: string;
  readonly namespace: string;
  /** Flags beyond the common ones (e.g. `--cluster-domain=…`). */
  readonly flags?: readonly string[];
  /** The name parseOptions reports errors under. */
  readonly name: string;
}

export async function startInProcessOperator(options: InProcessOperatorOptions): Promise<RunningOperator> {
  const parsed = parseOptions(
    [
      `--kubeconfig=${options.kubeconfigPath}`,
      '--leader-elect=false',
      `--namespaces=${options.namespace}`,
      '--http-host=127.0.0.1',
      '--http-port=0',
      '--relay-image=relay:integration',
      ...(options.flags ?? []),
    ],
    {},
    options.name,
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const operator = await startOperator(parsed.options, operatorControllers, silentLog());
  await eventually('the caches sync', () => operator.manager.synced);
  return operator;
}
