// The realistic scenario set (issue 17): the relays as users run them — STARTTLS, AUTH PLAIN on every
// session, DKIM on every message — against Postfix set up the way the popular Postfix charts do it
// (STARTTLS, Cyrus SASL with sasldb, the OpenDKIM milter). Names and sizes only (pure).
import type { Scenario, ScenarioSecurity } from './scenario.ts';

/** The name on the certificate both relays serve; the load generator verifies it. */
export const tlsServerName = 'relay.bench.example';
/** Postfix's myhostname, which is also the Cyrus SASL realm of the user in sasldb. */
export const postfixHostname = 'postfix.bench.example';
export const benchUser = 'bench';
/** The cost docs/tls-and-auth.md recommends (`htpasswd -nbBC 12`). */
export const bcryptCost = 12;

/**
 * Each sender domain is signed its own way, so one running relay serves every scenario: the
 * scenario picks the signing by the domain it sends as. The signatures go to `d=` this domain.
 */
export const dkimDomains = {
  rsa: { name: 'rsa.sender.example', rsaSelector: 'rsa2048', ed25519Selector: undefined },
  'rsa+ed25519': { name: 'dual.sender.example', rsaSelector: 'rsa2048', ed25519Selector: 'ed25519' },
} as const;
export const dkimParentDomain = 'sender.example';

export type Signing = keyof typeof dkimDomains;

export type RealisticSecurity = ScenarioSecurity & { readonly signing: Signing };

export interface RealisticCredentials {
  readonly user: string;
  readonly password: string;
}

export interface DkimKeyFiles {
  readonly rsa: string;
  readonly ed25519: string;
}

export function senderOf(signing: Signing): string {
  return `bench@${dkimDomains[signing].name}`;
}

/** DKIM-Signature headers a message sent as this domain must carry. */
export function expectedSignatures(signing: Signing): number {
  return dkimDomains[signing].ed25519Selector === undefined ? 1 : 2;
}

function realistic(
  id: string,
  payloadBytes: number,
  reuseConnections: boolean,
  messages: number,
  security: RealisticSecurity,
): Scenario {
  const size = payloadBytes >= 102_400 ? '100 KB' : '2 KB';
  const connection = reuseConnections ? 'connection reused' : 'new connection per message';
  const tls = security.tlsVersion === 'TLSv1.3' ? 'TLS 1.3' : 'TLS 1.2';
  const signing = security.signing === 'rsa' ? 'DKIM RSA-2048' : 'DKIM RSA-2048 + Ed25519';
  return {
    id,
    title: `${size}, 20 sessions, ${connection}, STARTTLS ${tls} + AUTH PLAIN + ${signing}`,
    payloadBytes,
    sessions: 20,
    messages,
    reuseConnections,
    driver: 'clients',
    security,
  };
}

const tls13Rsa: RealisticSecurity = { tlsVersion: 'TLSv1.3', signing: 'rsa' };

/**
 * A new connection per message pays a TLS handshake and an AUTH per message. For mailfleet the AUTH
 * was a bcrypt check (some 280 ms of CPU at cost 12), so those scenarios sent one message from each
 * of the 20 clients; since the relay remembers a login for `auth.loginCacheSeconds` (300 s by default,
 * relay/smtp/login-cache.ts) only the first login of the warm-up pays it. They send 600: with 300 a
 * run of mailfleet lasted 1.2–1.5 s, short enough that one repetition differed from the next by a
 * fifth.
 */
export const realisticScenarios: readonly Scenario[] = [
  realistic('realistic-new-2k', 2048, false, 600, tls13Rsa),
  realistic('realistic-new-2k-tls12', 2048, false, 600, { tlsVersion: 'TLSv1.2', signing: 'rsa' }),
  realistic('realistic-new-100k', 102_400, false, 600, tls13Rsa),
  realistic('realistic-reused-2k', 2048, true, 2000, tls13Rsa),
  realistic('realistic-reused-2k-dual', 2048, true, 2000, { tlsVersion: 'TLSv1.3', signing: 'rsa+ed25519' }),
  realistic('realistic-reused-100k', 102_400, true, 400, tls13Rsa),
];

/** BENCH_SCENARIOS=realistic names the whole set. */
export const realisticGroup = 'realistic';

/** Delivered messages of each run whose signatures dkimpy verifies. */
export const dkimSampleSize = 5;
