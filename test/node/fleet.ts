// The mail fleet the real-node tests run: one SmtpRelay with TLS, AUTH and a Persistent queue that
// delivers through the in-cluster smtp-sink, and a SenderDomain with RSA and Ed25519 DKIM keys.
import type { ClusterAccess } from './cluster.ts';
import { podCidr } from './layout.ts';
import { swaks, type SwaksResult } from './mail-fleet.ts';
import { kubectl } from './shared.ts';

export const fleet = {
  namespace: 'mail',
  relay: 'relay',
  senderDomain: 'demo-example',
  replicas: 3,
} as const;

export function relayObject(replicas: number = fleet.replicas): unknown {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name: fleet.relay, namespace: fleet.namespace },
    spec: {
      replicas,
      listeners: [
        { name: 'smtp', port: 25, tls: 'StartTLS', auth: 'Optional' },
        { name: 'submission', port: 587 },
      ],
      tls: { secretRef: { name: `${fleet.relay}-tls` } },
      auth: { usersSecretRef: { name: `${fleet.relay}-users` } },
      clientNetworks: [podCidr],
      delivery: {
        mode: 'Smarthost',
        smarthost: { host: `sink.${fleet.namespace}.svc.cluster.local`, port: 2525, tls: 'None' },
        retrySchedule: ['5s', '10s', '30s'],
      },
      queue: { storage: 'Persistent', size: '256Mi', drainTimeout: '20s' },
    },
  };
}

export function senderDomainObject(): unknown {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name: fleet.senderDomain, namespace: fleet.namespace },
    spec: {
      domain: 'demo.example',
      relays: [fleet.relay],
      authorizedUsers: ['app'],
      dkim: { selector: 'e2e', algorithms: ['RSA2048', 'Ed25519'] },
      dnsVerification: { enabled: false },
    },
  };
}

/** The relay's Service name, as clients in the cluster reach it. */
export const relayHost = `${fleet.relay}.${fleet.namespace}.svc.cluster.local`;

/** swaks arguments for AUTH PLAIN. */
export function authArgs(user: string, secret: string): string[] {
  return ['--auth', 'PLAIN', '--auth-user', user, '--auth-password', secret];
}

/** A merge patch of the SmtpRelay's spec. */
export async function patchRelaySpec(cluster: ClusterAccess, spec: Record<string, unknown>): Promise<void> {
  await kubectl(cluster, [
    '-n',
    fleet.namespace,
    'patch',
    'smtprelay',
    fleet.relay,
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  ]);
}

/** The operator has reconciled the relay's current spec and reports it Ready. */
export async function relayReconciled(cluster: ClusterAccess): Promise<boolean> {
  const view = JSON.parse(
    await kubectl(cluster, ['-n', fleet.namespace, 'get', 'smtprelay', fleet.relay, '-o', 'json']),
  ) as {
    metadata: { generation: number };
    status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
  };
  return (
    view.status?.observedGeneration === view.metadata.generation &&
    (view.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** One message with the sequence header `<runId>-1`, from client-trusted on port 25 (no AUTH). */
export async function sendSequenced(cluster: ClusterAccess, runId: string, to: string): Promise<SwaksResult> {
  return swaks(cluster, fleet.namespace, 'client-trusted', [
    ...['--server', `${relayHost}:25`, '--from', 'app@demo.example', '--to', to],
    ...['--header', `X-E2e-Seq: ${runId}-1`],
  ]);
}
