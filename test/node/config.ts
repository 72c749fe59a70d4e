// The real test node's configuration files, rendered from their inputs (no I/O): containerd, the CNI
// network, the kubelet, kube-proxy, CoreDNS and the local-path provisioner.
import { stringify } from 'yaml';
import {
  bridge,
  clusterDomain,
  cniBinDir,
  cniConfDir,
  cniIpamDir,
  containerdRoot,
  containerdSocket,
  containerdState,
  localPathDir,
  nodeIp,
  nodeName,
  outsideCidr,
  podCidr,
  podLogsDir,
  serviceCidr,
} from './layout.ts';

/**
 * containerd 1.6 with its CRI plugin. restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so the
 * -998 the CRI gives every sandbox would fail in runc. The sandbox image is the pause image built here.
 */
export function containerdConfig(pauseImage: string): string {
  return `version = 2
root = "${containerdRoot}"
state = "${containerdState}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${containerdSocket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBinDir}"
    conf_dir = "${cniConfDir}"
    max_conf_num = 1
`;
}

/**
 * The pod network: Debian's bridge and host-local plugins. Pods route only to the pod and Service
 * ranges and to the tests' outside hosts (no default route), and nothing is masqueraded.
 */
export function cniNetwork(): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'mailfleet-node',
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: cniIpamDir,
            ranges: [[{ subnet: podCidr, gateway: nodeIp }]],
            routes: [{ dst: serviceCidr }, { dst: outsideCidr }],
          },
        },
      ],
    },
    null,
    2,
  );
}

export interface KubeletPaths {
  readonly clientCaFile: string;
  readonly resolvConf: string;
  readonly healthzPort: number;
}

/**
 * The kubelet: cgroupfs on this machine's cgroup v1 hierarchy, clients authenticated by certificate
 * (the API server's) and authorized by the API server, cluster DNS on the node address, image garbage
 * collection off (every image here is built locally and cannot be pulled again).
 */
export function kubeletConfig(paths: KubeletPaths): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    address: nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: paths.healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: paths.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    clusterDNS: [nodeIp],
    clusterDomain,
    resolvConf: paths.resolvConf,
    podLogsDir,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    maxPods: 60,
    // Secret and ConfigMap volumes are refreshed on each pod sync: 10 s instead of 1 min keeps the
    // rotation tests short (a real cluster takes up to a minute or two).
    syncFrequency: '10s',
  });
}

export interface KubeProxyPaths {
  readonly kubeconfig: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
}

/** kube-proxy in iptables mode; NodePorts only on the node address, never on the host's interfaces. */
export function kubeProxyConfig(paths: KubeProxyPaths): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: paths.kubeconfig },
    hostnameOverride: nodeName,
    bindAddress: nodeIp,
    healthzBindAddress: `127.0.0.1:${paths.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${paths.metricsPort}`,
    clusterCIDR: podCidr,
    nodePortAddresses: [`${nodeIp}/32`],
    // Zero keeps the machine's conntrack settings as they are.
    conntrack: { maxPerCore: 0, min: 0 },
    iptables: { localhostNodePorts: false },
  });
}

/** CoreDNS serves the cluster's zones on the node address and forwards nothing anywhere. */
export function corefile(kubeconfig: string, readyPort: number): string {
  return `${clusterDomain}:53 in-addr.arpa:53 ip6.arpa:53 {
    bind ${nodeIp}
    errors
    ready 127.0.0.1:${readyPort}
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
    }
    cache 5
}
`;
}

export const localPath = {
  namespace: 'local-path-storage',
  serviceAccount: 'local-path-provisioner-service-account',
  configMap: 'local-path-config',
  storageClass: 'local-path',
  provisioner: 'rancher.io/local-path',
} as const;

/**
 * The objects local-path-provisioner needs in the cluster: its namespace, the ServiceAccount of its
 * helper pods, its ConfigMap (volume directory, the helper pod's scripts and template) and the default
 * StorageClass. The helper pod runs as root to make each volume's directory under a root-owned path.
 */
export function localPathObjects(helperImage: string): unknown[] {
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      containers: [
        {
          name: 'helper-pod',
          image: helperImage,
          imagePullPolicy: 'Never',
          securityContext: { runAsUser: 0, runAsGroup: 0 },
        },
      ],
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: localPath.namespace } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: localPath.serviceAccount, namespace: localPath.namespace },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: localPath.configMap, namespace: localPath.namespace },
      data: {
        'config.json': JSON.stringify({
          nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [localPathDir] }],
        }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': stringify(helperPod),
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: localPath.storageClass,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: localPath.provisioner,
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ];
}
