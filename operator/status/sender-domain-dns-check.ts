// Whether the records a SenderDomain asks for are published, from TXT lookups. Pure: the answers
// and the time come in. The TXT strings of one record are joined; DKIM key records compare as tag
// lists (order and spaces aside), SPF as its terms (case aside), DMARC as tags with their RFC 7489
// defaults filled in (pct=100, adkim=r, aspf=r, sp=p), so an equivalent record counts as published.
import type { DnsRecord } from '../api/types.generated.ts';
import type { WantedRecord } from '../render/sender-domain-dns.ts';
import { kubeTime } from '../kube/status-diff.ts';

/** The answer to one TXT lookup: the records (each a list of strings), or the resolver's error. */
export type TxtAnswer = { readonly records: readonly (readonly string[])[] } | { readonly error: string };

export type RecordOutcome =
  | { readonly kind: 'verified' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'wrong'; readonly found: readonly string[] }
  | { readonly kind: 'lookupFailed'; readonly error: string };

export interface DnsCheck {
  readonly records: readonly DnsRecord[];
  readonly outcomes: readonly RecordOutcome[];
  readonly verified: boolean;
  /** Every failure is a lookup error (nothing was found missing or wrong). */
  readonly onlyLookupFailures: boolean;
  /** Names each record not verified and why, for the DnsVerified condition. */
  readonly problems: readonly string[];
}

function tags(text: string): Map<string, string> | undefined {
  const parsed = new Map<string, string>();
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) return undefined;
    parsed.set(trimmed.slice(0, equals).trim(), trimmed.slice(equals + 1).trim());
  }
  return parsed;
}

function sameTags(a: Map<string, string> | undefined, b: Map<string, string> | undefined): boolean {
  if (a === undefined || b?.size !== a.size) return false;
  return [...a].every(([name, value]) => b.get(name) === value);
}

function dkimTags(text: string): Map<string, string> | undefined {
  const parsed = tags(text);
  const key = parsed?.get('p');
  if (parsed !== undefined && key !== undefined) parsed.set('p', key.replace(/\s+/g, ''));
  return parsed;
}

function dmarcTags(text: string): Map<string, string> | undefined {
  const parsed = tags(text.toLowerCase());
  if (parsed === undefined) return undefined;
  const defaults = { pct: '100', adkim: 'r', aspf: 'r', sp: parsed.get('p') ?? '' };
  for (const [name, value] of Object.entries(defaults)) if (!parsed.has(name)) parsed.set(name, value);
  return parsed;
}

function spfTerms(text: string): string {
  return text.toLowerCase().trim().split(/\s+/).join(' ');
}

const kinds = {
  DKIM: {
    candidate: (text: string) => /(^|;)\s*(v=DKIM1|p=)/i.test(text),
    same: (a: string, b: string) => sameTags(dkimTags(a), dkimTags(b)),
    single: false,
  },
  SPF: {
    candidate: (text: string) => /^v=spf1(\s|$)/i.test(text.trim()),
    same: (a: string, b: string) => spfTerms(a) === spfTerms(b),
    single: true,
  },
  DMARC: {
    candidate: (text: string) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(text.trim()),
    same: (a: string, b: string) => sameTags(dmarcTags(a), dmarcTags(b)),
    single: true,
  },
} as const;

const notFound = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'NODATA']);

export function outcomeOf(record: WantedRecord, answer: TxtAnswer | undefined): RecordOutcome {
  if (answer === undefined) return { kind: 'lookupFailed', error: 'not looked up' };
  if ('error' in answer) {
    return notFound.has(answer.error) ? { kind: 'missing' } : { kind: 'lookupFailed', error: answer.error };
  }
  const kind = kinds[record.purpose];
  const found = answer.records.map((strings) => strings.join('')).filter(kind.candidate);
  if (found.length === 0) return { kind: 'missing' };
  const matches = found.some((text) => kind.same(text, record.value));
  // Two SPF or DMARC records at one name make both void (RFC 7208 §4.5, RFC 7489 §6.6.3).
  if (matches && (!kind.single || found.length === 1)) return { kind: 'verified' };
  return { kind: 'wrong', found };
}

function describe(record: WantedRecord, outcome: RecordOutcome): string {
  const what = `${record.purpose} ${record.type} ${record.name}`;
  switch (outcome.kind) {
    case 'verified':
      return `${what} is published`;
    case 'missing':
      return `${what} is not published`;
    case 'lookupFailed':
      return `${what} could not be looked up (${outcome.error})`;
    case 'wrong': {
      if (outcome.found.length > 1 && record.purpose !== 'DKIM') {
        return `${what} has ${outcome.found.length} ${record.purpose} records, exactly one is allowed: publish only "${record.value}"`;
      }
      // DKIM key records are long: say which, not all of it.
      if (record.purpose === 'DKIM') {
        return `${what} has a different key (publish the value from status.dnsRecords)`;
      }
      const shown = (outcome.found[0] ?? '').slice(0, 200);
      return `${what} is "${shown}", expected "${record.value}"`;
    }
  }
}

export function checkDnsRecords(
  wanted: readonly WantedRecord[],
  answers: ReadonlyMap<string, TxtAnswer>,
  nowMs: number,
): DnsCheck {
  const lastChecked = kubeTime(nowMs);
  const outcomes = wanted.map((record) => outcomeOf(record, answers.get(record.name)));
  const failed = wanted.flatMap((record, index) => {
    const outcome = outcomes[index];
    return outcome === undefined || outcome.kind === 'verified' ? [] : [{ record, outcome }];
  });
  return {
    records: wanted.map((record, index) => ({
      ...record,
      verified: outcomes[index]?.kind === 'verified',
      lastChecked,
    })),
    outcomes,
    verified: failed.length === 0,
    onlyLookupFailures: failed.length > 0 && failed.every(({ outcome }) => outcome.kind === 'lookupFailed'),
    problems: failed.map(({ record, outcome }) => describe(record, outcome)),
  };
}
