// Case 33: the relay's TLS 1.2 cipher list (tls.ciphers): its default is forward-secret AEAD only,
// and a list OpenSSL cannot use is refused with an error naming /tls/ciphers.
import assert from 'node:assert/strict';
import { getCiphers } from 'node:tls';
import { test } from 'node:test';
import { parseRelayConfig } from '../../../relay/config/validate.ts';
import { defaultTls12Ciphers, tls12CipherListProblem } from '../../../relay/config/tls-profile.ts';

test('case 33: the default TLS 1.2 list is ECDHE with AES-GCM or ChaCha20-Poly1305 only', () => {
  for (const suite of defaultTls12Ciphers.split(':')) {
    assert.match(suite, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/, suite);
    assert.ok(getCiphers().includes(suite.toLowerCase()), `${suite} is known to this Node's OpenSSL`);
  }
  assert.equal(tls12CipherListProblem(defaultTls12Ciphers), undefined);
});

for (const [name, ciphers, expected] of [
  ['a single suite', 'ECDHE-RSA-AES256-GCM-SHA384', undefined],
  ['an OpenSSL expression', 'ECDHE+AESGCM:!aNULL', undefined],
  [
    'a name OpenSSL does not know',
    'NOT-A-CIPHER',
    /^\/tls\/ciphers: OpenSSL matches no TLS 1\.2 cipher suite to "NOT-A-CIPHER"/,
  ],
  [
    'a TLS 1.3 suite',
    'TLS_AES_128_GCM_SHA256',
    /^\/tls\/ciphers: TLS_AES_128_GCM_SHA256 is a TLS 1\.3 suite/,
  ],
] as const) {
  test(`case 33: tls.ciphers with ${name}`, () => {
    const problem = tls12CipherListProblem(ciphers);
    if (expected === undefined) assert.equal(problem, undefined);
    else assert.match(problem ?? '', expected);
  });
}

test('case 33: the schema fills in the default and refuses characters no cipher list has', () => {
  const base = {
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 25, mode: 'relay' }],
    tls: { certificates: [{ certFile: '/c.pem', keyFile: '/k.pem' }] },
    policy: { allowedNetworks: ['127.0.0.0/8'] },
  };
  const filled = parseRelayConfig(JSON.stringify(base), 'relay.json');
  assert.ok(filled.ok, JSON.stringify(filled));
  assert.equal(filled.config.tls?.ciphers, defaultTls12Ciphers);
  const refused = parseRelayConfig(
    JSON.stringify({ ...base, tls: { ...base.tls, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256; rm -rf /' } }),
    'relay.json',
  );
  assert.ok(!refused.ok);
  assert.ok(
    refused.errors.some((error) => error.includes('/tls/ciphers')),
    refused.errors.join('\n'),
  );
});
