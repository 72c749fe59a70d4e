// The mail fleet the real-node tests run: one SmtpRelay with TLS, AUTH and a Persistent queue that
// delivers through the in-cluster smtp-sink, and a SenderDomain with RSA and Ed25519 DKIM keys.
import { podCidr } from './layout.ts';

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
