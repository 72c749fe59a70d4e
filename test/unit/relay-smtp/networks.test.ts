import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileNetworks } from '../../../relay/smtp/networks.ts';

const list = compileNetworks(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

const cases: [string, boolean][] = [
  ['10.1.2.3', true],
  ['::ffff:10.1.2.3', true],
  ['11.0.0.1', false],
  ['192.0.2.7', true],
  ['192.0.2.8', false],
  ['fd12::1', true],
  ['fe80::1', false],
  ['not an address', false],
];

for (const [address, expected] of cases) {
  test(`allowed networks: ${address} → ${expected}`, () => {
    assert.equal(list.contains(address), expected);
  });
}

test('an empty list contains nothing', () => {
  assert.equal(compileNetworks([]).contains('127.0.0.1'), false);
});
