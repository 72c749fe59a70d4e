// Where the real test node lives on this machine: its names, addresses and directories. One node at a
// time: a second start first tears down whatever a previous run left (test/node/host.ts).
//
// Addresses: pods get 10.244.0.0/24 on the bridge mfnode0, whose own address 10.244.0.1 is the node's
// (kubelet, API server, CoreDNS and NodePorts listen there). Services get 10.96.0.0/24. A pod has a
// route to those two ranges and no default route; the host drops anything from the pod range that would
// leave by another interface, except answers to the tests' outside hosts. Nothing reaches past this machine.
import { join } from 'node:path';

export const nodeName = 'mailfleet-node';
export const bridge = 'mfnode0';
export const podCidr = '10.244.0.0/24';
export const nodeIp = '10.244.0.1';
export const serviceCidr = '10.96.0.0/24';
/**
 * Addresses of the test's own "outside" hosts: network namespaces a test makes to reach the node as a
 * client from outside the cluster would (through a NodePort). Pods may answer them and nothing else.
 */
export const outsideCidr = '10.245.0.0/24';
/** The network namespace of the outside host (test/node/outside-host.ts). */
export const outsideNetns = 'mfoutside';
export const clusterDomain = 'cluster.local';
/** The iptables chain of our own FORWARD rules (the pod range's egress guard). */
export const forwardChain = 'MAILFLEET-NODE-FORWARD';
/** Chains the kubelet creates in the filter, nat and mangle tables of iptables and ip6tables. */
export const kubeletChains = ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT'] as const;

/** Kept between runs: containerd's content and snapshots, so imported images stay imported. */
export const persistentDir = '/var/lib/mailfleet-node';
export const containerdRoot = join(persistentDir, 'containerd');
/** Made anew by each run and removed by its tear-down. */
export const runDir = '/run/mailfleet-node';
export const containerdState = join(runDir, 'containerd');
export const containerdSocket = join(runDir, 'containerd.sock');
export const cniConfDir = join(runDir, 'cni');
export const cniIpamDir = join(runDir, 'cni-ipam');
export const kubeletRoot = join(persistentDir, 'kubelet');
export const podLogsDir = join(persistentDir, 'pod-logs');
export const localPathDir = join(persistentDir, 'local-path');
/** The kubelet links each container's log here (a fixed path in the kubelet). */
export const containerLogLinks = '/var/log/containers';
export const cniBinDir = '/usr/lib/cni';
