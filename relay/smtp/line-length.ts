// The longest line message data may carry: 998 octets before CRLF (RFC 5321 4.5.3.1.6, RFC 5322
// 2.1.1). A longer line is refused at the end of DATA (case 34) rather than folded: folding would
// change the body a DKIM signature covers, and a next hop that enforces the limit would bounce
// the message later, out of the client's sight. Pure.

export const MAX_LINE_OCTETS = 998;

const LF = 0x0a;

/**
 * Scans a CRLF-terminated chunk for a line longer than `max` octets (CRLF not counted), given the
 * octets of the current line `carried` over from earlier chunks. Returns the octets the last,
 * unterminated line carries into the next chunk, or -1 when a line is too long.
 *
 * No loop over every byte: from the start of a line, the last LF within `max + 2` octets (the
 * longest line and its CRLF) is found with one native lastIndexOf, so each step moves on by up to
 * a whole window of lines, and a window without any LF is a line too long.
 */
export function scanLineLengths(chunk: Buffer, carried: number, max = MAX_LINE_OCTETS): number {
  let lineStart = -carried;
  for (;;) {
    const lastAllowedLf = lineStart + max + 1;
    if (lastAllowedLf >= chunk.length) {
      const lastLf = chunk.lastIndexOf(LF);
      return lastLf >= 0 && lastLf >= lineStart ? chunk.length - lastLf - 1 : chunk.length - lineStart;
    }
    const lf = lastAllowedLf < 0 ? -1 : chunk.lastIndexOf(LF, lastAllowedLf);
    if (lf < 0 || lf < lineStart) return -1;
    lineStart = lf + 1;
  }
}
