// Where the relay pod mounts things and which ports the relay binds inside it: the one place the
// StatefulSet, the rendered relay config, the Services and the local demo harness agree on. Pure.
//
// Relay pods run as non-root without capabilities, so ports below 1024 cannot be bound: each
// Service port maps to a container port of 1024 or above (`containerPortFor`).

/** The directory the relay config ConfigMap is mounted at. */
export const configDir = '/etc/mailfleet/config';
/** The key of the rendered config in the ConfigMap, and so its file name. */
export const configFileName = 'relay.yaml';
/** The relay config file the container is started with (`--config`). */
export const configPath = `${configDir}/${configFileName}`;

/** The directory the TLS Secret (spec.tls.secretRef, or the cert-manager one) is mounted at. */
export const tlsDir = '/etc/mailfleet/tls';
export const tlsCertificatePath = `${tlsDir}/tls.crt`;
export const tlsPrivateKeyPath = `${tlsDir}/tls.key`;

/** The directory the users Secret (spec.auth.usersSecretRef) is mounted at. */
export const usersDir = '/etc/mailfleet/users';
export const usersFilePath = `${usersDir}/users`;

/**
 * The directory of the relay-owned Secret the operator composes: DKIM private keys of the bound
 * SenderDomains and the smarthost credentials file.
 */
export const relaySecretsDir = '/etc/mailfleet/secrets';
/** The file name (and Secret key) of the smarthost credentials, one line `username:password`. */
export const smarthostCredentialsFileName = 'smarthost-credentials';
export const smarthostCredentialsPath = `${relaySecretsDir}/${smarthostCredentialsFileName}`;

/** The spool directory (a PVC per pod, or an emptyDir). */
export const queueDir = '/var/spool/mailfleet';

/** A writable scratch directory (the root filesystem is read-only). */
export const tmpDir = '/tmp';

/** The relay's HTTP port inside the pod: /metrics, /healthz (liveness) and /readyz (readiness). */
export const httpPort = 9090;
export const httpPortName = 'http';
export const livenessPath = '/healthz';
export const readinessPath = '/readyz';
export const metricsPath = '/metrics';

/** The queue admin endpoint, on 127.0.0.1 inside the pod only (never in a Service). */
export const queueAdminPort = 8026;

/** The user and group the relay runs as (distroless "nonroot"). */
export const relayUserId = 65532;

const wellKnownContainerPorts: Readonly<Record<number, number>> = { 25: 2525, 587: 5587, 465: 4465 };

/**
 * The port the relay binds inside the pod for a listener whose Service port is `servicePort`:
 * 25 → 2525, 587 → 5587, 465 → 4465; any other port below 1024 → 10000 + port; 1024 and above → itself.
 */
export function containerPortFor(servicePort: number): number {
  const known = wellKnownContainerPorts[servicePort];
  if (known !== undefined) return known;
  return servicePort < 1024 ? 10_000 + servicePort : servicePort;
}
