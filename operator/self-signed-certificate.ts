// A self-signed serving certificate for the operator's HTTPS metrics endpoint when no certificate is
// mounted (what kubebuilder's metrics server does at start): an ECDSA P-256 key and an X.509 v3
// certificate naming the given DNS names. node:crypto signs but cannot build certificates, so the
// few DER structures a certificate needs are encoded here; node:crypto's X509Certificate reads the
// result back in the unit test. The time comes in as a parameter.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export interface SelfSignedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface SelfSignedCertificateRequest {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly now: Date;
  readonly validityDays: number;
}

const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

function encodedLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodedLength(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);

function objectIdentifier(oid: string): Buffer {
  const [first = 0, second = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc % 128];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      base128.unshift(0x80 | (value % 128));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime (YYMMDDHHMMSSZ), valid for the years 1950-2049 as RFC 5280 requires. */
function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(objectIdentifier(oids.commonName), tlv(0x0c, Buffer.from(commonName)))));
}

function extension(oid: string, value: Buffer, critical = false): Buffer {
  return sequence(
    objectIdentifier(oid),
    ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []),
    tlv(0x04, value),
  );
}

export function selfSignedCertificate(request: SelfSignedCertificateRequest): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  const signatureAlgorithm = sequence(objectIdentifier(oids.ecdsaWithSha256));
  const notAfter = new Date(request.now.getTime() + request.validityDays * 86_400_000);
  const subjectAltNames = sequence(...request.dnsNames.map((dnsName) => tlv(0x82, Buffer.from(dnsName))));
  const tbsCertificate = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version 3
    tlv(0x02, serial),
    signatureAlgorithm,
    name(request.commonName),
    sequence(utcTime(request.now), utcTime(notAfter)),
    name(request.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(
      0xa3,
      sequence(
        extension(oids.basicConstraints, sequence(), true),
        extension(oids.extendedKeyUsage, sequence(objectIdentifier(oids.serverAuth))),
        extension(oids.subjectAltName, subjectAltNames),
      ),
    ),
  );
  const signature = sign('sha256', tbsCertificate, privateKey);
  const certificate = sequence(tbsCertificate, signatureAlgorithm, tlv(0x03, Buffer.from([0]), signature));
  const base64Lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${base64Lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
