import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRelayConfig, validateRelayConfig } from '../../../relay/config/validate.ts';

const minimal = { hostname: 'relay.example.com', listeners: [{ name: 'smtp', port: 25, mode: 'relay' }] };
const withTls = {
  ...minimal,
  tls: { certificates: [{ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' }] },
};

test('a minimal config is valid, gets every default and is frozen', () => {
  const result = validateRelayConfig(minimal, 'relay.yaml');
  assert.ok(result.ok);
  assert.equal(result.config.policy.maxRecipients, 1000);
  assert.equal(result.config.policy.bareLineEndings, 'reject');
  assert.equal(result.config.policy.pipelining, 'strict');
  assert.equal(result.config.limits.greetingDelayMs, 100);
  assert.equal(result.config.delivery.mode, 'mx');
  assert.equal(result.config.queue.dir, '/var/spool/mailfleet');
  assert.ok(Object.isFrozen(result.config.policy.allowedNetworks));
  assert.throws(() => {
    (result.config.policy.allowedNetworks as string[]).push('0.0.0.0/0');
  });
});

test('YAML and JSON both parse', () => {
  assert.ok(parseRelayConfig(JSON.stringify(minimal), 'relay.json').ok);
  assert.ok(
    parseRelayConfig(
      'hostname: relay.example.com\nlisteners:\n  - {name: smtp, port: 25, mode: relay}\n',
      'r',
    ).ok,
  );
  const broken = parseRelayConfig('hostname: [', 'relay.yaml');
  assert.ok(!broken.ok);
  assert.match(broken.errors[0] ?? '', /^relay\.yaml: not valid YAML or JSON/);
});

const invalid: { name: string; config: unknown; expected: RegExp[] }[] = [
  {
    name: 'every schema error is listed with path, value and what is allowed',
    config: { hostname: '-bad', listeners: [{ name: 'smtp', port: 70000, mode: 'open', extra: true }] },
    expected: [
      /\/hostname: must be a DNS hostname.*got "-bad"/,
      /\/listeners\/0\/port: must be <= 65535.*got 70000/,
      /\/listeners\/0\/mode: .*\["relay","submission","implicit-tls"\].*got "open"/,
      /\/listeners\/0: .*unknown field "extra"/,
    ],
  },
  {
    name: 'a sender domain is listed once (the policy acts on the first entry: a second is dead or a takeover)',
    config: {
      ...minimal,
      policy: {
        senderDomains: [{ domain: 'corp.example' }, { domain: 'other.example' }, { domain: 'Corp.Example' }],
      },
    },
    expected: [/\/policy\/senderDomains\/2\/domain: "Corp\.Example" is already \/policy\/senderDomains\/0/],
  },
  {
    name: 'networks must be addresses or CIDRs',
    config: { ...minimal, policy: { allowedNetworks: ['10.0.0.0/8', 'everyone'] } },
    expected: [
      /\/policy\/allowedNetworks\/1: must be an IPv4 or IPv6 address or CIDR network; got "everyone"/,
    ],
  },
  {
    name: 'secrets are file paths, absolute',
    config: { ...withTls, auth: { usersFile: 'users.txt' } },
    expected: [/\/auth\/usersFile: must be an absolute path.*got "users.txt"/],
  },
  {
    name: 'duplicate ports',
    config: { ...minimal, listeners: [minimal.listeners[0], { name: 'other', port: 25, mode: 'relay' }] },
    expected: [/\/listeners\/1\/port: 25 is already used by \/listeners\/0/],
  },
  {
    name: 'submission needs TLS and AUTH',
    config: { ...minimal, listeners: [{ name: 'sub', port: 587, mode: 'submission' }] },
    expected: [
      /\/listeners\/0\/mode: "submission" needs \/tls/,
      /\/listeners\/0\/mode: "submission" requires AUTH/,
    ],
  },
  {
    name: 'listener offer settings that would refuse every MAIL',
    config: {
      ...withTls,
      auth: { usersFile: '/secrets/users' },
      listeners: [
        { name: 'a', port: 25, mode: 'relay', requireTls: true, offerStartTls: false },
        { name: 'b', port: 587, mode: 'submission', offerAuth: false },
        { name: 'c', port: 588, mode: 'submission', offerStartTls: false },
      ],
    },
    expected: [
      /\/listeners\/0\/requireTls: true with offerStartTls false refuses every MAIL/,
      /\/listeners\/1\/offerAuth: false on a listener that requires AUTH \(mode "submission"\)/,
      /\/listeners\/2\/offerStartTls: false on a "submission" listener/,
    ],
  },
  {
    name: 'requireTls without a certificate',
    config: { ...minimal, listeners: [{ name: 'smtp', port: 25, mode: 'relay', requireTls: true }] },
    expected: [/\/listeners\/0\/requireTls: true needs \/tls/],
  },
  {
    name: 'AUTH without TLS',
    config: { ...minimal, auth: { usersFile: '/secrets/users' } },
    expected: [/\/auth: AUTH is only offered over TLS/],
  },
  ...(['opportunistic', 'none'] as const).map((tls) => ({
    name: `case 28: smarthost credentials with tls ${tls}, which can end in plaintext`,
    config: {
      ...minimal,
      delivery: {
        mode: 'smarthost',
        smarthost: { host: 'smtp.example.net', port: 587, tls, credentialsFile: '/secrets/smarthost' },
      },
    },
    expected: [
      new RegExp(
        `^relay\\.yaml: /delivery/smarthost/credentialsFile: credentials are only sent inside TLS, but /delivery/smarthost/tls "${tls}" can end in plaintext; use tls "required" or "implicit"`,
      ),
    ],
  })),
  {
    name: 'case 31: every connection slot reserved for policy.allowedNetworks',
    config: { ...minimal, limits: { maxConnections: 20, reservedConnectionsForAllowedNetworks: 20 } },
    expected: [
      /\/limits\/reservedConnectionsForAllowedNetworks: 20 leaves no slot of \/limits\/maxConnections \(20\)/,
    ],
  },
  {
    name: 'missing required fields',
    config: {},
    expected: [
      /\(root\): must have required property 'hostname'/,
      /\(root\): must have required property 'listeners'/,
    ],
  },
];

for (const { name, config, expected } of invalid) {
  test(`invalid: ${name}`, () => {
    const result = validateRelayConfig(config, 'relay.yaml');
    assert.ok(!result.ok, 'expected the config to be refused');
    for (const pattern of expected) {
      assert.ok(
        result.errors.some((error) => pattern.test(error)),
        `no error matches ${pattern}:\n${result.errors.join('\n')}`,
      );
    }
    for (const error of result.errors) assert.match(error, /^relay\.yaml: /);
  });
}

test('the input document is not mutated by defaults', () => {
  const input = structuredClone(minimal);
  validateRelayConfig(input, 'relay.yaml');
  assert.deepEqual(input, minimal);
});
