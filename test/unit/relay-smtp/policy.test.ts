import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyConfig } from '../../../relay/config/types.ts';
import {
  checkDeclaredSize,
  checkRecipient,
  checkSender,
  tenantNamespace,
  type ClientFacts,
} from '../../../relay/smtp/policy.ts';

const base: PolicyConfig = {
  allowedNetworks: ['10.0.0.0/8'],
  senderDomains: [],
  maxMessageBytes: 1_000_000,
  maxRecipients: 3,
  maxReceivedHeaders: 50,
  bareLineEndings: 'reject',
  pipelining: 'strict',
  rateLimits: {},
};
const network: ClientFacts = { inAllowedNetwork: true };
const outsider: ClientFacts = { inAllowedNetwork: false };
const alice: ClientFacts = { inAllowedNetwork: false, user: 'alice' };

const recipientCases: {
  name: string;
  policy?: Partial<PolicyConfig>;
  client: ClientFacts;
  address: string;
  sofar?: number;
  expected: string | number;
}[] = [
  {
    name: 'case 5: outsider is refused for any recipient',
    client: outsider,
    address: 'a@example.com',
    expected: 554,
  },
  {
    name: 'case 5: allowed network relays',
    client: network,
    address: 'a@example.com',
    expected: 'example.com',
  },
  {
    name: 'case 5: authenticated user relays',
    client: alice,
    address: 'a@example.com',
    expected: 'example.com',
  },
  { name: 'case 6: percent hack', client: network, address: 'user%victim@example.com', expected: 501 },
  { name: 'case 6: bang path', client: network, address: 'victim!user@example.com', expected: 501 },
  { name: 'case 6: quoted at', client: network, address: '"user@victim"@example.com', expected: 501 },
  { name: 'case 6: source route', client: network, address: '@example.com:user@victim.org', expected: 501 },
  { name: 'case 6: double at', client: network, address: 'user@victim@example.com', expected: 501 },
  { name: 'case 6: domain literal', client: network, address: 'user@[1.2.3.4]', expected: 501 },
  {
    name: 'case 6: trailing dot is the same domain',
    client: network,
    address: 'a@Example.COM.',
    expected: 'example.com',
  },
  {
    name: 'case 6: IDN is compared as punycode',
    client: network,
    address: 'a@bücher.example',
    expected: 'xn--bcher-kva.example',
  },
  {
    name: 'case 6: deny list holds against a trailing dot',
    policy: { recipientDomainsDenied: ['victim.org'] },
    client: network,
    address: 'a@VICTIM.org.',
    expected: 554,
  },
  {
    name: 'case 6: deny list holds against an IDN spelling',
    policy: { recipientDomainsDenied: ['xn--bcher-kva.example'] },
    client: network,
    address: 'a@bücher.example',
    expected: 554,
  },
  {
    name: 'deny list covers subdomains',
    policy: { recipientDomainsDenied: ['victim.org'] },
    client: network,
    address: 'a@mx.victim.org',
    expected: 554,
  },
  {
    name: 'allow list refuses others',
    policy: { recipientDomainsAllowed: ['partner.example'] },
    client: network,
    address: 'a@other.example',
    expected: 554,
  },
  {
    name: 'allow list accepts its domain',
    policy: { recipientDomainsAllowed: ['partner.example'] },
    client: network,
    address: 'a@partner.example',
    expected: 'partner.example',
  },
  { name: 'case 9: recipient cap', client: network, address: 'a@example.com', sofar: 3, expected: 452 },
  { name: 'syntax: no domain', client: network, address: 'user@', expected: 501 },
];

for (const { name, policy, client, address, sofar, expected } of recipientCases) {
  test(`recipient: ${name}`, () => {
    const verdict = checkRecipient({ ...base, ...policy }, client, address, sofar ?? 0);
    if (typeof expected === 'string') {
      assert.ok(verdict.accept, JSON.stringify(verdict));
      assert.equal(verdict.value, expected);
    } else {
      assert.ok(!verdict.accept);
      assert.equal(verdict.reply.code, expected);
    }
  });
}

test('case 5: with no networks and no users nothing is relayed', () => {
  const closed = { ...base, allowedNetworks: [] };
  const verdict = checkRecipient(closed, { inAllowedNetwork: false }, 'a@example.com', 0);
  assert.ok(!verdict.accept);
  assert.deepEqual([verdict.reply.code, verdict.reply.enhancedCode], [554, '5.7.1']);
});

const senderPolicy: Partial<PolicyConfig> = {
  senderDomains: [
    { domain: 'shop.example', users: ['alice'] },
    { domain: 'news.example', allowNetworks: false },
    { domain: 'open.example' },
  ],
};

const senderCases: {
  name: string;
  client: ClientFacts;
  from: string;
  expected: string | undefined | number;
}[] = [
  { name: 'declared domain, allowed user', client: alice, from: 'a@shop.example', expected: 'shop.example' },
  {
    name: 'declared domain, other user',
    client: { inAllowedNetwork: false, user: 'bob' },
    from: 'a@shop.example',
    expected: 553,
  },
  { name: 'undeclared domain', client: alice, from: 'a@elsewhere.example', expected: 553 },
  {
    name: 'network client on a network-allowed domain',
    client: network,
    from: 'x@open.example',
    expected: 'open.example',
  },
  { name: 'network client on a users-only domain', client: network, from: 'x@news.example', expected: 553 },
  { name: 'null sender carries no domain', client: network, from: '', expected: undefined },
  { name: 'outsider cannot even start', client: outsider, from: 'x@open.example', expected: 554 },
  { name: 'routing trick in sender', client: network, from: 'a%b@open.example', expected: 501 },
  { name: 'case-insensitive domain', client: network, from: 'x@OPEN.example', expected: 'open.example' },
];

for (const { name, client, from, expected } of senderCases) {
  test(`sender: ${name}`, () => {
    const verdict = checkSender({ ...base, ...senderPolicy }, client, from);
    if (typeof expected === 'number') {
      assert.ok(!verdict.accept);
      assert.equal(verdict.reply.code, expected);
    } else {
      assert.ok(verdict.accept, JSON.stringify(verdict));
      assert.equal(verdict.value, expected);
    }
  });
}

test('without declared sender domains any sender domain is accepted', () => {
  const verdict = checkSender(base, network, 'x@anything.example');
  assert.ok(verdict.accept);
  assert.equal(verdict.value, undefined);
});

test('case 8: SIZE above the limit is refused with 552 5.3.4', () => {
  const cases: [number | undefined, boolean][] = [
    [undefined, true],
    [1_000_000, true],
    [1_000_001, false],
  ];
  for (const [size, accepted] of cases) {
    const verdict = checkDeclaredSize(base, size);
    assert.equal(verdict.accept, accepted);
    if (!verdict.accept) assert.deepEqual([verdict.reply.code, verdict.reply.enhancedCode], [552, '5.3.4']);
  }
});

const teamPolicy: Partial<PolicyConfig> = {
  senderDomains: [
    { domain: 'a.example', serviceAccounts: [{ namespace: 'team-a' }] },
    {
      domain: 'b.example',
      serviceAccounts: [{ namespace: 'team-b' }, { namespace: 'team-a', name: 'billing' }],
    },
    { domain: 'open.example' },
  ],
};
const serviceAccount = (namespace: string, name: string): ClientFacts => ({
  inAllowedNetwork: false,
  user: `system:serviceaccount:${namespace}:${name}`,
});

const serviceAccountCases: { name: string; client: ClientFacts; from: string; expected: string | null }[] = [
  {
    name: 'any account of the own namespace',
    client: serviceAccount('team-a', 'web'),
    from: 'x@a.example',
    expected: 'a.example',
  },
  {
    name: 'another namespace is refused',
    client: serviceAccount('team-b', 'web'),
    from: 'x@a.example',
    expected: null,
  },
  {
    name: 'another namespace granted by name',
    client: serviceAccount('team-a', 'billing'),
    from: 'x@b.example',
    expected: 'b.example',
  },
  {
    name: 'the granting namespace, another name',
    client: serviceAccount('team-a', 'web'),
    from: 'x@b.example',
    expected: null,
  },
  // `users` absent means every password user, never every token.
  {
    name: 'a domain listing no ServiceAccounts',
    client: serviceAccount('team-a', 'web'),
    from: 'x@open.example',
    expected: null,
  },
  {
    name: 'a namespace that merely starts alike',
    client: serviceAccount('team-a2', 'web'),
    from: 'x@a.example',
    expected: null,
  },
  {
    name: 'a malformed identity',
    client: { inAllowedNetwork: false, user: 'system:serviceaccount:team-a' },
    from: 'x@a.example',
    expected: null,
  },
];

for (const { name, client, from, expected } of serviceAccountCases) {
  test(`sender as a ServiceAccount: ${name}`, () => {
    const verdict = checkSender({ ...base, ...teamPolicy }, client, from);
    if (expected === null) {
      assert.ok(!verdict.accept);
      assert.deepEqual(
        [verdict.reply.code, verdict.reply.enhancedCode, verdict.reply.reason],
        [553, '5.7.1', 'sender_service_account'],
      );
    } else {
      assert.ok(verdict.accept, JSON.stringify(verdict));
      assert.equal(verdict.value, expected);
    }
  });
}

const tenantCases: { name: string; user: string | undefined; expected: string | undefined }[] = [
  { name: 'a granted namespace', user: 'system:serviceaccount:team-a:web', expected: 'team-a' },
  {
    name: 'a namespace granted one account by name',
    user: 'system:serviceaccount:team-b:x',
    expected: 'team-b',
  },
  {
    name: 'a namespace no SenderDomain grants',
    user: 'system:serviceaccount:intruder:web',
    expected: 'other',
  },
  { name: 'a password user', user: 'alice', expected: undefined },
  { name: 'no AUTH', user: undefined, expected: undefined },
];

for (const { name, user, expected } of tenantCases) {
  test(`tenant of a message: ${name}`, () => {
    assert.equal(tenantNamespace({ ...base, ...teamPolicy }, user), expected);
  });
}
