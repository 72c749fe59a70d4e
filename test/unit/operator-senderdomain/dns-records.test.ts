import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import { dkimPublicKeyRecord, generateDkimKey } from '../../../operator/render/sender-domain-dkim-keys.ts';
import type { PublishedSelector } from '../../../operator/render/sender-domain-dkim-plan.ts';
import {
  dmarcRecordValue,
  spfRecordValue,
  wantedDnsRecords,
} from '../../../operator/render/sender-domain-dns.ts';
import { checkDnsRecords, type TxtAnswer } from '../../../operator/status/sender-domain-dns-check.ts';
import { senderDomain } from './fixtures.ts';

const rsa = generateDkimKey('RSA2048');
const ed = generateDkimKey('Ed25519');

test('SPF: the spec mechanisms in order, duplicates dropped, then the all qualifier', () => {
  const cases: [SenderDomain['spec']['spf'], string][] = [
    [{ enabled: true, all: 'SoftFail' }, 'v=spf1 ~all'],
    [
      { enabled: true, all: 'Fail', mechanisms: ['include:_spf.mail.example'] },
      'v=spf1 include:_spf.mail.example -all',
    ],
    [
      {
        enabled: true,
        all: 'Neutral',
        mechanisms: ['ip4:203.0.113.0/24', 'mx', 'ip4:203.0.113.0/24', 'ip6:2001:db8::/32'],
      },
      'v=spf1 ip4:203.0.113.0/24 mx ip6:2001:db8::/32 ?all',
    ],
  ];
  for (const [spf, expected] of cases) assert.equal(spfRecordValue(spf), expected);
});

test('DMARC: p, sp only when set, pct, alignment for both identifiers, rua only when set', () => {
  const cases: [SenderDomain['spec']['dmarc'], string][] = [
    [
      { enabled: true, policy: 'None', percentage: 100, alignment: 'Relaxed' },
      'v=DMARC1; p=none; pct=100; adkim=r; aspf=r',
    ],
    [
      {
        enabled: true,
        policy: 'Reject',
        subdomainPolicy: 'Quarantine',
        percentage: 25,
        alignment: 'Strict',
        reportAddress: 'dmarc@example.com',
      },
      'v=DMARC1; p=reject; sp=quarantine; pct=25; adkim=s; aspf=s; rua=mailto:dmarc@example.com',
    ],
  ];
  for (const [dmarc, expected] of cases) assert.equal(dmarcRecordValue(dmarc), expected);
});

test('records: DKIM per published selector and algorithm, then SPF and DMARC, with exact names', () => {
  const domain = senderDomain({
    domain: 'mail.example.com',
    dkim: { selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] },
    spf: { enabled: true, all: 'Fail', mechanisms: ['include:_spf.provider.example'] },
    dmarc: {
      enabled: true,
      policy: 'Quarantine',
      percentage: 100,
      alignment: 'Relaxed',
      reportAddress: 'r@example.com',
    },
  });
  const published: PublishedSelector[] = [
    {
      selector: 'mf-2',
      role: 'active',
      keys: [
        { algorithm: 'RSA2048', privateKeyPem: rsa },
        { algorithm: 'Ed25519', privateKeyPem: ed },
      ],
    },
    { selector: 'mf-1', role: 'retiring', keys: [{ algorithm: 'RSA2048', privateKeyPem: rsa }] },
  ];
  assert.deepEqual(wantedDnsRecords(domain, published), [
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-2-rsa._domainkey.mail.example.com',
      value: dkimPublicKeyRecord(rsa, 'RSA2048'),
    },
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-2-ed25519._domainkey.mail.example.com',
      value: dkimPublicKeyRecord(ed, 'Ed25519'),
    },
    {
      purpose: 'DKIM',
      type: 'TXT',
      name: 'mf-1-rsa._domainkey.mail.example.com',
      value: dkimPublicKeyRecord(rsa, 'RSA2048'),
    },
    {
      purpose: 'SPF',
      type: 'TXT',
      name: 'mail.example.com',
      value: 'v=spf1 include:_spf.provider.example -all',
    },
    {
      purpose: 'DMARC',
      type: 'TXT',
      name: '_dmarc.mail.example.com',
      value: 'v=DMARC1; p=quarantine; pct=100; adkim=r; aspf=r; rua=mailto:r@example.com',
    },
  ]);
  const off = senderDomain({
    spf: { enabled: false, all: 'Fail' },
    dmarc: { enabled: false, policy: 'None', percentage: 100, alignment: 'Relaxed' },
  });
  assert.deepEqual(wantedDnsRecords(off, []), []);
});

test('verification: chunks joined, equivalent SPF/DMARC accepted, missing, wrong and duplicate records named', () => {
  const dkimValue = dkimPublicKeyRecord(rsa, 'RSA2048');
  const wanted = [
    { purpose: 'DKIM', type: 'TXT', name: 's._domainkey.example.com', value: dkimValue },
    { purpose: 'SPF', type: 'TXT', name: 'example.com', value: 'v=spf1 include:_spf.p.example -all' },
    {
      purpose: 'DMARC',
      type: 'TXT',
      name: '_dmarc.example.com',
      value: 'v=DMARC1; p=reject; pct=100; adkim=r; aspf=r',
    },
  ] as const;
  const split = (text: string) => text.match(/.{1,255}/g) ?? [];
  const at = Date.parse('2026-12-01T12:00:00Z');
  const cases: {
    name: string;
    answers: Record<string, TxtAnswer>;
    verified: boolean[];
    problems: RegExp[];
  }[] = [
    {
      name: 'all published, DKIM split in 255-byte strings, SPF case and spacing, DMARC with defaults left out',
      answers: {
        's._domainkey.example.com': { records: [split(dkimValue.replace('; ', ';  '))] },
        'example.com': {
          records: [['google-site-verification=abc'], ['V=SPF1  Include:_spf.p.example   -all']],
        },
        '_dmarc.example.com': { records: [['v=DMARC1; p=reject;']] },
      },
      verified: [true, true, true],
      problems: [],
    },
    {
      name: 'nothing published',
      answers: {
        's._domainkey.example.com': { error: 'ENOTFOUND' },
        'example.com': { records: [['some other text']] },
        '_dmarc.example.com': { error: 'ENODATA' },
      },
      verified: [false, false, false],
      problems: [
        /^DKIM TXT s\._domainkey\.example\.com is not published$/,
        /^SPF TXT example\.com is not published$/,
        /^DMARC TXT _dmarc\.example\.com is not published$/,
      ],
    },
    {
      name: 'wrong values and two SPF records',
      answers: {
        's._domainkey.example.com': { records: [['v=DKIM1; k=rsa; p=AAAA']] },
        'example.com': { records: [['v=spf1 include:_spf.p.example -all'], ['v=spf1 mx -all']] },
        '_dmarc.example.com': { records: [['v=DMARC1; p=none']] },
      },
      verified: [false, false, false],
      problems: [
        /^DKIM TXT s\._domainkey\.example\.com has a different key/,
        /^SPF TXT example\.com has 2 SPF records, exactly one is allowed: publish only "v=spf1 include:_spf\.p\.example -all"$/,
        /^DMARC TXT _dmarc\.example\.com is "v=DMARC1; p=none", expected "v=DMARC1; p=reject; pct=100; adkim=r; aspf=r"$/,
      ],
    },
    {
      name: 'resolver failures',
      answers: {
        's._domainkey.example.com': { records: [[dkimValue]] },
        'example.com': { error: 'ETIMEOUT' },
        '_dmarc.example.com': { error: 'ECONNREFUSED' },
      },
      verified: [true, false, false],
      problems: [
        /^SPF TXT example\.com could not be looked up \(ETIMEOUT\)$/,
        /could not be looked up \(ECONNREFUSED\)$/,
      ],
    },
  ];
  for (const { name, answers, verified, problems } of cases) {
    const check = checkDnsRecords(wanted, new Map(Object.entries(answers)), at);
    assert.deepEqual(
      check.records.map((record) => record.verified),
      verified,
      name,
    );
    assert.ok(
      check.records.every((record) => record.lastChecked === '2026-12-01T12:00:00Z'),
      name,
    );
    assert.equal(check.verified, problems.length === 0, name);
    assert.equal(check.problems.length, problems.length, `${name}: ${check.problems.join(' | ')}`);
    problems.forEach((pattern, index) => {
      assert.match(check.problems[index] ?? '', pattern, name);
    });
  }
  const failures = checkDnsRecords(wanted.slice(1), new Map([['example.com', { error: 'ETIMEOUT' }]]), at);
  assert.equal(failures.onlyLookupFailures, true);
});

test('several key records at one name: each expected one is found among the TXT records', () => {
  const name = 'mf._domainkey.example.com';
  const wanted = [
    { purpose: 'DKIM', type: 'TXT', name, value: dkimPublicKeyRecord(rsa, 'RSA2048') },
    { purpose: 'DKIM', type: 'TXT', name, value: dkimPublicKeyRecord(ed, 'Ed25519') },
  ] as const;
  const onlyEd = checkDnsRecords(
    wanted,
    new Map([[name, { records: [[dkimPublicKeyRecord(ed, 'Ed25519')]] }]]),
    0,
  );
  assert.deepEqual(
    onlyEd.records.map((record) => record.verified),
    [false, true],
  );
  const both = checkDnsRecords(
    wanted,
    new Map([
      [name, { records: [[dkimPublicKeyRecord(ed, 'Ed25519')], [dkimPublicKeyRecord(rsa, 'RSA2048')]] }],
    ]),
    0,
  );
  assert.equal(both.verified, true);
});
