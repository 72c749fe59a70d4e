import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isForbiddenDestination } from '../../../relay/delivery/forbidden-destinations.ts';

const table: readonly [string, boolean][] = [
  ['127.0.0.1', true],
  ['127.1.2.3', true],
  ['10.1.2.3', true],
  ['172.16.0.1', true],
  ['172.31.255.255', true],
  ['172.32.0.1', false],
  ['192.168.1.1', true],
  ['169.254.169.254', true],
  ['100.64.0.1', true],
  ['0.0.0.0', true],
  ['224.0.0.1', true],
  ['255.255.255.255', true],
  ['8.8.8.8', false],
  ['93.184.216.34', false],
  ['::1', true],
  ['::', true],
  ['fe80::1', true],
  ['fd00::1', true],
  ['fd00:ec2::254', true],
  ['::ffff:127.0.0.1', true],
  ['::ffff:8.8.8.8', false],
  ['::ffff:7f00:1', true],
  ['::7f00:1', true],
  ['2002:7f00:1::1', true],
  ['64:ff9b::a9fe:a9fe', true],
  ['2001:4860:4860::8888', false],
  ['localhost', true],
  ['0127.0.0.1', true],
];

for (const [address, forbidden] of table) {
  test(`${address} is ${forbidden ? 'forbidden' : 'allowed'}`, () => {
    assert.equal(isForbiddenDestination(address), forbidden);
  });
}
