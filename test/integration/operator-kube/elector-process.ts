// A leader-election candidate in its own process, so a test can kill it without a release.
// argv: kubeconfig path, namespace, lease name, identity. Prints "leading" when it leads.
import { systemClock } from '../../../operator/kube/clock.ts';
import { LeaderElector } from '../../../operator/kube/leader.ts';
import { silentLog } from '../../../operator/log.ts';
import { clientFor } from './support.ts';
import { electionTimings } from './election-timings.ts';

const [kubeconfigPath, namespace, name, identity] = process.argv.slice(2);
if (kubeconfigPath === undefined || namespace === undefined || name === undefined || identity === undefined) {
  throw new Error('usage: elector-process.ts <kubeconfig> <namespace> <lease> <identity>');
}
const elector = new LeaderElector({
  client: clientFor(kubeconfigPath),
  clock: systemClock,
  log: silentLog(),
  namespace,
  name,
  identity,
  ...electionTimings,
  onStartedLeading: () => {
    process.stdout.write('leading\n');
  },
  onStoppedLeading: () => {
    process.stdout.write('stopped\n');
  },
});
elector.start();
setInterval(() => undefined, 60_000);
