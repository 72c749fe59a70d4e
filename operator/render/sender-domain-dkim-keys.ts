// DKIM key material of a SenderDomain: new private keys, the public key record a receiver looks up
// (`<selector>._domainkey.<domain>`), and whether a PEM key can sign with an algorithm (the same
// check the relay makes when it loads its keys, so a key the operator accepts is one the relay loads).
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { keyProblem } from '../../relay/dkim/keys.ts';
import type { SenderDomain } from '../api/types.generated.ts';
import { dkimAlgorithms } from './sender-domain-binding.ts';

export type DkimKeyAlgorithm = SenderDomain['spec']['dkim']['algorithms'][number];

/** Makes a new PKCS#8 PEM private key; the randomness the planners get as a parameter. */
export type GenerateDkimKey = (algorithm: DkimKeyAlgorithm) => string;

export const generateDkimKey: GenerateDkimKey = (algorithm) => {
  const pair =
    algorithm === 'RSA2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
};

/**
 * The same, off the event loop (libuv's thread pool): an RSA-2048 key takes ~100 ms of CPU, and a
 * burst of new SenderDomains must not stall the operator's watches and lease renewals meanwhile.
 */
export function generateDkimKeyAsync(algorithm: DkimKeyAlgorithm): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, privateKey: KeyObject): void => {
      if (error) reject(error);
      else resolve(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    };
    if (algorithm === 'RSA2048') {
      generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
        done(error, privateKey);
      });
    } else {
      generateKeyPair('ed25519', undefined, (error, _publicKey, privateKey) => {
        done(error, privateKey);
      });
    }
  });
}

/** Why `pem` cannot sign as `algorithm` (not PEM, other key type, RSA under 2048 bits), or undefined. */
export function dkimKeyProblem(pem: string, algorithm: DkimKeyAlgorithm): string | undefined {
  return keyProblem(pem, dkimAlgorithms[algorithm].relay);
}

/**
 * The DKIM key record (RFC 6376 §3.6.1) of a private key that passed `dkimKeyProblem`: for RSA the
 * base64 SubjectPublicKeyInfo DER, for Ed25519 the base64 raw 32-byte public key (RFC 8463 §4.2).
 */
export function dkimPublicKeyRecord(pem: string, algorithm: DkimKeyAlgorithm): string {
  const der = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
  if (algorithm === 'RSA2048') return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
  // The Ed25519 SPKI is a fixed 12-byte header followed by the raw key.
  return `v=DKIM1; k=ed25519; p=${der.subarray(-32).toString('base64')}`;
}

export function decodeSecretValue(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

export function encodeSecretValue(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}
