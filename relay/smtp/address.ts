// Mailbox parsing for policy: one canonical domain per address so that routing tricks (%-hacks,
// bang paths, source routes, quoted @, domain literals, trailing dots, IDN spellings) cannot change
// a relay decision. Pure.
import { domainToASCII } from 'node:url';

export type ParsedMailbox =
  | { readonly ok: true; readonly localPart: string; readonly domain: string }
  | { readonly ok: false; readonly problem: 'routing' | 'syntax' };

const localPartAtom = /^[A-Za-z0-9!#$&'*+/=?^_`{|}~.-]+$/u;

export function parseMailbox(address: string): ParsedMailbox {
  if (address.startsWith('@') || address.includes(':')) return { ok: false, problem: 'routing' };
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return { ok: false, problem: 'syntax' };
  const localPart = address.slice(0, at);
  const rawDomain = address.slice(at + 1);
  if (
    localPart.includes('@') ||
    localPart.includes('%') ||
    localPart.includes('!') ||
    localPart.startsWith('"')
  ) {
    return { ok: false, problem: 'routing' };
  }
  if (rawDomain.startsWith('[')) return { ok: false, problem: 'routing' };
  if (!localPartAtom.test(localPart) && !isUtf8LocalPart(localPart)) return { ok: false, problem: 'syntax' };
  const domain = canonicalDomain(rawDomain);
  return domain === undefined ? { ok: false, problem: 'syntax' } : { ok: true, localPart, domain };
}

/** Lower-case ASCII (punycode) form without a trailing dot, or undefined when it is not a domain. */
export function canonicalDomain(raw: string): string | undefined {
  const withoutDot = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (withoutDot === '' || withoutDot.endsWith('.')) return undefined;
  // A plain letters-digits-hyphens name that is neither punycode nor, by its last label, an IPv4
  // address (which URL host parsing would rewrite) is its own ASCII form: lower-case it and skip
  // domainToASCII, a large share of the cost of each MAIL and RCPT.
  const ascii = isPlainLdhName(withoutDot)
    ? withoutDot.toLowerCase()
    : domainToASCII(withoutDot).toLowerCase();
  if (ascii === '' || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  return labels.length >= 1 && labels.every((label) => validLabel.test(label)) ? ascii : undefined;
}

const validLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ldhName = /^[A-Za-z0-9.-]+$/;
/** A last label WHATWG host parsing reads as a number (decimal, 0x hex, octal): the name is an IPv4 address to it. */
const numericLabel = /(?:^|\.)(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;

function isPlainLdhName(name: string): boolean {
  return ldhName.test(name) && !/xn--/i.test(name) && !numericLabel.test(name);
}

function isUtf8LocalPart(localPart: string): boolean {
  // SMTPUTF8 local parts: printable non-ASCII plus the atom characters; no controls or spaces.
  return /^[\p{L}\p{N}!#$&'*+/=?^_`{|}~.-]+$/u.test(localPart);
}
