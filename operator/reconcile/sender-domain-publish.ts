// Publishing a SenderDomain's records through external-dns: applies its DNSEndpoint (rendered by
// render/sender-domain-dns-endpoint.ts) when the cluster serves the kind, and deletes it when the
// domain stops publishing that way. The DNSEndpoint CRD is optional, found by discovery like the
// Prometheus Operator's kinds; without it nothing is applied and the outcome says so.
import { isNotFound, type KubeClient } from '../kube/client.ts';
import type { Applier } from '../kube/apply.ts';
import type { Clock } from '../kube/clock.ts';
import { controllerKeyOf } from '../kube/owner.ts';
import { keyOf, objectPath, type KubeObject } from '../kube/resource.ts';
import { errorMessage, type Log } from '../log.ts';
import { servedName } from '../render/relay-resources.ts';
import type { SenderDomain } from '../api/types.generated.ts';
import {
  dnsEndpointName,
  dnsEndpointResource,
  renderDnsEndpoint,
  type DnsEndpointObject,
} from '../render/sender-domain-dns-endpoint.ts';
import type { WantedRecord } from '../render/sender-domain-dns.ts';
import type { PublishingOutcome } from '../status/sender-domain.ts';
import { ServedKinds } from './served-kinds.ts';

type Domain = SenderDomain & KubeObject;

export interface DnsEndpointPublisher {
  publish(domain: Domain, records: readonly WantedRecord[]): Promise<PublishingOutcome>;
  /** Deletes the domain's DNSEndpoint if it has one (external-dns then removes its records). */
  withdraw(domain: Domain): Promise<void>;
}

export function dnsEndpointPublisher(options: {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  readonly applier: Applier;
  readonly discoveryTtlMs?: number;
}): DnsEndpointPublisher {
  const { client, applier } = options;
  const served = new ServedKinds({
    client,
    clock: options.clock,
    log: options.log,
    kinds: [dnsEndpointResource],
    ttlMs: options.discoveryTtlMs ?? 60_000,
  });
  const isServed = async () => (await served.served()).has(servedName(dnsEndpointResource));
  const pathOf = (domain: Domain) =>
    objectPath(dnsEndpointResource, {
      namespace: domain.metadata.namespace ?? '',
      name: dnsEndpointName(domain),
    });
  async function read(domain: Domain): Promise<DnsEndpointObject | undefined> {
    try {
      return await client.request<DnsEndpointObject>({ verb: 'get', path: pathOf(domain) });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  const where = (domain: Domain) =>
    `DNSEndpoint ${domain.metadata.namespace ?? ''}/${dnsEndpointName(domain)}`;

  return {
    async publish(domain, records) {
      if (!(await isServed())) {
        return {
          kind: 'failed',
          reason: 'DnsEndpointNotServed',
          message: `spec.dnsPublishing.provider is ExternalDNS but ${dnsEndpointResource.group}/${dnsEndpointResource.version} ${dnsEndpointResource.plural} is not served by this cluster: install external-dns's DNSEndpoint CRD (and run external-dns with --source=crd), or set the provider to Manual and publish status.dnsRecords yourself`,
        };
      }
      try {
        const live = await read(domain);
        if (live !== undefined && controllerKeyOf(live, 'SenderDomain') !== keyOf(domain)) {
          return {
            kind: 'failed',
            reason: 'DnsEndpointNotOwned',
            message: `${where(domain)} exists and is not owned by this SenderDomain, so it is not replaced: delete or rename it`,
          };
        }
        await applier.apply(dnsEndpointResource, renderDnsEndpoint(domain, records), { live });
        return { kind: 'published', endpoint: dnsEndpointName(domain), records: records.length };
      } catch (error) {
        return {
          kind: 'failed',
          reason: 'ApplyFailed',
          message: `applying ${where(domain)} failed: ${errorMessage(error)}`,
          retry: true,
        };
      }
    },
    async withdraw(domain) {
      if (!(await isServed())) return;
      const live = await read(domain);
      if (live === undefined || controllerKeyOf(live, 'SenderDomain') !== keyOf(domain)) return;
      await client.request({ verb: 'delete', path: pathOf(domain) });
    },
  };
}
