// A stand-in for the kubelet, for the demo and the end-to-end tests, on a machine with no container
// runtime. It is not Kubernetes: it watches the Pods that the real kube-controller-manager creates
// for the relay StatefulSets, and runs each as a local `node relay/main.ts` process (with the
// image's V8 flags, relay/runtime-flags.ts).
//
// What it does as the kubelet would: it materialises every ConfigMap and Secret volume through a
// `..data` symlink swap (test/support/projected-volume.ts) and re-projects it when the object
// changes, so the relay meets a change exactly as in a pod; emptyDir and PVC volumes are
// directories (a PVC's survives the pod); it probes the pod's readiness endpoint and reports the
// pod's phase and Ready condition through pods/status, so the StatefulSet and the SmtpRelay status
// follow; it restarts a relay that exits; on pod deletion it sends SIGTERM and waits up to the
// pod's terminationGracePeriodSeconds before SIGKILL.
// What it does differently (there is no mount namespace and no pod IP): paths and ports in the
// relay config are translated by pod-config.ts — each pod gets loopback ports of its own; `exec`
// runs only the relay's queue CLI, as a local process pointed at the pod's admin port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { KubeClient } from '../../operator/kube/client.ts';
import { systemClock } from '../../operator/kube/clock.ts';
import { Informer } from '../../operator/kube/informer.ts';
import {
  coreResources,
  objectPath,
  type KubeObject,
  type ResourceType,
} from '../../operator/kube/resource.ts';
import { silentLog } from '../../operator/log.ts';
import { projectVolume } from '../support/projected-volume.ts';
import {
  localiseQueueCommand,
  localiseRelayConfig,
  portsToBind,
  type MountedDirectory,
  type PodEndpoints,
} from './pod-config.ts';
import { volumeFiles, volumeSource, type DataObject, type PodVolume } from './volumes.ts';
import { relayNodeFlags } from '../../relay/runtime-flags.ts';

const podResource: ResourceType = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const relayMain = new URL('../../relay/main.ts', import.meta.url).pathname;

interface Container {
  readonly name: string;
  readonly image?: string;
  readonly args?: readonly string[];
  readonly volumeMounts?: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly subPath?: string;
  }[];
  readonly readinessProbe?: { readonly httpGet?: { readonly path?: string; readonly port: number | string } };
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
}

interface Pod extends KubeObject {
  spec?: { containers?: Container[]; volumes?: PodVolume[]; terminationGracePeriodSeconds?: number };
}

export interface LocalKubeletOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** Label selector (query-string form) of the pods to run. */
  readonly podSelector: string;
  /** Where pod volumes, PVC directories and relay logs go. */
  readonly workDir: string;
  /** Notable events (pod started, ready, volume updated, stopped), for the demo's narration. */
  readonly onEvent?: (event: string, pod: string, detail?: string) => void;
}

interface RunningPod {
  readonly name: string;
  readonly container: Container;
  readonly endpoints: PodEndpoints;
  readonly mounts: readonly MountedDirectory[];
  readonly configPath: string;
  readonly graceSeconds: number;
  /** Volume name → hash of the content last projected. */
  readonly projected: Map<string, string>;
  child: ChildProcess | undefined;
  restarts: number;
  ready: boolean;
  /** Whether a status was reported since the pod started. */
  reported: boolean;
  stopping: boolean;
  probe: NodeJS.Timeout | undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

function contentHash(files: Readonly<Record<string, Buffer>>): string {
  const hash = createHash('sha256');
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(name).update('\0').update(content).update('\0');
  }
  return hash.digest('hex');
}

export class LocalKubelet {
  readonly #options: LocalKubeletOptions;
  readonly #pods: Informer<Pod>;
  readonly #sources: Record<'configmap' | 'secret', Informer<DataObject>>;
  readonly #running = new Map<string, RunningPod>();
  #syncing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: LocalKubeletOptions) {
    this.#options = options;
    const common = {
      client: options.client,
      clock: systemClock,
      log: silentLog(),
      namespace: options.namespace,
    };
    this.#pods = new Informer<Pod>({ ...common, resource: podResource, labelSelector: options.podSelector });
    this.#sources = {
      configmap: new Informer<DataObject>({ ...common, resource: coreResources.configMap }),
      secret: new Informer<DataObject>({ ...common, resource: coreResources.secret }),
    };
    const resync = {
      added: () => {
        this.#kick();
      },
      updated: () => {
        this.#kick();
      },
      deleted: () => {
        this.#kick();
      },
    };
    for (const informer of [this.#pods, this.#sources.configmap, this.#sources.secret])
      informer.addHandlers(resync);
  }

  async start(): Promise<void> {
    const informers = [this.#pods, this.#sources.configmap, this.#sources.secret];
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((informer) => informer.waitForSync()));
    this.#kick();
  }

  /** The loopback port pod `pod` binds for its container port `containerPort`. */
  localPort(pod: string, containerPort: number): number | undefined {
    return this.#running.get(pod)?.endpoints.ports.get(containerPort);
  }

  runningPods(): string[] {
    return [...this.#running.keys()].sort();
  }

  /**
   * What `kubectl exec <pod> -- mailfleet-relay queue …` does in a real pod: the relay's queue CLI,
   * run as a local process against that pod's admin endpoint (there is no container to enter).
   */
  async exec(
    pod: string,
    argv: readonly string[],
  ): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> {
    const running = this.#running.get(pod);
    if (running === undefined) return { code: 1, stdout: '', stderr: `pod ${pod} is not running here\n` };
    const args = localiseQueueCommand(argv, await readFile(this.#localConfigPath(running), 'utf8'));
    return new Promise((resolve) => {
      execFile(process.execPath, [relayMain, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      });
    });
  }

  /** Where the relay of `pod` writes its output. */
  logPath(pod: string): string {
    return join(this.#options.workDir, 'pods', pod, 'relay.log');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#syncing;
    await Promise.all([...this.#running.values()].map((pod) => this.#terminate(pod)));
    await Promise.all([this.#pods, this.#sources.configmap, this.#sources.secret].map((i) => i.stop()));
  }

  #kick(): void {
    if (this.#stopped) return;
    this.#syncing = this.#syncing.then(
      () => this.#sync(),
      () => this.#sync(),
    );
  }

  #event(event: string, pod: string, detail?: string): void {
    this.#options.onEvent?.(event, pod, detail);
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map(
      this.#pods.store
        .list()
        .filter((pod) => pod.metadata?.deletionTimestamp === undefined)
        .map((pod) => [pod.metadata?.name ?? '', pod]),
    );
    for (const running of [...this.#running.values()]) {
      if (!wanted.has(running.name)) await this.#terminate(running);
    }
    for (const [name, pod] of wanted) {
      try {
        const running = this.#running.get(name) ?? (await this.#admit(pod));
        if (running !== undefined) await this.#projectVolumes(pod, running);
      } catch (error) {
        this.#event('error', name, error instanceof Error ? error.message : String(error));
      }
    }
    for (const pod of this.#pods.store.list()) {
      const name = pod.metadata?.name ?? '';
      if (pod.metadata?.deletionTimestamp !== undefined && !this.#running.has(name)) {
        // The kubelet confirms a graceful deletion once the containers are gone.
        await this.#options.client
          .request({
            verb: 'delete',
            path: objectPath(podResource, { namespace: this.#options.namespace, name }),
            query: { gracePeriodSeconds: '0' },
          })
          .catch(() => undefined);
      }
    }
  }

  /** Starts a new pod once every volume it needs can be materialised. */
  async #admit(pod: Pod): Promise<RunningPod | undefined> {
    const name = pod.metadata?.name ?? '';
    const container = pod.spec?.containers?.[0];
    if (container === undefined) throw new Error('the pod has no container');
    const volumes = new Map((pod.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
    for (const volume of volumes.values()) {
      const files = volumeFiles(volume, this.#source(volume));
      if (!files.ok) {
        this.#event('waiting', name, files.reason);
        return undefined;
      }
    }
    const podDir = join(this.#options.workDir, 'pods', name);
    const mounts: MountedDirectory[] = [];
    for (const mount of container.volumeMounts ?? []) {
      if (mount.subPath !== undefined)
        throw new Error(`volumeMount ${mount.name}: subPath is not supported here`);
      const volume = volumes.get(mount.name);
      if (volume === undefined) throw new Error(`volumeMount ${mount.name}: no such volume`);
      const localDir =
        volume.persistentVolumeClaim === undefined
          ? join(podDir, 'volumes', mount.name)
          : join(this.#options.workDir, 'persistent-volumes', volume.persistentVolumeClaim.claimName);
      await mkdir(localDir, { recursive: true });
      mounts.push({ mountPath: mount.mountPath, localDir });
    }
    const configIndex = (container.args ?? []).indexOf('--config');
    const configPath = container.args?.[configIndex + 1];
    if (configIndex === -1 || configPath === undefined)
      throw new Error('the relay container has no --config');
    const configText = this.#configText(pod, configPath);
    const ports = new Map<number, number>();
    const declared = [
      ...(container.ports ?? []).map((port) => port.containerPort),
      ...portsToBind(configText),
    ];
    for (const port of new Set(declared)) ports.set(port, await freePort());
    const running: RunningPod = {
      name,
      container,
      endpoints: { ports },
      mounts,
      configPath,
      graceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
      projected: new Map(),
      child: undefined,
      restarts: 0,
      ready: false,
      reported: false,
      stopping: false,
      probe: undefined,
    };
    this.#running.set(name, running);
    await this.#projectVolumes(pod, running);
    this.#spawn(running);
    return running;
  }

  #source(volume: PodVolume): DataObject | undefined {
    const source = volumeSource(volume);
    if (source === undefined) return undefined;
    const [kind, name] = source.split('/') as ['configmap' | 'secret', string];
    return this.#sources[kind].store.get(`${this.#options.namespace}/${name}`);
  }

  /** The relay config as the pod sees it: the file at `configPath` of the volume mounted there. */
  #configText(pod: Pod, configPath: string): string {
    const container = pod.spec?.containers?.[0];
    for (const mount of container?.volumeMounts ?? []) {
      if (!configPath.startsWith(`${mount.mountPath}/`)) continue;
      const volume = pod.spec?.volumes?.find((candidate) => candidate.name === mount.name);
      const files = volume === undefined ? undefined : volumeFiles(volume, this.#source(volume));
      const content =
        files?.ok === true ? files.files[configPath.slice(mount.mountPath.length + 1)] : undefined;
      if (content !== undefined) return content.toString('utf8');
    }
    throw new Error(`${configPath}: no ConfigMap volume provides the relay config`);
  }

  /** Writes each ConfigMap and Secret volume whose content changed, the way the kubelet swaps it. */
  async #projectVolumes(pod: Pod, running: RunningPod): Promise<void> {
    for (const mount of running.container.volumeMounts ?? []) {
      const volume = pod.spec?.volumes?.find((candidate) => candidate.name === mount.name);
      if (volume === undefined || volumeSource(volume) === undefined) continue;
      const result = volumeFiles(volume, this.#source(volume));
      if (!result.ok) {
        this.#event('waiting', running.name, result.reason);
        continue;
      }
      const files = { ...result.files };
      const configName = running.configPath.startsWith(`${mount.mountPath}/`)
        ? running.configPath.slice(mount.mountPath.length + 1)
        : undefined;
      const peers = new Map(
        [...this.#running.values()]
          .filter((other) => other.name !== running.name)
          .map((other) => [other.name, other.endpoints]),
      );
      const config = configName === undefined ? undefined : files[configName];
      if (configName !== undefined && config !== undefined) {
        files[configName] = Buffer.from(
          localiseRelayConfig(config.toString('utf8'), {
            mounts: running.mounts,
            self: running.endpoints,
            peers,
          }),
        );
      }
      const hash = contentHash(files);
      if (running.projected.get(mount.name) === hash) continue;
      const localDir = running.mounts.find((candidate) => candidate.mountPath === mount.mountPath)?.localDir;
      if (localDir === undefined) continue;
      await projectVolume(localDir, files);
      const first = !running.projected.has(mount.name);
      running.projected.set(mount.name, hash);
      if (!first)
        this.#event('volume-updated', running.name, `${mount.name} (${volumeSource(volume) ?? ''})`);
    }
  }

  #localConfigPath(running: RunningPod): string {
    const mount = running.mounts.find(({ mountPath }) => running.configPath.startsWith(`${mountPath}/`));
    if (mount === undefined) throw new Error(`${running.configPath} is on no volume`);
    return join(mount.localDir, running.configPath.slice(mount.mountPath.length + 1));
  }

  #spawn(running: RunningPod): void {
    const log = createWriteStream(this.logPath(running.name), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [...relayNodeFlags, relayMain, '--config', this.#localConfigPath(running)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    running.child = child;
    this.#event('started', running.name, `pid ${child.pid ?? '?'}`);
    child.once('exit', (code, signal) => {
      running.child = undefined;
      void this.#setReady(running, false);
      if (running.stopping || this.#stopped) return;
      running.restarts += 1;
      this.#event('restarting', running.name, `exited with ${signal ?? String(code)}`);
      setTimeout(() => {
        if (!running.stopping && !this.#stopped) this.#spawn(running);
      }, 1000).unref();
    });
    this.#startProbe(running);
  }

  #startProbe(running: RunningPod): void {
    const probe = running.container.readinessProbe?.httpGet;
    if (probe === undefined || running.probe !== undefined) return;
    const named = running.container.ports?.find((port) => port.name === probe.port)?.containerPort;
    const containerPort = typeof probe.port === 'number' ? probe.port : named;
    const port = containerPort === undefined ? undefined : running.endpoints.ports.get(containerPort);
    if (port === undefined) return;
    running.probe = setInterval(() => {
      fetch(`http://127.0.0.1:${port}${probe.path ?? '/'}`, { signal: AbortSignal.timeout(1000) }).then(
        (response) => this.#setReady(running, response.ok && running.child !== undefined),
        () => this.#setReady(running, false),
      );
    }, 500);
  }

  async #setReady(running: RunningPod, ready: boolean): Promise<void> {
    if (running.reported && running.ready === ready) return;
    running.reported = true;
    running.ready = ready;
    if (ready) this.#event('ready', running.name);
    const now = new Date().toISOString();
    const status = ready ? 'True' : 'False';
    await this.#options.client
      .request({
        verb: 'patch',
        path: objectPath(podResource, { namespace: this.#options.namespace, name: running.name }, 'status'),
        contentType: 'application/merge-patch+json',
        body: {
          status: {
            phase: 'Running',
            hostIP: '127.0.0.1',
            podIP: '127.0.0.1',
            podIPs: [{ ip: '127.0.0.1' }],
            startTime: now,
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status, lastTransitionTime: now },
              { type: 'Ready', status, lastTransitionTime: now },
            ],
            containerStatuses: [
              {
                name: running.container.name,
                image: running.container.image ?? '',
                imageID: '',
                ready,
                started: running.child !== undefined,
                restartCount: running.restarts,
                state:
                  running.child === undefined
                    ? { waiting: { reason: 'Starting' } }
                    : { running: { startedAt: now } },
              },
            ],
          },
        },
      })
      .catch(() => undefined);
  }

  async #terminate(running: RunningPod): Promise<void> {
    running.stopping = true;
    if (running.probe !== undefined) clearInterval(running.probe);
    this.#running.delete(running.name);
    const child = running.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), running.graceSeconds * 1000);
    await exited;
    clearTimeout(timer);
    this.#event('stopped', running.name);
  }
}
