// The DNS records a SenderDomain asks to be published (by its owner, or through external-dns): one DKIM
// key record per published selector and algorithm (each at its own name, `dkimDnsSelector`), the SPF record and the DMARC record. Pure.
//
// SPF lists `spec.spf.mechanisms` in order (duplicates dropped) and then the `all` qualifier. The
// operator adds no mechanism of its own: the address a receiver sees is the cluster's egress (NAT,
// egress gateway) or the smarthost provider's outbound pool, neither of which it can observe, and a
// guessed `a:`/`ip4:` would authorise the wrong hosts. DKIM, which the relays do sign, is what aligns.
import type { DnsRecord, SenderDomain } from '../api/types.generated.ts';
import { dkimDnsSelector } from './sender-domain-binding.ts';
import { dkimPublicKeyRecord } from './sender-domain-dkim-keys.ts';
import type { PublishedSelector } from './sender-domain-dkim-plan.ts';

export type WantedRecord = Pick<DnsRecord, 'purpose' | 'type' | 'name' | 'value'>;

const allQualifiers = { Fail: '-all', SoftFail: '~all', Neutral: '?all' } as const;
const dmarcPolicies = { None: 'none', Quarantine: 'quarantine', Reject: 'reject' } as const;

export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

export function spfRecordValue(spf: SenderDomain['spec']['spf']): string {
  const seen = new Set<string>();
  const mechanisms = (spf.mechanisms ?? []).filter((mechanism) => {
    const key = mechanism.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return ['v=spf1', ...mechanisms, allQualifiers[spf.all]].join(' ');
}

export function dmarcRecordValue(dmarc: SenderDomain['spec']['dmarc']): string {
  const alignment = dmarc.alignment === 'Strict' ? 's' : 'r';
  return [
    'v=DMARC1',
    `p=${dmarcPolicies[dmarc.policy]}`,
    ...(dmarc.subdomainPolicy === undefined ? [] : [`sp=${dmarcPolicies[dmarc.subdomainPolicy]}`]),
    `pct=${dmarc.percentage}`,
    `adkim=${alignment}`,
    `aspf=${alignment}`,
    ...(dmarc.reportAddress === undefined ? [] : [`rua=mailto:${dmarc.reportAddress}`]),
  ].join('; ');
}

/** The records to publish, DKIM first (active, next, retiring selector), then SPF, then DMARC. */
export function wantedDnsRecords(
  domain: SenderDomain,
  published: readonly PublishedSelector[],
): WantedRecord[] {
  const name = domain.spec.domain;
  const algorithms = domain.spec.dkim.algorithms;
  const records: WantedRecord[] = published.flatMap(({ selector, keys }) =>
    keys.map(({ algorithm, privateKeyPem }) => ({
      purpose: 'DKIM' as const,
      type: 'TXT' as const,
      name: dkimRecordName(dkimDnsSelector(selector, algorithm, algorithms), name),
      value: dkimPublicKeyRecord(privateKeyPem, algorithm),
    })),
  );
  if (domain.spec.spf.enabled) {
    records.push({ purpose: 'SPF', type: 'TXT', name, value: spfRecordValue(domain.spec.spf) });
  }
  if (domain.spec.dmarc.enabled) {
    records.push({
      purpose: 'DMARC',
      type: 'TXT',
      name: `_dmarc.${name}`,
      value: dmarcRecordValue(domain.spec.dmarc),
    });
  }
  return records;
}
