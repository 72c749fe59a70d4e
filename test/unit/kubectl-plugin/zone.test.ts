import assert from 'node:assert/strict';
import { test } from 'node:test';
import { txtStrings, zoneLines } from '../../../kubectl-plugin/zone.ts';

test('zoneLines: one absolute-name line per record, with its purpose as a comment', () => {
  assert.equal(
    zoneLines([
      {
        purpose: 'SPF',
        type: 'TXT',
        name: 'example.com',
        value: 'v=spf1 ip4:192.0.2.1 -all',
        verified: true,
      },
      { purpose: 'DMARC', type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=none' },
      { purpose: 'DKIM', type: 'CNAME', name: 'mf._domainkey.example.com', value: 'mf.keys.example.net' },
    ]),
    'example.com.\tIN\tTXT\t"v=spf1 ip4:192.0.2.1 -all"\t; SPF\n' +
      '_dmarc.example.com.\tIN\tTXT\t"v=DMARC1; p=none"\t; DMARC\n' +
      'mf._domainkey.example.com.\tIN\tCNAME\tmf.keys.example.net.\t; DKIM\n',
  );
});

test('txtStrings: values over 255 bytes are split into character-strings that join back exactly', () => {
  const key = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;
  const strings = txtStrings(key);
  assert.equal(strings.length, 2);
  assert.equal(strings[0]?.length, 255 + 2);
  assert.equal(strings.map((text) => text.slice(1, -1)).join(''), key);
});

test('txtStrings: quotes and backslashes are escaped; a multi-byte character is never cut', () => {
  assert.deepEqual(txtStrings('say "hi" \\ there'), ['"say \\"hi\\" \\\\ there"']);
  const strings = txtStrings(`${'a'.repeat(254)}é`);
  assert.deepEqual(strings, [`"${'a'.repeat(254)}"`, '"é"']);
});
