// What the realistic scenarios need on disk, made fresh for each run under one temp dir: a TLS
// certificate (RSA-2048, the one both relays serve), the DKIM keys (RSA-2048 and Ed25519) and their
// TXT records, the AUTH user as a bcrypt users file (mailfleet) and as a Cyrus sasldb (Postfix).
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { makeTestCertificates } from '../test/support/tls.ts';
import type { DkimKeyFiles, RealisticCredentials } from './realistic.ts';
import { benchUser, bcryptCost, dkimDomains, postfixHostname, tlsServerName } from './realistic.ts';

export interface RealisticFixtures {
  readonly directory: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed the certificate: the load generator verifies the certificate, as real clients do. */
  readonly caPem: string;
  readonly credentials: RealisticCredentials;
  /** bcrypt `user:hash` lines (relay auth.usersFile). */
  readonly usersFile: string;
  /** Cyrus sasldb2 with the same user in Postfix's realm. */
  readonly sasldbFile: string;
  readonly dkim: DkimKeyFiles;
  /** TXT records (name, text) that publish the DKIM public keys. */
  readonly dkimRecords: readonly { readonly name: string; readonly text: string }[];
  remove(): Promise<void>;
}

function dkimTxt(kind: 'rsa' | 'ed25519', spkiDer: Buffer): string {
  // An Ed25519 record carries the raw 32-byte key (RFC 8463), an RSA one the whole SubjectPublicKeyInfo.
  const publicKey = kind === 'ed25519' ? spkiDer.subarray(-32) : spkiDer;
  return `v=DKIM1; k=${kind}; p=${publicKey.toString('base64')}`;
}

export async function makeRealisticFixtures(): Promise<RealisticFixtures> {
  const directory = await mkdtemp(join(tmpdir(), 'mailfleet-bench-realistic-'));
  await chmod(directory, 0o755);
  const file = (name: string): string => join(directory, name);
  // An RSA-2048 server certificate signed by a throwaway CA, which the load generator trusts.
  const tls = await makeTestCertificates([tlsServerName], directory, 'tls', 'rsa');
  // Postfix's smtpd runs as the postfix user and reads the key itself.
  await chmod(tls.keyFile, 0o644);

  const password = `bench-${Math.random().toString(36).slice(2)}`;
  await writeFile(file('users'), `${benchUser}:${bcrypt.hashSync(password, bcryptCost)}\n`);
  await new Promise<void>((done, failed) => {
    const child = execFile(
      '/usr/sbin/saslpasswd2',
      ['-f', file('sasldb2'), '-p', '-c', '-u', postfixHostname, benchUser],
      (error) => {
        if (error) failed(new Error(`saslpasswd2 failed: ${error.message}`, { cause: error }));
        else done();
      },
    );
    child.stdin?.end(password);
  });
  await chmod(file('sasldb2'), 0o644);

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed25519 = generateKeyPairSync('ed25519');
  const pem = (key: typeof rsa.privateKey): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFile(file('dkim-rsa.key'), pem(rsa.privateKey), { mode: 0o600 });
  await writeFile(file('dkim-ed25519.key'), pem(ed25519.privateKey), { mode: 0o600 });
  const spki = (key: typeof rsa.publicKey): Buffer => key.export({ type: 'spki', format: 'der' });
  const dkim: DkimKeyFiles = { rsa: file('dkim-rsa.key'), ed25519: file('dkim-ed25519.key') };
  const dkimRecords = Object.values(dkimDomains).flatMap((domain) => [
    { name: `${domain.rsaSelector}._domainkey.${domain.name}`, text: dkimTxt('rsa', spki(rsa.publicKey)) },
    ...(domain.ed25519Selector === undefined
      ? []
      : [
          {
            name: `${domain.ed25519Selector}._domainkey.${domain.name}`,
            text: dkimTxt('ed25519', spki(ed25519.publicKey)),
          },
        ]),
  ]);
  return {
    directory,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    caPem: await readFile(tls.caFile, 'utf8'),
    credentials: { user: benchUser, password },
    usersFile: file('users'),
    sasldbFile: file('sasldb2'),
    dkim,
    dkimRecords,
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}
