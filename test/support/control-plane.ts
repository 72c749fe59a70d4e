// A real Kubernetes control plane for the tests: etcd and kube-apiserver (and, when asked,
// kube-controller-manager) on free loopback ports, with an admin identity generated for the run,
// the CRDs from crds/ installed and served. One per test run, shared by the integration tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly caPath: string;
  readonly adminToken: string;
  readonly binDir: string;
  /** Tokens of extra, unprivileged identities (for RBAC tests): user name → bearer token. */
  readonly userTokens: Readonly<Record<string, string>>;
  /** The API server's audit log of writes (JSON lines), when started with `auditLog`. */
  readonly auditLogPath: string | undefined;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /**
   * Restarts the API server signing ServiceAccount tokens with a new key. With `keepOldKeys` its
   * JWKS and token authenticator still hold the earlier public keys (a rotation's overlap);
   * without, only the new key is served.
   */
  rotateServiceAccountKey(options: { readonly keepOldKeys: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Runs the kube-apiserver of this directory (an older release) with the etcd of build.sh. */
  readonly apiServerBinDir?: string;
  readonly controllerManager?: boolean;
  readonly extraUsers?: readonly string[];
  /** The CRDs installed before the control plane is handed out; null installs none. */
  readonly crdDir?: string | null;
  /** Where the API server listens and what it advertises (default 127.0.0.1: no pod reaches it). */
  readonly address?: string;
  /**
   * A control plane for a real node (test/node/): ServiceAccount admission (pods get their tokens),
   * the Node authorizer and NodeRestriction, every default controller, and these extra API server
   * arguments (the kubelet client certificate).
   */
  readonly forNode?: { readonly apiServerArgs: readonly string[]; readonly nodeName: string };
  /** Audits every write (create, update, patch, delete) at Metadata level (test/support/audit-log.ts). */
  readonly auditLog?: boolean;
}

interface Component {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logPath: string;
}

// Metadata (who, what, when, the answer's code) is enough to order writes; reads are not logged.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

/** Builds (or finds in the cache) the binaries and returns their directory. */
export async function controlPlaneBinaries(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [join(repoRoot, 'test/controlplane/build.sh')], {
    maxBuffer: 1 << 20,
  });
  return stdout.trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function tail(path: string, lines = 40): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

export function startComponent(
  name: string,
  bin: string,
  args: readonly string[],
  logPath: string,
): Component {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return { name, process: child, logPath };
}

export async function stopComponent(component: Component): Promise<void> {
  const child = component.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

export async function waitFor(
  component: Component,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (component.process.exitCode !== null) {
      throw new Error(
        `${component.name} exited (${component.process.exitCode}) before ${what}; log tail:\n${await tail(component.logPath)}`,
      );
    }
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(
    `${component.name}: ${what} not reached in ${timeoutMs} ms; log tail:\n${await tail(component.logPath)}`,
  );
}

/** A kubeconfig for one bearer token against the test API server. */
export function kubeconfigFor(server: string, caPath: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: mailfleet-test`,
    `  cluster: { server: "${server}", certificate-authority: "${caPath}" }`,
    'users:',
    `- name: user`,
    `  user: { token: "${token}" }`,
    'contexts:',
    '- name: mailfleet-test',
    '  context: { cluster: mailfleet-test, user: user, namespace: default }',
    'current-context: mailfleet-test',
    '',
  ].join('\n');
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.ok;
}

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** An HTTPS request to the test apiserver as the admin (or the given token), trusting its certificate. */
export async function kubeRequest(
  target: { readonly server: string; readonly caPath: string; readonly adminToken: string },
  method: string,
  path: string,
  options: { body?: string; contentType?: string; token?: string } = {},
): Promise<KubeResponse> {
  const ca = await readFile(target.caPath);
  return new Promise((resolveResponse, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? target.adminToken}` };
    if (options.contentType) headers['content-type'] = options.contentType;
    const req = httpsRequest(
      new URL(path, target.server),
      { method, headers, ca, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await controlPlaneBinaries();
  const apiServerBinary = join(options.apiServerBinDir ?? binDir, 'kube-apiserver');
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-cp-'));
  const adminToken = randomBytes(24).toString('hex');
  const userTokens: Record<string, string> = {};
  const tokenLines = [`${adminToken},mailfleet-test-admin,mailfleet-test-admin,system:masters`];
  for (const user of options.extraUsers ?? []) {
    userTokens[user] = randomBytes(24).toString('hex');
    tokenLines.push(`${userTokens[user]},${user},${user}`);
  }
  if (options.forNode) {
    // The kubelet's identity, as the Node authorizer and NodeRestriction expect it.
    const nodeUser = `system:node:${options.forNode.nodeName}`;
    userTokens[nodeUser] = randomBytes(24).toString('hex');
    tokenLines.push(`${userTokens[nodeUser]},${nodeUser},${nodeUser},system:nodes`);
  }
  await writeFile(join(dir, 'tokens.csv'), tokenLines.join('\n') + '\n', { mode: 0o600 });
  await writeServiceAccountKey(dir, { keepOldKeys: false });

  const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcd = startComponent(
    'etcd',
    join(binDir, 'etcd'),
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    join(dir, 'etcd.log'),
  );
  const components: Component[] = [etcd];
  const stopAll = async () => {
    for (const component of [...components].reverse()) await stopComponent(component);
  };
  try {
    await waitFor(etcd, 'health', () => httpOk(`http://127.0.0.1:${etcdClientPort}/health`));
  } catch (error) {
    await stopAll();
    throw error;
  }

  const auditLogPath = options.auditLog ? join(dir, 'audit.log') : undefined;
  if (auditLogPath !== undefined) await writeFile(join(dir, 'audit-policy.yaml'), auditPolicy);
  const address = options.address ?? '127.0.0.1';
  const server = `https://${address}:${apiPort}`;
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
    `--secure-port=${apiPort}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/24',
    '--allow-privileged=true',
    '--enable-priority-and-fairness=false',
    ...(auditLogPath === undefined
      ? []
      : [`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLogPath}`]),
    ...(options.forNode
      ? [
          '--authorization-mode=Node,RBAC',
          '--enable-admission-plugins=NodeRestriction',
          '--kubelet-preferred-address-types=InternalIP',
          ...options.forNode.apiServerArgs,
        ]
      : ['--authorization-mode=RBAC', '--disable-admission-plugins=ServiceAccount']),
  ];
  let apiServer = startComponent('kube-apiserver', apiServerBinary, apiArgs, join(dir, 'kube-apiserver.log'));
  components.push(apiServer);
  const caPath = join(dir, 'pki', 'apiserver.crt');
  const target = { server, caPath, adminToken };
  const waitReady = (component: Component) =>
    waitFor(component, 'readiness', async () => (await kubeRequest(target, 'GET', '/readyz')).status === 200);
  try {
    await waitReady(apiServer);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigFor(server, caPath, adminToken), { mode: 0o600 });

  if (options.controllerManager) {
    const controllerManager = startComponent(
      'kube-controller-manager',
      join(binDir, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfigPath}`,
        options.forNode
          ? `--root-ca-file=${caPath}`
          : '--controllers=garbagecollector,namespace,statefulset,serviceaccount-token,serviceaccount',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        '--leader-elect=false',
      ],
      join(dir, 'kube-controller-manager.log'),
    );
    components.push(controllerManager);
  }

  const controlPlane: ControlPlane = {
    dir,
    kubeconfigPath,
    server,
    caPath,
    adminToken,
    binDir,
    userTokens,
    auditLogPath,
    async stopApiServer() {
      await stopComponent(apiServer);
    },
    async startApiServer() {
      const index = components.indexOf(apiServer);
      apiServer = startComponent('kube-apiserver', apiServerBinary, apiArgs, join(dir, 'kube-apiserver.log'));
      components[index] = apiServer;
      await waitReady(apiServer);
    },
    async rotateServiceAccountKey(rotation) {
      await stopComponent(apiServer);
      await writeServiceAccountKey(dir, rotation);
      await controlPlane.startApiServer();
    },
    async stop() {
      await stopAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    if (options.crdDir !== null) await installCrds(controlPlane, options.crdDir ?? join(repoRoot, 'crds'));
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  return controlPlane;
}

/** A new ServiceAccount signing key in sa.key; sa.pub holds its public key (after the earlier ones when kept). */
async function writeServiceAccountKey(
  dir: string,
  options: { readonly keepOldKeys: boolean },
): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const earlier = options.keepOldKeys ? await readFile(join(dir, 'sa.pub'), 'utf8') : '';
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(
    join(dir, 'sa.pub'),
    `${earlier}${publicKey.export({ type: 'spki', format: 'pem' }).toString()}`,
  );
}

/** Server-side applies every CRD in the directory and waits until each is Established and served. */
export async function installCrds(controlPlane: ControlPlane, crdDir: string): Promise<void> {
  const files = (await readdir(crdDir).catch(() => [])).filter((file) => /\.ya?ml$/.test(file)).sort();
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
      const crd = document.toJS() as { metadata: { name: string } } | null;
      if (!crd) continue;
      const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=mailfleet-test&force=true`;
      const response = await kubeRequest(controlPlane, 'PATCH', path, {
        body: JSON.stringify(crd),
        contentType: 'application/apply-patch+yaml',
      });
      if (response.status >= 300) throw new Error(`installing ${file}: ${response.status} ${response.body}`);
      await waitForCrd(controlPlane, crd.metadata.name);
    }
  }
}

interface CrdView {
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

async function waitForCrd(controlPlane: ControlPlane, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await kubeRequest(
      controlPlane,
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    );
    const crd = JSON.parse(response.body) as CrdView;
    const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    const version = crd.spec.versions.find((v) => v.served)?.name;
    if (established && version) {
      const list = await kubeRequest(
        controlPlane,
        'GET',
        `/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}`,
      );
      if (list.status === 200) return;
    }
    await sleep(100);
  }
  throw new Error(`CRD ${name} was not established and served within 30 s`);
}
