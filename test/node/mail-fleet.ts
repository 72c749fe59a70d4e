// The real-node tests' view of a mail fleet: the chart installed as docs/install.md says, a relay
// namespace under the restricted Pod Security profile, a next hop (Postfix's smtp-sink in a pod), client
// pods with swaks and Python, and reading what the next hop received.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import type { ClusterAccess } from './cluster.ts';
import { eventually, kubectl } from './shared.ts';
import { makeTestCertificates } from '../support/tls.ts';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../..');
export const operatorNamespace = 'mailfleet-system';
export const release = 'mailfleet';
/** The operator's pods (not the chart's helm test pod, which carries component helm-test). */
export const operatorSelector = 'app.kubernetes.io/name=mailfleet,app.kubernetes.io/component=operator';
export const password = 'e2e-password-1';

export async function helm(cluster: ClusterAccess, args: readonly string[]): Promise<string> {
  const helmPath = (await run('bash', [join(repoRoot, 'hack/helm.sh')])).stdout.trim();
  try {
    const { stdout } = await run(helmPath, [...args, `--kubeconfig=${cluster.kubeconfigPath}`], {
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    throw new Error(`helm ${args.join(' ')}: ${(error as { stderr?: string }).stderr ?? String(error)}`, {
      cause: error,
    });
  }
}

/** `helm upgrade` of the installed release with its values and these extra arguments (`--set`, …). */
export function helmUpgrade(cluster: ClusterAccess, extraArgs: readonly string[]): Promise<string> {
  return helm(cluster, [
    'upgrade',
    release,
    'charts/mailfleet',
    '--namespace',
    operatorNamespace,
    '--reuse-values',
    ...extraArgs,
  ]);
}

/** The values that point the chart at the images built here (the defaults name the release registry). */
export function localImageValues(images: { OPERATOR_IMAGE: string; RELAY_IMAGE: string }): string[] {
  const [operatorRepository, operatorTag] = images.OPERATOR_IMAGE.split(/:(?=[^:]+$)/);
  const [relayRepository, relayTag] = images.RELAY_IMAGE.split(/:(?=[^:]+$)/);
  return [
    '--set',
    `operator.image.repository=${operatorRepository},operator.image.tag=${operatorTag}`,
    '--set',
    `relay.image.repository=${relayRepository},relay.image.tag=${relayTag}`,
  ];
}

/** A namespace under the restricted Pod Security profile, as docs/install.md creates them. */
export async function restrictedNamespace(cluster: ClusterAccess, name: string): Promise<void> {
  await kubectl(cluster, ['create', 'namespace', name]);
  await kubectl(cluster, ['label', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted']);
}

export const restrictedContainer = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** A pod of the tools image that sleeps, for `kubectl exec` (swaks, Python, openssl). */
export function toolsPod(
  name: string,
  namespace: string,
  image: string,
  configMaps: readonly string[] = [],
): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'tools',
          image,
          command: ['sleep', 'infinity'],
          securityContext: restrictedContainer,
          volumeMounts: [
            { name: 'tmp', mountPath: '/tmp' },
            ...configMaps.map((c) => ({ name: c, mountPath: `/etc/${c}` })),
          ],
        },
      ],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        ...configMaps.map((c) => ({ name: c, configMap: { name: c } })),
      ],
    },
  };
}

/** Postfix's smtp-sink on port 2525 behind the Service `sink`, dumping every transaction to /dump. */
export function sinkObjects(namespace: string, image: string): unknown[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sink', namespace, labels: { app: 'sink' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'smtp-sink',
            image,
            command: ['/usr/sbin/smtp-sink', '-d', '/dump/%H%M%S.', '0.0.0.0:2525', '256'],
            ports: [{ containerPort: 2525, name: 'smtp' }],
            securityContext: restrictedContainer,
            readinessProbe: { tcpSocket: { port: 2525 }, periodSeconds: 1 },
            volumeMounts: [{ name: 'dump', mountPath: '/dump' }],
          },
        ],
        volumes: [{ name: 'dump', emptyDir: {} }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sink', namespace },
      spec: { selector: { app: 'sink' }, ports: [{ name: 'smtp', port: 2525, targetPort: 2525 }] },
    },
  ];
}

export async function applyObjects(cluster: ClusterAccess, objects: readonly unknown[]): Promise<void> {
  await kubectl(
    cluster,
    ['apply', '--server-side', '-f', '-'],
    objects.map((o) => JSON.stringify(o)).join('\n'),
  );
}

export async function waitPodsReady(
  cluster: ClusterAccess,
  namespace: string,
  selector: string,
  count: number,
): Promise<void> {
  await eventually(
    `${count} pods ${selector} in ${namespace} Ready`,
    async () => {
      const pods = JSON.parse(
        await kubectl(cluster, ['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']),
      ) as {
        items: {
          metadata: { deletionTimestamp?: string };
          status: { conditions?: { type: string; status: string }[] };
        }[];
      };
      const ready = pods.items.filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === count && pods.items.length === count;
    },
    180_000,
  );
}

export interface Dump {
  readonly name: string;
  readonly raw: string;
}

/** What the sink received: one dump per transaction, complete ones only. */
export async function sinkDumps(cluster: ClusterAccess, namespace: string): Promise<Dump[]> {
  const script =
    'import glob,json,os\n' +
    'print(json.dumps([{"name":os.path.basename(f),"raw":open(f,errors="replace").read()} for f in sorted(glob.glob("/dump/*"))]))';
  const out = await kubectl(cluster, ['-n', namespace, 'exec', 'sink', '--', 'python3', '-c', script]);
  return (JSON.parse(out) as Dump[]).filter((d) => /\r?\n\r?\n/.test(d.raw));
}

/** The message of a dump, without smtp-sink's own X- lines before it. */
export function dumpMessage(dump: Dump): string {
  return dump.raw.replace(/^(X-[A-Za-z-]+: .*\r?\n)+/, '');
}

export interface FleetSecrets {
  readonly caPem: string;
}

/** The relay's TLS Secret (a certificate for the Service name), its users Secret and the CA as a ConfigMap. */
export async function relaySecrets(
  cluster: ClusterAccess,
  namespace: string,
  relay: string,
  dir: string,
): Promise<FleetSecrets> {
  const names = [`${relay}.${namespace}.svc.cluster.local`, `${relay}.${namespace}.svc`];
  const certificates = await makeTestCertificates(names, dir, relay);
  await kubectl(cluster, [
    '-n',
    namespace,
    'create',
    'secret',
    'tls',
    `${relay}-tls`,
    `--cert=${certificates.certFile}`,
    `--key=${certificates.keyFile}`,
  ]);
  await kubectl(cluster, [
    '-n',
    namespace,
    'create',
    'secret',
    'generic',
    `${relay}-users`,
    `--from-literal=users=app:${bcrypt.hashSync(password, 10)}`,
  ]);
  await kubectl(cluster, [
    '-n',
    namespace,
    'create',
    'configmap',
    'relay-ca',
    `--from-file=ca.crt=${certificates.caFile}`,
  ]);
  return { caPem: await readFile(certificates.caFile, 'utf8') };
}

export interface SwaksResult {
  readonly ok: boolean;
  readonly output: string;
}

/** swaks in a client pod; resolves with its transcript whatever the outcome. */
export async function swaks(
  cluster: ClusterAccess,
  namespace: string,
  pod: string,
  args: readonly string[],
): Promise<SwaksResult> {
  try {
    const output = await kubectl(cluster, [
      '-n',
      namespace,
      'exec',
      pod,
      '--',
      'swaks',
      '--timeout',
      '30',
      ...args,
    ]);
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: String(error) };
  }
}

/** The load generator of the scenarios (test/node/scripts/load.py), mounted in client-trusted. */
export const loadScript = join(repoRoot, 'test/node/scripts/load.py');

export interface LoadResult {
  readonly sent: number;
  readonly accepted: readonly number[];
  readonly refused: Readonly<Record<string, number>>;
}

/** A steady load on port 25 of the relay Service from client-trusted (clientNetworks, no AUTH). */
export async function runLoad(
  cluster: ClusterAccess,
  namespace: string,
  relayHost: string,
  runId: string,
  seconds: number,
): Promise<LoadResult> {
  const out = await kubectl(cluster, [
    '-n',
    namespace,
    'exec',
    'client-trusted',
    '--',
    'python3',
    '/etc/load-script/load.py',
    relayHost,
    '25',
    runId,
    String(seconds),
  ]);
  return JSON.parse(out) as LoadResult;
}

export interface DeliveryCount {
  readonly delivered: number;
  readonly duplicates: number;
  readonly missing: readonly number[];
}

/** How the sink's copies of a load run compare with what the relay accepted. */
export async function countDelivered(
  cluster: ClusterAccess,
  namespace: string,
  runId: string,
  accepted: readonly number[],
): Promise<DeliveryCount> {
  const copies = new Map<number, number>();
  for (const dump of await sinkDumps(cluster, namespace)) {
    const seq = new RegExp(`^X-E2e-Seq: ${runId}-(\\d+)\\r?$`, 'm').exec(dump.raw)?.[1];
    if (seq !== undefined) copies.set(Number(seq), (copies.get(Number(seq)) ?? 0) + 1);
  }
  const duplicates = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
  return { delivered: copies.size, duplicates, missing: accepted.filter((n) => !copies.has(n)) };
}

/** Waits until every accepted message of the run is at the sink, then counts copies. */
export async function waitAllDelivered(
  cluster: ClusterAccess,
  namespace: string,
  runId: string,
  accepted: readonly number[],
  timeoutMs = 180_000,
): Promise<DeliveryCount> {
  let count: DeliveryCount = { delivered: 0, duplicates: 0, missing: [...accepted] };
  await eventually(
    `every accepted message of ${runId} at the sink`,
    async () => {
      count = await countDelivered(cluster, namespace, runId, accepted);
      return count.missing.length === 0;
    },
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}; missing ${count.missing.length}: ${count.missing.slice(0, 20).join(',')}`,
      {
        cause: error,
      },
    );
  });
  return count;
}

/** A field of the operator's leader election Lease, by JSONPath (e.g. `{.spec.holderIdentity}`). */
export async function operatorLease(cluster: ClusterAccess, jsonPath: string): Promise<string> {
  return kubectl(cluster, ['-n', operatorNamespace, 'get', 'lease', release, '-o', `jsonpath=${jsonPath}`]);
}

export interface StarttlsProbe {
  /** The relay pod's own address: the probe skips the Service and its load balancing. */
  readonly podIp: string;
  /** The container's submission port (the Service maps 587 to it). */
  readonly port: number;
  /** The name the certificate must carry (the Service's), checked against `caPem`. */
  readonly serverName: string;
  readonly caPem: string;
  readonly login?: { readonly user: string; readonly password: string };
  /** AUTH mechanisms the pod must offer inside TLS (its loaded config enables them). */
  readonly offers?: readonly string[];
}

// Connects to one pod's address while the TLS layer verifies the Service's name: smtplib keeps the
// host it was given for the certificate check, the subclass only chooses where the socket goes.
const starttlsScript = `import json,socket,smtplib,ssl,sys
p=json.loads(sys.stdin.read())
class Pod(smtplib.SMTP):
    def _get_socket(self,host,port,timeout):
        return socket.create_connection((p["podIp"],port),timeout)
s=Pod(p["serverName"],p["port"],timeout=10)
s.starttls(context=ssl.create_default_context(cadata=p["caPem"]))
s.ehlo()
missing=[m for m in p.get("offers",[]) if m not in s.esmtp_features.get("auth","").upper().split()]
if missing: sys.exit("AUTH does not offer "+" ".join(missing))
if p.get("login"): s.login(p["login"]["user"],p["login"]["password"])
s.quit()`;

/** STARTTLS (then the AUTH offer and a login, when asked) on the submission port of one relay pod, from a client pod. */
export async function starttlsOnPod(
  cluster: ClusterAccess,
  namespace: string,
  clientPod: string,
  probe: StarttlsProbe,
): Promise<SwaksResult> {
  try {
    const output = await kubectl(
      cluster,
      ['-n', namespace, 'exec', '-i', clientPod, '--', 'python3', '-c', starttlsScript],
      JSON.stringify(probe),
    );
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: String(error) };
  }
}

/** Replaces a Secret as `kubectl create secret <args>` would make it (server-side apply, taking over its fields). */
export async function replaceSecret(
  cluster: ClusterAccess,
  namespace: string,
  args: readonly string[],
): Promise<void> {
  const manifest = await kubectl(cluster, [
    ...['-n', namespace, 'create', 'secret', ...args, '--dry-run=client', '-o', 'json'],
  ]);
  await kubectl(
    cluster,
    ['-n', namespace, 'apply', '--server-side', '--force-conflicts', '-f', '-'],
    manifest,
  );
}
