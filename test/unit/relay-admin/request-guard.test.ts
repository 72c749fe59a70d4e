// Case 35, the pure part: which requests the queue admin endpoint refuses, and how the CLI finds the
// endpoint and its token file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queueEndpoint } from '../../../relay/admin/cli.ts';
import { refuseAdminRequest, type AdminRequestHeaders } from '../../../relay/admin/request-guard.ts';
import { bearerMatches } from '../../../relay/admin/token.ts';

const token = 'A'.repeat(43);
const good = { host: '127.0.0.1:8026', authorization: `Bearer ${token}` };

const rows: readonly [name: string, headers: AdminRequestHeaders, status: 401 | 403 | undefined][] = [
  ['the CLI’s request', good, undefined],
  ['localhost with the port', { ...good, host: 'localhost:8026' }, undefined],
  ['upper-case host', { ...good, host: 'LOCALHOST:8026' }, undefined],
  ['no Authorization', { host: good.host }, 401],
  ['a wrong token', { ...good, authorization: 'Bearer wrong' }, 401],
  ['the token with another scheme', { ...good, authorization: `Basic ${token}` }, 401],
  ['the token with a suffix', { ...good, authorization: `Bearer ${token}x` }, 401],
  ['an Origin header', { ...good, origin: 'https://evil.example' }, 403],
  ['Origin null', { ...good, origin: 'null' }, 403],
  ['a rebinding host name', { ...good, host: 'evil.example:8026' }, 403],
  ['the loopback address without the port', { ...good, host: '127.0.0.1' }, 403],
  ['another port', { ...good, host: '127.0.0.1:8027' }, 403],
  ['no Host', { authorization: good.authorization }, 403],
];

for (const [name, headers, status] of rows) {
  test(`case 35: ${name} is ${status === undefined ? 'allowed' : `refused with ${String(status)}`}`, () => {
    const refusal = refuseAdminRequest(headers, 8026, token);
    assert.equal(refusal?.status, status);
    if (refusal !== undefined) assert.match(refusal.message, /Origin|Host|token/);
  });
}

test('bearerMatches needs the exact token', () => {
  assert.ok(bearerMatches(`Bearer ${token}`, token));
  assert.ok(!bearerMatches(undefined, token));
  assert.ok(!bearerMatches(`Bearer ${token.slice(1)}`, token));
});

test('queueEndpoint: the token file follows the port of --admin-url and --admin-token-dir', () => {
  assert.deepEqual(queueEndpoint(['list']), {
    adminUrl: 'http://127.0.0.1:8026',
    tokenFile: '/tmp/mailfleet-admin-8026.token',
    argv: ['list'],
  });
  assert.deepEqual(
    queueEndpoint(['--admin-token-dir', '/var/run/x', '--admin-url', 'http://127.0.0.1:40003', 'show', 'Q']),
    {
      adminUrl: 'http://127.0.0.1:40003',
      tokenFile: '/var/run/x/mailfleet-admin-40003.token',
      argv: ['show', 'Q'],
    },
  );
  assert.deepEqual(queueEndpoint(['--admin-url']), { problem: '--admin-url needs a value' });
  assert.match(
    (queueEndpoint(['--admin-url', 'not a url', 'list']) as { problem: string }).problem,
    /is not a URL/,
  );
});
