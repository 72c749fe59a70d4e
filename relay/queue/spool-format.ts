// The on-disk format, pure. A message file is one header line (magic + envelope JSON) followed by the
// body bytes as received. A state file is an append-only log of RecipientUpdate JSON lines: an append
// is one write + fsync, and a torn last line (crash mid-append) is simply ignored on replay, so no
// rename dance is needed for each state change.
import type { InboundEnvelope } from './message-sink.ts';
import type { RecipientStatus, RecipientUpdate } from './queued-message.ts';

/** The spool format this relay writes and the newest it reads (also in the FORMAT file, spool-version.ts). */
export const spoolFormatVersion = 1;
const magic = `MAILFLEET-SPOOL-${String(spoolFormatVersion)} `;
const statuses: readonly RecipientStatus[] = ['pending', 'deferred', 'delivered', 'bounced'];

export function encodeHeader(envelope: InboundEnvelope): Buffer {
  return Buffer.from(`${magic}${JSON.stringify(envelope)}\n`, 'utf8');
}

export type DecodedHeader =
  | { readonly ok: true; readonly envelope: InboundEnvelope; readonly bodyOffset: number }
  | { readonly ok: false; readonly reason: string; readonly newerFormat: boolean };

/** Decodes the header from the first bytes of a message file (enough to hold the whole line). */
export function decodeHeader(head: Buffer): DecodedHeader {
  const end = head.indexOf(0x0a);
  if (end < 0) return { ok: false, reason: 'no complete header line', newerFormat: false };
  const line = head.subarray(0, end).toString('utf8');
  if (!line.startsWith(magic)) {
    const version = /^MAILFLEET-SPOOL-(\d+) /.exec(line)?.[1];
    return version !== undefined && Number(version) > spoolFormatVersion
      ? {
          ok: false,
          reason: `spool file format ${version} is newer than ${String(spoolFormatVersion)}`,
          newerFormat: true,
        }
      : { ok: false, reason: 'not a mailfleet spool file', newerFormat: false };
  }
  try {
    const envelope = JSON.parse(line.slice(magic.length)) as InboundEnvelope;
    if (typeof envelope.mailFrom !== 'string' || !Array.isArray(envelope.recipients)) {
      return { ok: false, reason: 'envelope lacks mailFrom or recipients', newerFormat: false };
    }
    return { ok: true, envelope, bodyOffset: end + 1 };
  } catch (error) {
    return { ok: false, reason: `envelope is not JSON: ${String(error)}`, newerFormat: false };
  }
}

export function encodeUpdate(update: RecipientUpdate): string {
  return `${JSON.stringify(update)}\n`;
}

/** Every complete, well-formed line of a state log; a torn or foreign line ends the replay. */
export function decodeUpdates(log: string): RecipientUpdate[] {
  const updates: RecipientUpdate[] = [];
  const lines = log.split('\n');
  lines.pop();
  for (const line of lines) {
    const update = parseUpdate(line);
    if (update === undefined) break;
    updates.push(update);
  }
  return updates;
}

function parseUpdate(line: string): RecipientUpdate | undefined {
  try {
    const { indexes, status, attempts, nextAttemptAt, reply, delayWarned } = JSON.parse(
      line,
    ) as Partial<RecipientUpdate>;
    if (
      !Array.isArray(indexes) ||
      !indexes.every((index) => Number.isInteger(index)) ||
      status === undefined ||
      !statuses.includes(status) ||
      typeof attempts !== 'number' ||
      typeof nextAttemptAt !== 'number'
    ) {
      return undefined;
    }
    return {
      indexes,
      status,
      attempts,
      nextAttemptAt,
      ...(typeof reply === 'string' ? { reply } : {}),
      ...(delayWarned === true ? { delayWarned } : {}),
    };
  } catch {
    return undefined;
  }
}
