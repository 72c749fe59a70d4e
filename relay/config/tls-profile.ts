// The TLS profile the relay's listeners serve (case 33): TLS 1.2 and 1.3 only, forward-secret AEAD
// suites only for TLS 1.2, no renegotiation. One declaration for the schema default, the loader and
// the docs.
import { constants } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/**
 * Mozilla's "intermediate" TLS 1.2 suites without the DHE ones (no finite-field parameters to
 * manage): ECDHE key exchange with AES-GCM or ChaCha20-Poly1305. No static-RSA key exchange and no
 * CBC. TLS 1.3 suites are Node's own, all of them AEAD with forward secrecy.
 */
export const defaultTls12Ciphers = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * OpenSSL refuses every renegotiation, client-initiated ones included (Node otherwise lets a client
 * renegotiate a few times per connection, a cheap way to make the server do handshakes).
 */
export const tlsSecureOptions = constants.SSL_OP_NO_RENEGOTIATION;

/** The characters of an OpenSSL cipher list: names, `!`/`+`/`-` prefixes, `@` keywords, `:` between. */
export const tls12CipherListPattern = '^[A-Za-z0-9!+@=_.:-]+$';

/** Why OpenSSL cannot use `ciphers` as the TLS 1.2 list, naming the config path; undefined when it can. */
export function tls12CipherListProblem(ciphers: string): string | undefined {
  const tls13 = ciphers.split(':').find((entry) => entry.startsWith('TLS_'));
  if (tls13 !== undefined) {
    return `/tls/ciphers: ${tls13} is a TLS 1.3 suite; this list sets the TLS 1.2 suites only (for example ${defaultTls12Ciphers.split(':')[0] ?? ''})`;
  }
  try {
    createSecureContext({ ciphers });
    return undefined;
  } catch (error) {
    return `/tls/ciphers: OpenSSL matches no TLS 1.2 cipher suite to "${ciphers}" (${(error as Error).message}); the default is ${defaultTls12Ciphers}`;
  }
}
