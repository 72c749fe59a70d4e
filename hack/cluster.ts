// `make cluster`: the real single-node cluster of the end-to-end tests (test/node/), up until Ctrl-C.
// Builds what it needs once per machine (Kubernetes components, CoreDNS, local-path-provisioner, the
// images), starts it, prints how to reach it, and tears it all down on Ctrl-C.
import { startCluster } from '../test/node/cluster.ts';
import { hostState, leftovers } from '../test/node/host.ts';

if (process.getuid?.() !== 0) {
  console.error('make cluster: the real node needs root (containerd, the kubelet and the pod network)');
  process.exit(2);
}
const before = await hostState();
const started = Date.now();
const cluster = await startCluster();
const { images } = cluster;
process.stdout.write(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  export KUBECONFIG=${cluster.kubeconfigPath}
  alias kubectl=${cluster.kubectlPath}
  kubectl get nodes -o wide

Images in the node (imagePullPolicy IfNotPresent finds them; nothing can be pulled):
  operator  ${images.OPERATOR_IMAGE}
  relay     ${images.RELAY_IMAGE}
  tools     ${images.TOOLS_IMAGE} (swaks, smtp-sink, openssl, dkimpy)

Install the chart as docs/install.md says, with the local images:
  $(bash hack/helm.sh) install mailfleet charts/mailfleet -n mailfleet-system --create-namespace \\
    --set operator.image.repository=${images.OPERATOR_IMAGE.split(':')[0]} --set operator.image.tag=${images.OPERATOR_IMAGE.split(':')[1]} \\
    --set relay.image.repository=${images.RELAY_IMAGE.split(':')[0]} --set relay.image.tag=${images.RELAY_IMAGE.split(':')[1]}

Ctrl-C tears it all down.
`);
const stop = async () => {
  await cluster.stop();
  const left = leftovers(before, await hostState());
  if (left.length > 0) console.error(`left behind:\n  ${left.join('\n  ')}`);
  process.exit(left.length > 0 ? 1 : 0);
};
if (process.env['MAILFLEET_CLUSTER_EXIT'] === '1') await stop();
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
