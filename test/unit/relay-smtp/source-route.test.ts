// Case 32: which raw MAIL/RCPT lines carry a source route, and the smtp-server behaviour that makes
// reading the raw line necessary. The contract part explains itself when an upgrade changes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { hasSourceRoute } from '../../../relay/smtp/source-route.ts';

for (const [line, routed] of [
  ['MAIL FROM:<@a.example:s@example.org>', true],
  ['RCPT TO:<@a.example,@b.example:u@example.com>', true],
  ['rcpt to: <@[192.0.2.1]:u@example.com> NOTIFY=NEVER', true],
  ['MAIL FROM:< @a.example:s@example.org>', true],
  ['MAIL FROM:<s@example.org>', false],
  ['MAIL FROM:<>', false],
  ['RCPT TO:<u@example.com>', false],
  ['RCPT TO:<"@a:b"@example.com>', false],
  ['RCPT TO:<postmaster>', false],
] as const) {
  test(`case 32: ${line} ${routed ? 'carries' : 'carries no'} source route`, () => {
    assert.equal(hasSourceRoute(Buffer.from(line, 'latin1')), routed);
  });
}

test('contract: smtp-server strips a source route before the hooks, and MAIL/RCPT have handlers to override', () => {
  const prototype = SMTPConnection.prototype as unknown as {
    _parseAddressCommand(this: unknown, name: string, command: Buffer): { address: string } | false;
  };
  const fake = { _server: { options: {} }, session: {} };
  const parsed = prototype._parseAddressCommand.call(
    fake,
    'rcpt to',
    Buffer.from('RCPT TO:<@a.example,@b.example:u@example.com>'),
  );
  assert.ok(parsed, 'smtp-server no longer parses a routed path: relay/smtp/source-route.ts may be unneeded');
  assert.equal(
    parsed.address,
    'u@example.com',
    'smtp-server now keeps the route in the address: the MAIL/RCPT hooks could judge it without source-route.ts',
  );
  for (const name of ['handler_MAIL', 'handler_RCPT'] as const) {
    assert.equal(
      typeof SMTPConnection.prototype[name],
      'function',
      `SMTPConnection.${name} is gone: RelayConnection (relay/smtp/connection.ts) overrides it to see the raw line`,
    );
  }
});
