// `kubectl mailfleet dns records`: the records of status.dnsRecords as zone-file lines (RFC 1035
// master file format), ready to paste into a zone or a provider's import. Pure.
import type { DnsRecord } from '../operator/api/types.generated.ts';

/** One TXT character-string holds at most 255 bytes (RFC 1035 §3.3); longer values are split. */
const maxStringBytes = 255;

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** The value as one or more quoted character-strings, split at 255 bytes (never inside a character). */
export function txtStrings(value: string): string[] {
  const strings: string[] = [];
  let current = '';
  for (const character of value) {
    if (Buffer.byteLength(current + character) > maxStringBytes) {
      strings.push(current);
      current = '';
    }
    current += character;
  }
  strings.push(current);
  return strings.map(quoted);
}

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** `<name>. IN TXT "…" "…" ; <purpose>` for each record, in the order the status lists them. */
export function zoneLines(records: readonly DnsRecord[]): string {
  return records
    .map((record) => {
      const data = record.type === 'TXT' ? txtStrings(record.value).join(' ') : absolute(record.value);
      return `${absolute(record.name)}\tIN\t${record.type}\t${data}\t; ${record.purpose}`;
    })
    .map((line) => `${line}\n`)
    .join('');
}
