// `kubectl mailfleet`: kubectl runs any executable named kubectl-<name> on PATH as `kubectl <name>`
// (bin/kubectl-mailfleet). Wires the real tools: the kubeconfig kubectl would use, `kubectl exec`,
// the system's resolvers (or --dns-server), the clock.
import { KubeConfig } from '@kubernetes/client-node';
import { txtLookup } from '../operator/reconcile/sender-domain-dns-lookup.ts';
import { KubeClient } from '../operator/kube/client.ts';
import { parseCommandLine, usage } from './args.ts';
import { apiCluster } from './cluster.ts';
import { kubectlExec } from './pod-exec.ts';
import { runCommand } from './run.ts';

const parsed = parseCommandLine(process.argv.slice(2));
if (!parsed.ok) {
  process.stderr.write(`kubectl mailfleet: ${parsed.problem}\n${usage}\n`);
  process.exit(2);
}
if (parsed.command.name === 'help') {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const { target } = parsed;
const config = new KubeConfig();
try {
  if (target.kubeconfig === undefined) config.loadFromDefault();
  else config.loadFromFile(target.kubeconfig);
  if (target.context !== undefined) config.setCurrentContext(target.context);
} catch (error) {
  process.stderr.write(`kubectl mailfleet: cannot load the kubeconfig: ${String(error)}\n`);
  process.exit(1);
}
const namespace =
  target.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
try {
  const outcome = await runCommand(parsed.command, {
    namespace,
    cluster: apiCluster(new KubeClient(config)),
    exec: kubectlExec(target),
    lookupTxt: (server) => txtLookup(server),
    now: Date.now,
  });
  process.stdout.write(outcome.out);
  process.stderr.write(outcome.err);
  process.exitCode = outcome.exitCode;
} catch (error) {
  process.stderr.write(`kubectl mailfleet: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
