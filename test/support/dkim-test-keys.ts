// A fresh RSA-2048 and Ed25519 DKIM key pair, selectors `rsa` and `ed`, for the DKIM unit tests.
import { generateKeyPairSync } from 'node:crypto';
import type { DkimKey } from '../../relay/dkim/keys.ts';

const pem = (key: { export(options: { type: 'pkcs8'; format: 'pem' }): string | Buffer }): string =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

export function rsaAndEd25519Keys(): DkimKey[] {
  return [
    {
      selector: 'rsa',
      algorithm: 'rsa-sha256',
      privateKeyPem: pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    },
    {
      selector: 'ed',
      algorithm: 'ed25519-sha256',
      privateKeyPem: pem(generateKeyPairSync('ed25519').privateKey),
    },
  ];
}
