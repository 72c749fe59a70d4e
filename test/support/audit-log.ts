// Reads the test API server's audit log (startControlPlane({ auditLog: true })): one JSON event a
// line, in the order the API server finished the requests.
import { readFile } from 'node:fs/promises';

export interface AuditEvent {
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username: string; readonly extra?: Readonly<Record<string, readonly string[]>> };
  readonly userAgent?: string;
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string };
  /** A refusal's message too (an admission policy's `messageExpression`). */
  readonly responseStatus?: { readonly code?: number; readonly message?: string };
  /** RFC 3339 with microseconds, fixed width: such strings sort in time order. */
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
}

export async function readAuditLog(path: string): Promise<AuditEvent[]> {
  const text = await readFile(path, 'utf8');
  return (
    text
      .split('\n')
      // The API server may be writing the last line as we read it.
      .filter((line) => line.endsWith('}'))
      .map((line) => JSON.parse(line) as AuditEvent)
  );
}
