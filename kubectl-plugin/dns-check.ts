// `kubectl mailfleet dns check`: the records a SenderDomain lists in status.dnsRecords against the
// TXT answers of a resolver, compared exactly as the operator's DnsVerified check compares them
// (operator/status/sender-domain-dns-check.ts). Pure: the answers come in.
import type { DnsRecord } from '../operator/api/types.generated.ts';
import { checkDnsRecords, type TxtAnswer } from '../operator/status/sender-domain-dns-check.ts';
import type { Outcome } from './queue.ts';
import { renderTable } from './table.ts';

const results = {
  verified: 'published',
  missing: 'MISSING',
  wrong: 'DIFFERENT',
  lookupFailed: 'LOOKUP FAILED',
} as const;

export function renderDnsCheck(
  records: readonly DnsRecord[],
  answers: ReadonlyMap<string, TxtAnswer>,
  nowMs: number,
): Outcome {
  const wanted = records.map(({ purpose, type, name, value }) => ({ purpose, type, name, value }));
  const check = checkDnsRecords(wanted, answers, nowMs);
  const rows = wanted.map((record, index) => [
    record.purpose,
    record.type,
    record.name,
    results[check.outcomes[index]?.kind ?? 'lookupFailed'],
  ]);
  const problems = check.problems.map((problem) => `  ${problem}\n`).join('');
  return {
    out: renderTable(['PURPOSE', 'TYPE', 'NAME', 'RESULT'], rows),
    err: check.verified ? '' : `Not every record is published:\n${problems}`,
    exitCode: check.verified ? 0 : 1,
  };
}
