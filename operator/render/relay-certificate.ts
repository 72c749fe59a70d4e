// The cert-manager Certificate for `spec.tls.issuerRef`: issued for `spec.tls.dnsNames`, or the
// client Service's DNS names when none are given, into the Secret the pods mount. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { objectNames, ownedMetadata, serviceDnsNames } from './relay-names.ts';

export function certificateDnsNames(relay: SmtpRelay, clusterDomain: string): string[] {
  const named = relay.spec.tls?.dnsNames ?? [];
  return named.length > 0 ? [...named] : serviceDnsNames(relay, clusterDomain);
}

export function renderCertificate(relay: SmtpRelay, clusterDomain: string): KubeObject | undefined {
  const issuer = relay.spec.tls?.issuerRef;
  if (issuer === undefined) return undefined;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: ownedMetadata(relay, objectNames.certificate(relay)),
    spec: {
      secretName: objectNames.certificateSecret(relay),
      dnsNames: certificateDnsNames(relay, clusterDomain),
      issuerRef: { name: issuer.name, kind: issuer.kind, group: issuer.group },
      usages: ['server auth'],
      privateKey: { rotationPolicy: 'Always' },
    },
  };
}
