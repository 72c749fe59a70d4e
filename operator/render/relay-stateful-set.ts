// The relay StatefulSet: hardened pods (non-root, read-only root, no capabilities, RuntimeDefault
// seccomp, no API token), the config, TLS, users and relay-owned Secret volumes, the queue volume
// (a PVC per pod, or a size-limited emptyDir), probes on the relay's HTTP port, and a grace period
// longer than the drain. Pure.
//
// The pod template carries a hash of only what the relay reads at start (listeners, HTTP, queue,
// delivery, log level): a change there rolls the pods; a change of anything the relay reloads live
// (policy and sender domains, users, limits, certificates, DKIM keys, smarthost credentials) does
// not, and neither does Secret or ConfigMap content, which reaches the pods through their volumes.
import type { RelayConfig } from '../../relay/config/types.ts';
import type { SmtpRelay } from '../api/types.generated.ts';
import { contentHash } from '../kube/object-compare.ts';
import type { KubeObject } from '../kube/resource.ts';
import {
  configDir,
  configPath,
  containerPortFor,
  httpPort,
  httpPortName,
  livenessPath,
  queueDir,
  readinessPath,
  relaySecretsDir,
  relayUserId,
  tlsCertificatePath,
  tlsDir,
  tlsPrivateKeyPath,
  tmpDir,
  usersDir,
  usersFilePath,
} from './relay-paths.ts';
import { commonLabels, objectNames, ownedMetadata, selectorLabels } from './relay-names.ts';
import { canonicalQuantity, parseDurationSeconds } from './units.ts';

export const restartHashAnnotation = 'mailfleet.dev/restart-hash';

/** Seconds a pod gets after SIGTERM beyond the drain timeout, for the handoff to peers. */
export const handoffGraceSeconds = 60;

const queueVolume = 'queue';

/** The PVC the StatefulSet makes for pod `<relay>-<ordinal>` (`Persistent` storage). */
export const queueClaimName = (relay: SmtpRelay, ordinal: number | string): string =>
  `${queueVolume}-${objectNames.statefulSet(relay)}-${ordinal}`;
const secretFileMode = 0o440;

export interface StatefulSetInputs {
  readonly relay: SmtpRelay;
  readonly config: RelayConfig;
  readonly image: string;
}

/** The TLS Secret the pods mount and the keys in it, from secretRef or the cert-manager Certificate. */
export function tlsSecretOf(
  relay: SmtpRelay,
): { name: string; certificateKey: string; privateKeyKey: string } | undefined {
  const tls = relay.spec.tls;
  if (tls?.secretRef !== undefined) return { ...tls.secretRef };
  if (tls?.issuerRef !== undefined) {
    return {
      name: objectNames.certificateSecret(relay),
      certificateKey: 'tls.crt',
      privateKeyKey: 'tls.key',
    };
  }
  return undefined;
}

export function restartHash(config: RelayConfig): string {
  // Drain peers change with replicas; each pod reads them at start, and a stale list only lacks
  // pods added later, so scaling never rolls the fleet.
  const delivery = Object.fromEntries(
    Object.entries(config.delivery).filter(([field]) => field !== 'drainPeers'),
  );
  return contentHash({
    listeners: config.listeners,
    http: config.http,
    log: config.log,
    queue: config.queue,
    delivery,
  });
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function volumes(relay: SmtpRelay): { volumes: KubeObject[]; mounts: KubeObject[] } {
  const volumes: KubeObject[] = [
    { name: 'config', configMap: { name: objectNames.configMap(relay) } },
    {
      name: 'relay-secrets',
      secret: { secretName: objectNames.relaySecret(relay), defaultMode: secretFileMode },
    },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  ];
  const mounts: KubeObject[] = [
    { name: 'config', mountPath: configDir, readOnly: true },
    { name: 'relay-secrets', mountPath: relaySecretsDir, readOnly: true },
    { name: 'tmp', mountPath: tmpDir },
    { name: queueVolume, mountPath: queueDir },
  ];
  const tls = tlsSecretOf(relay);
  if (tls !== undefined) {
    volumes.push({
      name: 'tls',
      secret: {
        secretName: tls.name,
        defaultMode: secretFileMode,
        items: [
          { key: tls.certificateKey, path: fileName(tlsCertificatePath) },
          { key: tls.privateKeyKey, path: fileName(tlsPrivateKeyPath) },
        ],
      },
    });
    mounts.push({ name: 'tls', mountPath: tlsDir, readOnly: true });
  }
  const users = relay.spec.auth?.usersSecretRef;
  if (users !== undefined) {
    volumes.push({
      name: 'users',
      secret: {
        secretName: users.name,
        defaultMode: secretFileMode,
        items: [{ key: users.key, path: fileName(usersFilePath) }],
      },
    });
    mounts.push({ name: 'users', mountPath: usersDir, readOnly: true });
  }
  const queue = relay.spec.queue;
  if (queue.storage === 'Ephemeral') {
    volumes.push({ name: queueVolume, emptyDir: { sizeLimit: canonicalQuantity(queue.size) } });
  }
  return { volumes, mounts };
}

function claimTemplates(relay: SmtpRelay): KubeObject[] {
  const queue = relay.spec.queue;
  if (queue.storage !== 'Persistent') return [];
  return [
    {
      metadata: { name: queueVolume, labels: commonLabels(relay) },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: canonicalQuantity(queue.size) } },
        ...(queue.storageClassName === undefined ? {} : { storageClassName: queue.storageClassName }),
      },
    },
  ];
}

function topologySpread(relay: SmtpRelay): readonly Readonly<Record<string, unknown>>[] {
  return (
    relay.spec.pod.topologySpreadConstraints ?? [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(relay) },
      },
    ]
  );
}

/** Quantities as the apiserver stores them, so the applier's comparison sees no false change. */
function canonicalResources(
  resources: SmtpRelay['spec']['pod']['resources'],
): Record<string, Record<string, string>> {
  const canonical = (values: Readonly<Record<string, number | string>> | undefined) =>
    Object.fromEntries(Object.entries(values ?? {}).map(([name, value]) => [name, canonicalQuantity(value)]));
  return {
    ...(resources.requests === undefined ? {} : { requests: canonical(resources.requests) }),
    ...(resources.limits === undefined ? {} : { limits: canonical(resources.limits) }),
  };
}

const hardenedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: relayUserId,
  runAsGroup: relayUserId,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function renderStatefulSet(inputs: StatefulSetInputs): KubeObject {
  const { relay, config, image } = inputs;
  const pod = relay.spec.pod;
  const { volumes: podVolumes, mounts } = volumes(relay);
  const drainSeconds = Math.ceil(parseDurationSeconds(relay.spec.queue.drainTimeout));
  const probe = (path: string) => ({
    httpGet: { path, port: httpPortName },
    periodSeconds: 10,
    timeoutSeconds: 5,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: ownedMetadata(relay, objectNames.statefulSet(relay)),
    spec: {
      replicas: relay.spec.replicas,
      serviceName: objectNames.peersService(relay),
      selector: { matchLabels: selectorLabels(relay) },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: {
          labels: { ...pod.labels, ...commonLabels(relay) },
          annotations: {
            ...pod.annotations,
            [restartHashAnnotation]: restartHash(config),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: drainSeconds + handoffGraceSeconds,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: relayUserId,
            runAsGroup: relayUserId,
            fsGroup: relayUserId,
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'relay',
              image,
              args: ['--config', configPath],
              ports: [
                ...relay.spec.listeners.map((listener) => ({
                  name: listener.name,
                  containerPort: containerPortFor(listener.port),
                  protocol: 'TCP',
                })),
                { name: httpPortName, containerPort: httpPort, protocol: 'TCP' },
              ],
              readinessProbe: { ...probe(readinessPath), failureThreshold: 2 },
              livenessProbe: { ...probe(livenessPath), initialDelaySeconds: 10, failureThreshold: 3 },
              resources: canonicalResources(pod.resources),
              securityContext: hardenedContainer,
              volumeMounts: mounts,
            },
          ],
          volumes: podVolumes,
          topologySpreadConstraints: topologySpread(relay),
          ...(pod.nodeSelector === undefined ? {} : { nodeSelector: pod.nodeSelector }),
          ...(pod.tolerations === undefined ? {} : { tolerations: pod.tolerations }),
          ...(pod.affinity === undefined ? {} : { affinity: pod.affinity }),
          ...(pod.priorityClassName === undefined ? {} : { priorityClassName: pod.priorityClassName }),
        },
      },
      volumeClaimTemplates: claimTemplates(relay),
      ...(relay.spec.queue.storage === 'Persistent'
        ? {
            // Both halves of queue.persistentVolumeClaimRetentionPolicy are the operator's to carry
            // out: it deletes a PVC only once it knows it is empty (a deletion drain read it empty,
            // or a drain Job emptied it), so the StatefulSet itself never deletes one.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          }
        : {}),
    },
  };
}
