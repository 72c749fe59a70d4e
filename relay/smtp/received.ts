// Trace headers the relay writes: Received: (always), and Message-ID:/Date: for submission clients
// that left them out. Every client-supplied value is reduced to a safe token first, so nothing the
// client sends (HELO, reverse DNS, user names) can inject CR/LF or a new header (case 17).

export interface TraceFacts {
  readonly heloName?: string;
  readonly clientHostname?: string;
  readonly clientAddress: string;
  readonly byHostname: string;
  readonly queueId: string;
  readonly tls?: { readonly protocol: string; readonly cipher: string };
  readonly authenticated: boolean;
  readonly receivedAt: number;
}

/** Keeps the characters a hostname, address literal or token may have; anything else becomes '_'. */
export function safeToken(value: string, maxLength = 255): string {
  return value.slice(0, maxLength).replace(/[^A-Za-z0-9.:_[\]-]/g, '_');
}

let lastDate = { second: Number.NaN, text: '' };

/** The date of a trace header, to the second; formatted once per second, not once per message. */
export function rfc5322Date(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== lastDate.second) {
    lastDate = { second, text: new Date(second * 1000).toUTCString().replace(/GMT$/, '+0000') };
  }
  return lastDate.text;
}

export function receivedHeader(facts: TraceFacts): string {
  const helo = safeToken(facts.heloName ?? 'unknown');
  const reverse = facts.clientHostname ? `${safeToken(facts.clientHostname)} ` : '';
  const protocol = `ESMTP${facts.tls ? 'S' : ''}${facts.authenticated ? 'A' : ''}`;
  const tls = facts.tls
    ? `\r\n\t(using ${safeToken(facts.tls.protocol, 32)} with cipher ${safeToken(facts.tls.cipher, 100)})`
    : '';
  return (
    `Received: from ${helo} (${reverse}[${safeToken(facts.clientAddress, 64)}])\r\n` +
    `\tby ${safeToken(facts.byHostname)} (mailfleet) with ${protocol} id ${safeToken(facts.queueId, 64)}${tls};\r\n` +
    `\t${rfc5322Date(facts.receivedAt)}\r\n`
  );
}

export function messageIdHeader(queueId: string, receivedAt: number, hostname: string): string {
  return `Message-ID: <${safeToken(queueId, 64)}.${receivedAt}@${safeToken(hostname)}>\r\n`;
}

export function dateHeader(receivedAt: number): string {
  return `Date: ${rfc5322Date(receivedAt)}\r\n`;
}
