// The segment log's on-disk records, pure. Small messages are appended to a shared segment file
// instead of getting a file each, so one fdatasync makes a whole group of them durable and no inode
// is created or deleted per message. A record is
//   "MFS1" | kind (1 byte) | payload length (u32 BE) | CRC-32 of the payload (u32 BE) | payload
// kind 1 (message): id length (u8) | id | envelope length (u32 BE) | envelope JSON | body
// kind 2 (done):    id — the message left the segment (delivered, bounced, removed, or moved to a file)
// Appends are whole records; a record that is torn or fails its CRC ends the replay of its segment,
// since nothing after it was ever made durable. Replay never searches forward for the next "MFS1":
// the bytes after a bad header may be a message body, and a body can be crafted to look like a
// record (an envelope of the sender's choosing); records are only ever found by their lengths.
import { crc32 } from 'node:zlib';
import type { InboundEnvelope } from './message-sink.ts';

const magic = Buffer.from('MFS1', 'latin1');
export const recordHeaderBytes = 13;
const kinds = { message: 1, done: 2 } as const;

/** The record as two pieces: everything before the body (one allocation), then the body itself. */
export function encodeMessageRecord(queueId: string, envelope: InboundEnvelope, body: Buffer): Buffer[] {
  const json = JSON.stringify(envelope);
  const idBytes = Buffer.byteLength(queueId, 'latin1');
  const jsonStart = recordHeaderBytes + 1 + idBytes + 4;
  const head = Buffer.allocUnsafe(jsonStart + Buffer.byteLength(json, 'utf8'));
  head.writeUInt8(idBytes, recordHeaderBytes);
  head.write(queueId, recordHeaderBytes + 1, 'latin1');
  head.writeUInt32BE(head.length - jsonStart, jsonStart - 4);
  head.write(json, jsonStart, 'utf8');
  const payloadHead = head.subarray(recordHeaderBytes);
  writeRecordHeader(head, kinds.message, payloadHead.length + body.length, crc32(body, crc32(payloadHead)));
  return [head, body];
}

export function encodeDoneRecord(queueId: string): Buffer {
  const record = Buffer.allocUnsafe(recordHeaderBytes + Buffer.byteLength(queueId, 'latin1'));
  record.write(queueId, recordHeaderBytes, 'latin1');
  const id = record.subarray(recordHeaderBytes);
  writeRecordHeader(record, kinds.done, id.length, crc32(id));
  return record;
}

export type SegmentRecord =
  | {
      readonly kind: 'message';
      readonly queueId: string;
      readonly envelope: InboundEnvelope;
      /** Offset of the body in the segment file, and its length. */
      readonly bodyStart: number;
      readonly bodyLength: number;
    }
  | { readonly kind: 'done'; readonly queueId: string };

export interface DecodedSegment {
  readonly records: SegmentRecord[];
  /** Bytes of well-formed records; anything after them is a torn or foreign tail. */
  readonly validBytes: number;
}

/** Every well-formed record of a segment, in order, up to the first torn or corrupt one. */
export function decodeSegment(bytes: Buffer): DecodedSegment {
  const records: SegmentRecord[] = [];
  let at = 0;
  while (at + recordHeaderBytes <= bytes.length) {
    if (!bytes.subarray(at, at + 4).equals(magic)) break;
    const kind = bytes.readUInt8(at + 4);
    const length = bytes.readUInt32BE(at + 5);
    const start = at + recordHeaderBytes;
    if (start + length > bytes.length) break;
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== bytes.readUInt32BE(at + 9)) break;
    const record = decodePayload(kind, payload, start);
    if (record === undefined) break;
    records.push(record);
    at = start + length;
  }
  return { records, validBytes: at };
}

function decodePayload(kind: number, payload: Buffer, start: number): SegmentRecord | undefined {
  if (kind === kinds.done) return { kind: 'done', queueId: payload.toString('latin1') };
  if (kind !== kinds.message || payload.length < 5) return undefined;
  const idLength = payload.readUInt8(0);
  const queueId = payload.toString('latin1', 1, 1 + idLength);
  const jsonLength = payload.readUInt32BE(1 + idLength);
  const jsonStart = 1 + idLength + 4;
  if (jsonStart + jsonLength > payload.length) return undefined;
  try {
    const envelope = JSON.parse(
      payload.toString('utf8', jsonStart, jsonStart + jsonLength),
    ) as InboundEnvelope;
    if (typeof envelope.mailFrom !== 'string' || !Array.isArray(envelope.recipients)) return undefined;
    const bodyStart = jsonStart + jsonLength;
    return {
      kind: 'message',
      queueId,
      envelope,
      bodyStart: start + bodyStart,
      bodyLength: payload.length - bodyStart,
    };
  } catch {
    return undefined;
  }
}

/** Fills in the first recordHeaderBytes of `record`. */
function writeRecordHeader(record: Buffer, kind: number, payloadLength: number, crc: number): void {
  magic.copy(record, 0);
  record.writeUInt8(kind, 4);
  record.writeUInt32BE(payloadLength, 5);
  record.writeUInt32BE(crc, 9);
}
