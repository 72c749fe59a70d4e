// Signs a small message the way the relay does (mailauth, relaxed/relaxed) and verifies it with
// mailauth against TXT records the test supplies: proof that a private key and its published
// record belong together.
import { dkimSign, dkimVerify } from 'mailauth';

export type Txt = ReadonlyMap<string, readonly string[]>;

export async function signAndVerify(options: {
  domain: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  privateKeyPem: string;
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
  const key = {
    signingDomain: options.domain,
    selector: options.selector,
    privateKey: options.privateKeyPem,
    algorithm: options.algorithm,
    canonicalization: 'relaxed/relaxed',
  };
  // As in relay/dkim/sign.ts: mailauth signs with signatureData only.
  const signed = await dkimSign(message, { ...key, signatureData: [key] });
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
