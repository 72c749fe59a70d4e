// A throwaway CA and server certificate made with openssl, in a private temp dir the caller removes.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openssl = (...args: string[]) => promisify(execFile)('openssl', args);
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const rsaKey = ['-newkey', 'rsa:2048', '-nodes'];

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A CA, and a certificate it signed for `names` (DNS SANs, plus 127.0.0.1). Files are named after
 * `prefix`, so several certificates can share one directory. The server key is P-256 unless
 * `keyType` asks for RSA (the only kind with which static-RSA key exchange could be negotiated).
 */
export async function makeTestCertificates(
  names: readonly string[] = ['relay.test'],
  dir?: string,
  prefix = 'tls',
  keyType: 'ec' | 'rsa' = 'ec',
): Promise<TestCertificates> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'mailfleet-tls-')));
  const file = (name: string): string => join(target, `${prefix}-${name}`);
  const subject = names[0] ?? 'relay.test';
  await openssl(
    'req',
    '-x509',
    ...ecKey,
    '-days',
    '2',
    '-subj',
    `/CN=${prefix} test CA`,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  await openssl(
    'req',
    ...(keyType === 'rsa' ? rsaKey : ecKey),
    '-subj',
    `/CN=${subject}`,
    '-keyout',
    file('key.pem'),
    '-out',
    file('csr.pem'),
  );
  const san = [...names.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
  await writeFile(file('san.ext'), `subjectAltName=${san}\n`);
  await openssl(
    'x509',
    '-req',
    '-in',
    file('csr.pem'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.ext'),
    '-out',
    file('cert.pem'),
  );
  return { dir: target, caFile: file('ca.crt'), certFile: file('cert.pem'), keyFile: file('key.pem') };
}
