// spec.tls.ciphers at admission (case 33): the relay's default TLS 1.2 list is filled in, a list of
// OpenSSL names is admitted, and characters no cipher list has, or a list too long, are refused
// with a cause naming the field.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultTls12Ciphers } from '../../../relay/config/tls-profile.ts';
import { assertRejected, changed, type InvalidCase } from './invalid-cases.ts';
import { dryRunCreate, parsed, readExample, temporaryNamespace } from './support.ts';

const rows: readonly InvalidCase[] = [
  {
    name: 'a cipher list with a space and a shell metacharacter',
    example: 'smtprelay-production.yaml',
    change: ['tls.ciphers', 'ECDHE-RSA-AES128-GCM-SHA256; rm -rf /'],
    field: 'spec.tls.ciphers',
    message: 'should match',
  },
  {
    name: 'a cipher list longer than 1024 characters',
    example: 'smtprelay-production.yaml',
    change: ['tls.ciphers', 'ECDHE-RSA-AES128-GCM-SHA256:'.repeat(40)],
    field: 'spec.tls.ciphers',
    message: 'Too long',
  },
];

let namespace: Awaited<ReturnType<typeof temporaryNamespace>>;
before(async () => {
  namespace = await temporaryNamespace('api-tls-ciphers');
});
after(async () => {
  await namespace.remove();
});

for (const row of rows) {
  test(`case 33: rejected: ${row.name} (${row.field})`, () => assertRejected(namespace.name, row));
}

test('case 33: spec.tls.ciphers defaults to the relay default and admits an OpenSSL list', async () => {
  const production = await readExample('smtprelay-production.yaml');
  for (const [ciphers, expected] of [
    [undefined, defaultTls12Ciphers],
    [
      'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE+CHACHA20:!aNULL',
      'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE+CHACHA20:!aNULL',
    ],
  ] as const) {
    const response = await dryRunCreate(namespace.name, changed(production, ['tls.ciphers', ciphers]));
    assert.equal(response.status, 201, response.body);
    const served = (parsed(response) as { spec: { tls: { ciphers: string } } }).spec.tls.ciphers;
    assert.equal(served, expected);
  }
});
