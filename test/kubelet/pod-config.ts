// What a pod's own mount namespace and IP address give a relay in Kubernetes, the local kubelet
// stand-in gives by translating the rendered relay config, unchanged otherwise: file paths under a
// volume's mountPath point into the directory that volume is materialised in, every port the relay
// binds becomes a free loopback port of this pod, and drain peers named by the headless Service are
// the other local pods' addresses. Pure.
import { parseDocument } from 'yaml';

export interface MountedDirectory {
  readonly mountPath: string;
  readonly localDir: string;
}

export interface PodEndpoints {
  /** Container port → the loopback port the pod's relay binds instead. */
  readonly ports: ReadonlyMap<number, number>;
}

export interface PodLocalisation {
  readonly mounts: readonly MountedDirectory[];
  readonly self: PodEndpoints;
  /** The other running pods of the StatefulSet, by pod name. */
  readonly peers: ReadonlyMap<string, PodEndpoints>;
}

/** The local path for a path inside the pod; unchanged when no volume is mounted above it. */
export function localPath(podPath: string, mounts: readonly MountedDirectory[]): string {
  const mount = [...mounts]
    .sort((a, b) => b.mountPath.length - a.mountPath.length)
    .find(({ mountPath }) => podPath === mountPath || podPath.startsWith(`${mountPath}/`));
  return mount === undefined ? podPath : `${mount.localDir}${podPath.slice(mount.mountPath.length)}`;
}

function localPort(port: number, endpoints: PodEndpoints, what: string): number {
  const local = endpoints.ports.get(port);
  if (local === undefined) throw new Error(`${what}: container port ${port} is not declared by the pod`);
  return local;
}

/**
 * `host:port` drain peers, where a host is a pod of the headless Service (`<pod>.<service>...`)
 * or the Service itself (every peer pod): each becomes `127.0.0.1:<that pod's port>`.
 */
export function localPeers(peers: readonly string[], localisation: PodLocalisation): string[] {
  const result: string[] = [];
  for (const peer of peers) {
    const colon = peer.lastIndexOf(':');
    const host = peer.slice(0, colon);
    const port = Number(peer.slice(colon + 1));
    const podName = host.split('.')[0] ?? '';
    const named = localisation.peers.get(podName);
    const targets = named === undefined ? [...localisation.peers.values()] : [named];
    for (const target of targets) result.push(`127.0.0.1:${localPort(port, target, `drain peer ${peer}`)}`);
  }
  return [...new Set(result)];
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  }
  return value;
}

interface ConfigShape {
  listeners?: { port: number; address?: string }[];
  http?: { port: number; address?: string };
  queue?: { adminPort?: number };
  delivery?: { drainPeers?: string[] };
}

/** The relay config text as the pod would see it, translated for a local process. */
export function localiseRelayConfig(configText: string, localisation: PodLocalisation): string {
  const document = parseDocument(configText);
  if (document.errors.length > 0) throw new Error(`relay config: ${document.errors[0]?.message ?? ''}`);
  const config = mapStrings(document.toJS(), (text) =>
    text.startsWith('/') ? localPath(text, localisation.mounts) : text,
  ) as ConfigShape;
  for (const listener of config.listeners ?? []) {
    listener.port = localPort(listener.port, localisation.self, `listener on ${listener.port}`);
    listener.address = '127.0.0.1';
  }
  if (config.http !== undefined) {
    config.http.port = localPort(config.http.port, localisation.self, 'http');
    config.http.address = '127.0.0.1';
  }
  // The queue admin endpoint is loopback-only inside the pod; locally each pod needs its own port.
  if (config.queue?.adminPort !== undefined) {
    config.queue.adminPort = localPort(config.queue.adminPort, localisation.self, 'queue admin');
  }
  if (config.delivery?.drainPeers !== undefined) {
    config.delivery.drainPeers = localPeers(config.delivery.drainPeers, localisation);
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Every port the relay binds according to its config: the pod needs a loopback port for each. */
export function portsToBind(configText: string): number[] {
  const config = parseDocument(configText).toJS() as ConfigShape;
  const ports = [
    ...(config.listeners ?? []).map((listener) => listener.port),
    ...(config.http === undefined ? [] : [config.http.port]),
    ...(config.queue?.adminPort === undefined ? [] : [config.queue.adminPort]),
  ];
  return [...new Set(ports)];
}

/**
 * `mailfleet-relay queue …` as `kubectl exec` would run it in the pod, for a local process: the
 * queue CLI's defaults (the admin endpoint on 127.0.0.1:8026, the token in /tmp) are what the pod
 * has; locally that pod's admin port and token directory come from its localised config.
 */
export function localiseQueueCommand(argv: readonly string[], localConfigText: string): string[] {
  const [program, subcommand, ...rest] = argv;
  if (program !== 'mailfleet-relay' || subcommand !== 'queue') {
    throw new Error(`the stand-in kubelet execs only "mailfleet-relay queue …", not ${JSON.stringify(argv)}`);
  }
  const config = JSON.parse(localConfigText) as { queue?: { adminPort?: number; adminTokenDir?: string } };
  const port = config.queue?.adminPort;
  if (port === undefined) throw new Error('the relay config has no queue.adminPort');
  return [
    'queue',
    '--admin-url',
    `http://127.0.0.1:${port}`,
    ...(config.queue?.adminTokenDir === undefined ? [] : ['--admin-token-dir', config.queue.adminTokenDir]),
    ...rest,
  ];
}
