// Case 38: the metrics endpoint reviews only a well-formed `Authorization: Bearer <token>`; anything
// else is answered 401 without asking the API server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerToken } from '../../../operator/metrics-auth.ts';

const cases: readonly [header: string | undefined, token: string | undefined][] = [
  ['Bearer abc.def-ghi', 'abc.def-ghi'],
  ['bearer abc', 'abc'],
  ['Bearer   abc  ', 'abc'],
  [undefined, undefined],
  ['', undefined],
  ['Bearer', undefined],
  ['Bearer ', undefined],
  ['Basic dXNlcjpwYXNz', undefined],
  ['Bearer two tokens', undefined],
];

test('case 38: the bearer token of an Authorization header', () => {
  for (const [header, token] of cases) assert.equal(bearerToken(header), token, JSON.stringify(header));
});
