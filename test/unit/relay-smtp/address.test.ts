import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainToASCII } from 'node:url';
import { canonicalDomain } from '../../../relay/smtp/address.ts';
import { seededRandom } from '../../support/seeded-random.ts';

/** canonicalDomain as it was before its plain-name fast path: every name through domainToASCII. */
function throughDomainToAscii(raw: string): string | undefined {
  const withoutDot = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (withoutDot === '' || withoutDot.endsWith('.')) return undefined;
  const ascii = domainToASCII(withoutDot).toLowerCase();
  if (ascii === '' || ascii.length > 253) return undefined;
  const validLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  return ascii.split('.').every((label) => validLabel.test(label)) ? ascii : undefined;
}

const edgeCases = [
  'example.com',
  'Example.COM.',
  'mail.example.org',
  '1.2.3.4',
  '0x7f.1',
  '0X7F.0.0.1',
  'a.0x',
  'a.09',
  'a.1e',
  'a.123',
  'foo.0x1g',
  '123',
  'host.017',
  'xn--bcher-kva.example',
  'XN--bcher-kva.example',
  'xn--invalid-.example',
  'a..b',
  '.a',
  'a.',
  'a..',
  '-a.b',
  'a.b-',
  'ab--cd.example',
  `${'a'.repeat(63)}.example`,
  `${'a'.repeat(64)}.example`,
  `${'abcdefghi.'.repeat(25)}com`,
  'bücher.example',
  'ＥＸＡＭＰＬＥ.com',
  'a_b.example',
  'exa mple.com',
];

test('canonicalDomain gives what domainToASCII gives, for edge cases and random names', () => {
  for (const name of edgeCases) assert.equal(canonicalDomain(name), throughDomainToAscii(name), name);
  const random = seededRandom(20261202);
  const alphabet: readonly string[] = 'abcXYZ0129-._xn0x'.split('');
  for (let i = 0; i < 20_000; i++) {
    const length = random.int(1, 24);
    let name = '';
    for (let j = 0; j < length; j++) name += random.pick(alphabet);
    assert.equal(canonicalDomain(name), throughDomainToAscii(name), `${name} (seed ${String(random.seed)})`);
  }
});
