// A real single-node Kubernetes cluster on this machine: the test control plane (etcd, kube-apiserver,
// kube-controller-manager) plus kube-scheduler, containerd with runc and the CNI bridge, the kubelet,
// kube-proxy, CoreDNS and local-path-provisioner as the default StorageClass. Every image is built
// here (test/node/images.sh) and imported into containerd; nothing is pulled. Needs root.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  controlPlaneBinaries,
  freePort,
  httpOk,
  kubeconfigFor,
  startComponent,
  startControlPlane,
  stopComponent,
  waitFor,
  type ControlPlane,
} from '../support/control-plane.ts';
import {
  cniNetwork,
  containerdConfig,
  corefile,
  kubeletConfig,
  kubeProxyConfig,
  localPath,
  localPathObjects,
} from './config.ts';
import { setUpHost, tearDownHost } from './host.ts';
import {
  cniConfDir,
  containerdRoot,
  containerdSocket,
  kubeletRoot,
  nodeIp,
  nodeName,
  persistentDir,
} from './layout.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');

/** The images of images.env: what the node runs, by role. */
export interface NodeImages {
  readonly PAUSE_IMAGE: string;
  readonly TOOLS_IMAGE: string;
  readonly RELAY_IMAGE: string;
  readonly OPERATOR_IMAGE: string;
  readonly RUNTIME_BASE_IMAGE: string;
  readonly NODE_BUILDER_IMAGE: string;
}

/** What a test needs to reach the cluster (passed to test files by test/with-cluster.ts). */
export interface ClusterAccess {
  readonly kubeconfigPath: string;
  readonly kubectlPath: string;
  readonly nodeBinDir: string;
  readonly images: NodeImages;
}

export interface Cluster extends ClusterAccess {
  readonly controlPlane: ControlPlane;
  stop(): Promise<void>;
}

async function script(path: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('bash', [join(repoRoot, path)], {
    maxBuffer: 16 << 20,
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

export const nodeBinaries = () => script('test/node/build.sh');

/** Builds the images (cached) and returns where their archives are, with what images.env names. */
export async function buildImages(
  env: Record<string, string> = {},
): Promise<{ dir: string; images: NodeImages }> {
  const dir = await script('test/node/images.sh', env);
  const entries = (await readFile(join(dir, 'images.env'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('=', 2) as [string, string]);
  return { dir, images: Object.fromEntries(entries) as unknown as NodeImages };
}

async function ctr(args: readonly string[]): Promise<string> {
  const { stdout } = await run('ctr', ['--address', containerdSocket, '--namespace', 'k8s.io', ...args], {
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/** Imports each archive whose image containerd does not hold yet under that ID (the store is kept between runs). */
export async function importImages(dir: string, images: NodeImages): Promise<void> {
  const record = join(persistentDir, 'imported.json');
  const imported = JSON.parse(await readFile(record, 'utf8').catch(() => '{}')) as Record<string, string>;
  const present = new Set((await ctr(['images', 'ls', '-q'])).split('\n'));
  for (const image of [images.PAUSE_IMAGE, images.TOOLS_IMAGE, images.RELAY_IMAGE, images.OPERATOR_IMAGE]) {
    const file = image.replace(/[/:]/g, '_');
    const id = (await readFile(join(dir, `${file}.id`), 'utf8')).trim();
    if (imported[image] === id && present.has(image)) continue;
    await ctr(['images', 'import', join(dir, `${file}.tar`)]);
    imported[image] = id;
  }
  await writeFile(record, JSON.stringify(imported, null, 2));
}

/** A CA and a client certificate for the API server's connections to the kubelet (logs, exec). */
async function kubeletClientPki(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, 'kubelet-client-ca.crt');
  const caKey = join(dir, 'kubelet-client-ca.key');
  const cert = join(dir, 'kubelet-client.crt');
  const key = join(dir, 'kubelet-client.key');
  const csr = join(dir, 'kubelet-client.csr');
  const openssl = (args: string[]) => run('openssl', args);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/CN=mailfleet-node-kubelet-client-ca',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
  ]);
  return { ca, cert, key };
}

export async function startCluster(): Promise<Cluster> {
  const [binDir, nodeBinDir, built] = [
    await controlPlaneBinaries(),
    await nodeBinaries(),
    await buildImages(),
  ];
  await tearDownHost();
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-node-'));
  await setUpHost();
  const components: ReturnType<typeof startComponent>[] = [];
  let controlPlane: ControlPlane | undefined;
  const stopAll = async () => {
    for (const component of [...components].reverse()) {
      if (component.name === 'containerd') {
        // Pod sandboxes go through the CRI, so their networks are torn down by the CNI plugins.
        await run(
          join(nodeBinDir, 'crictl'),
          ['--runtime-endpoint', `unix://${containerdSocket}`, 'rmp', '--all', '--force'],
          {
            timeout: 120_000,
          },
        ).catch(() => undefined);
      }
      await stopComponent(component);
    }
    await controlPlane?.stop();
    await tearDownHost();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await kubeletClientPki(dir);
    controlPlane = await startControlPlane({
      controllerManager: true,
      crdDir: null,
      address: nodeIp,
      forNode: {
        nodeName,
        apiServerArgs: [`--kubelet-client-certificate=${pki.cert}`, `--kubelet-client-key=${pki.key}`],
      },
    });
    const cp = controlPlane;
    const adminKubeconfig = cp.kubeconfigPath;
    const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
      const child = run(join(binDir, 'kubectl'), [`--kubeconfig=${adminKubeconfig}`, ...args], {
        maxBuffer: 64 << 20,
      });
      if (input !== undefined) child.child.stdin?.end(input);
      return (await child).stdout;
    };

    // containerd, with the CNI network in place so the node reports its network ready.
    await mkdir(cniConfDir, { recursive: true });
    await mkdir(containerdRoot, { recursive: true });
    await writeFile(join(cniConfDir, '10-mailfleet-node.conflist'), cniNetwork());
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(built.images.PAUSE_IMAGE));
    const containerd = startComponent(
      'containerd',
      'containerd',
      ['--config', join(dir, 'containerd.toml')],
      join(dir, 'containerd.log'),
    );
    components.push(containerd);
    await waitFor(containerd, 'its socket', async () => (await ctr(['version'])).includes('Server'));
    await importImages(built.dir, built.images);

    // The kubelet, as system:node:<name>.
    const nodeToken = cp.userTokens[`system:node:${nodeName}`] ?? '';
    await writeFile(join(dir, 'kubelet.kubeconfig'), kubeconfigFor(cp.server, cp.caPath, nodeToken), {
      mode: 0o600,
    });
    await writeFile(join(dir, 'resolv.conf'), '');
    const kubeletHealthz = await freePort();
    await writeFile(
      join(dir, 'kubelet.yaml'),
      kubeletConfig({
        clientCaFile: pki.ca,
        resolvConf: join(dir, 'resolv.conf'),
        healthzPort: kubeletHealthz,
      }),
    );
    const kubelet = startComponent(
      'kubelet',
      join(nodeBinDir, 'kubelet'),
      [
        `--config=${join(dir, 'kubelet.yaml')}`,
        `--kubeconfig=${join(dir, 'kubelet.kubeconfig')}`,
        `--hostname-override=${nodeName}`,
        `--node-ip=${nodeIp}`,
        `--root-dir=${kubeletRoot}`,
        `--cert-dir=${join(dir, 'kubelet-pki')}`,
      ],
      join(dir, 'kubelet.log'),
    );
    components.push(kubelet);

    const scheduler = startComponent(
      'kube-scheduler',
      join(nodeBinDir, 'kube-scheduler'),
      [
        `--kubeconfig=${adminKubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
      ],
      join(dir, 'kube-scheduler.log'),
    );
    components.push(scheduler);

    const proxyHealthz = await freePort();
    await writeFile(
      join(dir, 'kube-proxy.yaml'),
      kubeProxyConfig({
        kubeconfig: adminKubeconfig,
        healthzPort: proxyHealthz,
        metricsPort: await freePort(),
      }),
    );
    const proxy = startComponent(
      'kube-proxy',
      join(nodeBinDir, 'kube-proxy'),
      [`--config=${join(dir, 'kube-proxy.yaml')}`],
      join(dir, 'kube-proxy.log'),
    );
    components.push(proxy);

    const dnsReady = await freePort();
    await writeFile(join(dir, 'Corefile'), corefile(adminKubeconfig, dnsReady));
    const coredns = startComponent(
      'coredns',
      join(nodeBinDir, 'coredns'),
      ['-conf', join(dir, 'Corefile')],
      join(dir, 'coredns.log'),
    );
    components.push(coredns);

    await kubectl(
      ['apply', '--server-side', '-f', '-'],
      localPathObjects(built.images.TOOLS_IMAGE)
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const provisioner = startComponent(
      'local-path-provisioner',
      join(nodeBinDir, 'local-path-provisioner'),
      [
        'start',
        `--kubeconfig=${adminKubeconfig}`,
        `--namespace=${localPath.namespace}`,
        `--service-account-name=${localPath.serviceAccount}`,
        `--configmap-name=${localPath.configMap}`,
        `--helper-image=${built.images.TOOLS_IMAGE}`,
        `--provisioner-name=${localPath.provisioner}`,
      ],
      join(dir, 'local-path-provisioner.log'),
    );
    components.push(provisioner);

    await waitFor(kubelet, 'node Ready', async () => {
      const conditions = JSON.parse(
        await kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions}']),
      ) as {
        type: string;
        status: string;
      }[];
      return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    });
    await waitFor(proxy, 'healthz', () => httpOk(`http://127.0.0.1:${proxyHealthz}/healthz`));
    await waitFor(coredns, 'ready', () => httpOk(`http://127.0.0.1:${dnsReady}/ready`));

    return {
      controlPlane: cp,
      kubeconfigPath: adminKubeconfig,
      kubectlPath: join(binDir, 'kubectl'),
      images: built.images,
      nodeBinDir,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
