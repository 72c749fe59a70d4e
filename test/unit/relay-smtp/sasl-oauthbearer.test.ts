import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oauthBearerErrorChallenge, parseOauthBearer } from '../../../relay/smtp/sasl-oauthbearer.ts';

const encode = (text: string): string => Buffer.from(text).toString('base64');

const cases: { name: string; message: string; expected: ReturnType<typeof parseOauthBearer> }[] = [
  {
    name: 'RFC 7628 example with authzid, host and port',
    message:
      'n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01',
    expected: { ok: true, token: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==', authzid: 'user@example.com' },
  },
  {
    name: 'no authzid, a JWT',
    message: 'n,,\x01auth=Bearer aaa.bbb.ccc\x01\x01',
    expected: { ok: true, token: 'aaa.bbb.ccc', authzid: undefined },
  },
  {
    name: 'escaped authzid',
    message: 'n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01',
    expected: { ok: true, token: 't', authzid: 'a,b=c' },
  },
  {
    name: 'channel binding p= is not OAUTHBEARER',
    message: 'p=tls-unique,,\x01auth=Bearer t\x01\x01',
    expected: { ok: false, problem: 'bad GS2 header' },
  },
  {
    name: 'no auth pair',
    message: 'n,,\x01host=x\x01\x01',
    expected: { ok: false, problem: 'no auth=Bearer <token>' },
  },
  {
    name: 'not Bearer',
    message: 'n,,\x01auth=Basic dXNlcjpwYXNz\x01\x01',
    expected: { ok: false, problem: 'no auth=Bearer <token>' },
  },
  {
    name: 'unterminated',
    message: 'n,,\x01auth=Bearer t',
    expected: { ok: false, problem: 'not an OAUTHBEARER client response' },
  },
  {
    name: 'XOAUTH2 shape',
    message: 'user=a\x01auth=Bearer t\x01\x01',
    expected: { ok: false, problem: 'bad GS2 header' },
  },
  {
    name: 'control character in authzid',
    message: 'n,a=a\rb,\x01auth=Bearer t\x01\x01',
    expected: { ok: false, problem: 'control characters in the authzid' },
  },
];

for (const { name, message, expected } of cases) {
  test(`parseOauthBearer: ${name}`, () => {
    assert.deepEqual(parseOauthBearer(encode(message)), expected);
  });
}

test('the error challenge is the RFC 7628 JSON status', () => {
  assert.deepEqual(JSON.parse(Buffer.from(oauthBearerErrorChallenge, 'base64').toString()), {
    status: 'invalid_token',
    schemes: 'bearer',
  });
});
