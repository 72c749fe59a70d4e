// The external-dns DNSEndpoint of a SenderDomain whose records are published through external-dns
// (spec.dnsPublishing.provider ExternalDNS): exactly the records of status.dnsRecords, owned by the
// SenderDomain. Pure.
//
// A TXT target is written as external-dns hands it to the DNS server, in zone-file form: one or more
// quoted character strings of at most 255 octets each (RFC 1035 §3.3.14), `"` and `\` escaped. An
// RSA-2048 DKIM key record (about 410 characters) becomes two strings; verifiers join them.
import type { SenderDomain } from '../api/types.generated.ts';
import { controllerReference } from '../kube/owner.ts';
import type { KubeObject, ResourceType } from '../kube/resource.ts';
import { managedByLabel, operatorName } from './relay-names.ts';
import type { WantedRecord } from './sender-domain-dns.ts';

export const dnsEndpointResource: ResourceType = {
  group: 'externaldns.k8s.io',
  version: 'v1alpha1',
  kind: 'DNSEndpoint',
  plural: 'dnsendpoints',
  namespaced: true,
};

/** The most octets one TXT character string holds. */
export const txtStringOctets = 255;

export interface DnsEndpointObject extends KubeObject {
  readonly spec: {
    readonly endpoints: readonly {
      readonly dnsName: string;
      readonly recordType: string;
      readonly targets: readonly string[];
    }[];
  };
}

export function dnsEndpointName(domain: Pick<SenderDomain, 'metadata'>): string {
  return `${domain.metadata.name ?? ''}-dns`;
}

/** The TXT value as quoted character strings of at most 255 octets each, joined by a space. */
export function txtTarget(value: string): string {
  const strings: string[] = [];
  let current = '';
  let octets = 0;
  for (const character of value) {
    const size = Buffer.byteLength(character);
    if (octets + size > txtStringOctets) {
      strings.push(current);
      current = '';
      octets = 0;
    }
    current += character === '"' || character === '\\' ? `\\${character}` : character;
    octets += size;
  }
  strings.push(current);
  return strings.map((text) => `"${text}"`).join(' ');
}

/** One endpoint per name and type, its targets in the order of the records. */
export function renderDnsEndpoint(
  domain: Pick<SenderDomain, 'apiVersion' | 'kind' | 'metadata'>,
  records: readonly WantedRecord[],
): DnsEndpointObject {
  const endpoints = new Map<string, { dnsName: string; recordType: string; targets: string[] }>();
  for (const record of records) {
    const key = `${record.name} ${record.type}`;
    const endpoint = endpoints.get(key) ?? { dnsName: record.name, recordType: record.type, targets: [] };
    endpoint.targets.push(record.type === 'TXT' ? txtTarget(record.value) : record.value);
    endpoints.set(key, endpoint);
  }
  return {
    apiVersion: `${dnsEndpointResource.group}/${dnsEndpointResource.version}`,
    kind: dnsEndpointResource.kind,
    metadata: {
      name: dnsEndpointName(domain),
      namespace: domain.metadata.namespace ?? '',
      labels: { [managedByLabel]: operatorName },
      ownerReferences: [
        controllerReference({ apiVersion: domain.apiVersion, kind: domain.kind, metadata: domain.metadata }),
      ],
    },
    spec: { endpoints: [...endpoints.values()] },
  };
}
