// Signs a small message the way the relay does (mailauth, relaxed/relaxed) and verifies it with
// mailauth against TXT records the test supplies: proof that a private key and its published
// record belong together.
import { dkimSign, dkimVerify } from 'mailauth';

export type Txt = ReadonlyMap<string, readonly string[]>;

export interface SigningKey {
  readonly selector: string;
  readonly algorithm: 'rsa-sha256' | 'ed25519-sha256';
  readonly privateKeyPem: string;
}

/** One signature per key, as the relay signs; the verification result of each, in order. */
export async function signAndVerify(options: {
  domain: string;
  keys: readonly SigningKey[];
  txt: Txt;
  body?: string;
}): Promise<string[]> {
  const message = [
    `From: sender@${options.domain}`,
    'To: reader@elsewhere.test',
    'Subject: key check',
    'Date: Tue, 01 Dec 2026 12:00:00 +0000',
    '',
    options.body ?? 'Hello.',
    '',
  ].join('\r\n');
  const signatureData = options.keys.map((key) => ({
    signingDomain: options.domain,
    selector: key.selector,
    privateKey: key.privateKeyPem,
    algorithm: key.algorithm,
    canonicalization: 'relaxed/relaxed',
  }));
  const [first] = signatureData;
  if (first === undefined) throw new Error('signAndVerify needs a key');
  // As in relay/dkim/sign.ts: mailauth signs with signatureData only.
  const signed = await dkimSign(message, { ...first, signatureData });
  if (signed.errors.length > 0) throw new Error(`signing failed: ${JSON.stringify(signed.errors)}`);
  const result = await dkimVerify(signed.signatures + message, {
    strict: true,
    resolver: (name) => {
      const records = options.txt.get(name);
      if (records === undefined) {
        return Promise.reject(Object.assign(new Error(`no TXT for ${name}`), { code: 'ENOTFOUND' }));
      }
      return Promise.resolve(records.map((record) => [record]));
    },
  });
  return result.results.map((entry) => entry.status.result);
}
