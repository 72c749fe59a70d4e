// The contract test: every example, and a table of edge cases, renders a relay config the relay's
// own validator accepts with zero errors; plus what each API field becomes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultTls12Ciphers } from '../../../relay/config/tls-profile.ts';
import type { RelayConfig } from '../../../relay/config/types.ts';
import { validateRelayConfig } from '../../../relay/config/validate.ts';
import { renderRelayConfig } from '../../../operator/render/relay-config.ts';
import { boundDomainsOf, relayExamples, servedRelay } from './fixtures.ts';

const clusterDomain = 'cluster.local';

function render(relay: Parameters<typeof boundDomainsOf>[0]) {
  return renderRelayConfig({ relay, domains: boundDomainsOf(relay), clusterDomain });
}

function assertValid(config: RelayConfig, source: string): void {
  const result = validateRelayConfig(config, source);
  assert.deepEqual(result.ok ? [] : result.errors, [], `${source} is refused by the relay`);
}

for (const { file, relay } of relayExamples) {
  test(`contract: examples/${file}.yaml renders a config the relay accepts`, () => {
    const { config } = render(relay);
    assertValid(config, file);
    // Rendered in full: the relay's validation adds nothing.
    const validated = validateRelayConfig(config, file);
    assert.ok(validated.ok);
    assert.deepEqual(validated.config, config);
  });
}

const table: readonly (readonly [name: string, spec: unknown])[] = [
  ['one plaintext listener', { listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }] }],
  [
    'submission only, no relay listener (no drain peers)',
    {
      listeners: [{ name: 'submission', port: 587 }],
      tls: { secretRef: { name: 'outbound-tls' } },
      auth: { usersSecretRef: { name: 'outbound-smtp-users' } },
    },
  ],
  [
    'PROXY protocol on a high port, ephemeral tiny queue, zero replicas',
    {
      replicas: 0,
      listeners: [{ name: 'smtp', port: 2525, tls: 'None', auth: 'Disabled', proxyProtocol: true }],
      trustedProxies: ['10.0.0.0/24'],
      queue: { storage: 'Ephemeral', size: '64Mi', drainTimeout: '30s' },
    },
  ],
  [
    'smarthost without credentials, opportunistic TLS, rate per client',
    {
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      clientNetworks: ['10.0.0.0/8'],
      delivery: { mode: 'Smarthost', smarthost: { host: 'mail.example.net', tls: 'Opportunistic' } },
      limits: { messageSize: 1048576, ratePerClient: { messages: 30, period: '1m' } },
    },
  ],
  [
    'direct delivery with TLS required, short lifetime',
    {
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      delivery: {
        direct: { tls: 'Required', mtaSts: 'Disabled' },
        maxQueueLifetime: '30s',
        retrySchedule: ['1s'],
        bounces: { delayWarningAfter: '0s' },
      },
    },
  ],
];

for (const [name, spec] of table) {
  test(`contract: ${name}`, () => {
    const { config } = render(servedRelay('table', spec));
    assertValid(config, name);
  });
}

const production = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
const minimal = relayExamples.find(({ file }) => file === 'smtprelay-minimal')?.relay;

test('listeners: container ports and modes from tls/auth; PROXY peers only where asked', () => {
  assert.ok(production);
  const { config } = render(production);
  assert.deepEqual(config.listeners, [
    { name: 'smtp', port: 2525, mode: 'relay' },
    { name: 'submission', port: 5587, mode: 'submission' },
    // auth: Required on 465: nobody relays there without AUTH, clientNetworks or not.
    { name: 'submissions', port: 4465, mode: 'implicit-tls', requireAuth: true },
  ]);
  const proxied = render(
    servedRelay('p', {
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled', proxyProtocol: true }],
      trustedProxies: ['10.0.0.0/24'],
    }),
  ).config;
  assert.deepEqual(
    proxied.listeners.map((listener) => listener.proxyProtocolTrustedPeers),
    [['10.0.0.0/24']],
  );
  // With spec.tls and spec.auth set, a listener can still decline to offer them.
  const declining = render(
    servedRelay('d', {
      listeners: [
        { name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' },
        { name: 'submission', port: 587, tls: 'StartTLS', auth: 'Required' },
      ],
      tls: { secretRef: { name: 'd-tls' } },
      auth: { usersSecretRef: { name: 'd-users' } },
    }),
  ).config;
  assert.deepEqual(declining.listeners, [
    { name: 'smtp', port: 2525, mode: 'relay', offerAuth: false, offerStartTls: false },
    { name: 'submission', port: 5587, mode: 'submission' },
  ]);
  assertValid(declining, 'declining');
});

test('production: TLS, AUTH, networks, limits, rates, smarthost, queue, drain', () => {
  assert.ok(production);
  const { config, unsupported } = render(production);
  assert.equal(config.hostname, 'smtp.example.com');
  assert.deepEqual(config.tls, {
    certificates: [{ certFile: '/etc/mailfleet/tls/tls.crt', keyFile: '/etc/mailfleet/tls/tls.key' }],
    minVersion: 'TLSv1.2',
    ciphers: defaultTls12Ciphers,
  });
  assert.ok(config.auth);
  assert.equal(config.auth.usersFile, '/etc/mailfleet/users/users');
  assert.equal(config.auth.maxFailuresPerConnection, 3);
  assert.deepEqual(config.policy.allowedNetworks, ['10.244.0.0/16', 'fd00:10:244::/56']);
  assert.equal(config.policy.maxMessageBytes, 30 * 1024 * 1024);
  assert.equal(config.policy.maxRecipients, 500);
  assert.equal(config.limits.maxConnectionsPerIp, 50);
  assert.equal(config.limits.drainTimeoutSeconds, 600);
  assert.deepEqual(config.policy.rateLimits, {
    perUser: { perMinute: 2000 / 60, burst: 2000 },
    perSenderDomain: { perMinute: 50000 / 1440, burst: 50000 },
  });
  assert.deepEqual(config.delivery.smarthost, {
    host: 'smtp.mailprovider.example',
    port: 587,
    tls: 'required',
    credentialsFile: '/etc/mailfleet/secrets/smarthost-credentials',
  });
  assert.equal(config.delivery.mode, 'smarthost');
  assert.equal(config.delivery.retryInitialSeconds, 60);
  assert.equal(config.delivery.retryMaxSeconds, 4 * 3600);
  assert.equal(config.queue.maxLifetimeSeconds, 72 * 3600);
  assert.equal(config.queue.dir, '/var/spool/mailfleet');
  assert.deepEqual(config.delivery.drainPeers, [
    'outbound-0.outbound-peers.mail.svc.cluster.local:2525',
    'outbound-1.outbound-peers.mail.svc.cluster.local:2525',
    'outbound-2.outbound-peers.mail.svc.cluster.local:2525',
  ]);
  assert.deepEqual(unsupported, []);
});

test('sender domains: users from authorizedUsers, DKIM keys under the relay-owned Secret', () => {
  assert.ok(production && minimal);
  assert.deepEqual(render(production).config.policy.senderDomains, [
    {
      domain: 'example.com',
      users: ['billing-app', 'newsletter'],
      allowNetworks: true,
      dkim: [
        {
          selector: 'mf-1-rsa',
          algorithm: 'rsa-sha256',
          privateKeyFile: '/etc/mailfleet/secrets/example.com.mf-1-rsa.rsa.pem',
        },
        {
          selector: 'mf-1-ed25519',
          algorithm: 'ed25519-sha256',
          privateKeyFile: '/etc/mailfleet/secrets/example.com.mf-1-ed25519.ed25519.pem',
        },
      ],
    },
  ]);
  // The minimal relay has no AUTH: users are moot, and `*` never becomes a list.
  const internal = render(minimal).config.policy.senderDomains;
  assert.deepEqual(
    internal.map((entry) => [entry.domain, entry.users]),
    [['example.com', undefined]],
  );
  assert.equal(minimal.spec.auth, undefined);
});

test('authorizedUsers: `*` is every user, empty is nobody', () => {
  const relay = servedRelay('outbound', {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'outbound-tls' } },
    auth: { usersSecretRef: { name: 'outbound-smtp-users' } },
  });
  const domain = (name: string, authorizedUsers: string[]) => ({
    senderDomain: {
      apiVersion: 'mailfleet.dev/v1alpha1' as const,
      kind: 'SenderDomain' as const,
      metadata: { name, namespace: 'mail' },
      spec: { domain: `${name}.example`, relays: ['outbound'], authorizedUsers } as never,
    },
    keys: [],
  });
  const { config } = renderRelayConfig({
    relay,
    domains: [domain('all', ['*']), domain('none', []), domain('some', ['a'])],
    clusterDomain,
  });
  assert.deepEqual(
    config.policy.senderDomains.map((entry) => [entry.domain, entry.users]),
    [
      ['all.example', undefined],
      ['none.example', []],
      ['some.example', ['a']],
    ],
  );
  assertValid(config, 'authorizedUsers');
});

test('settings the relay honours are rendered; what it cannot is reported, naming the field', () => {
  const { unsupported, config } = render(
    servedRelay('odd', {
      listeners: [{ name: 'smtp', port: 25, tls: 'StartTLS', auth: 'Optional', requireTls: true }],
      tls: {
        secretRef: { name: 'outbound-tls' },
        minVersion: 'TLSv1.3',
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      },
      auth: { usersSecretRef: { name: 'outbound-smtp-users' } },
      delivery: {
        mode: 'Smarthost',
        smarthost: { host: 'smtp.example.net', port: 465, tls: 'Implicit', verifyCertificate: false },
        maxQueueLifetime: '30s',
        bounces: { enabled: false, delayWarningAfter: '0s', from: 'postmaster@example.com' },
      },
    }),
  );
  const fields = [/^spec\.delivery\.maxQueueLifetime: 30s/];
  assert.equal(unsupported.length, fields.length, unsupported.join('\n'));
  fields.forEach((field, index) => {
    assert.match(unsupported[index] ?? '', field);
  });
  assert.equal(config.queue.maxLifetimeSeconds, 60);
  assert.equal(config.listeners[0]?.requireTls, true, 'requireTls is the relay listener setting');
  assert.equal(config.tls?.minVersion, 'TLSv1.3');
  assert.equal(config.tls.ciphers, 'ECDHE-ECDSA-AES256-GCM-SHA384', 'spec.tls.ciphers (case 33)');
  assert.deepEqual(config.delivery.smarthost, {
    host: 'smtp.example.net',
    port: 465,
    tls: 'implicit',
    verifyCertificate: false,
  });
  assert.deepEqual(
    [config.queue.sendReports, config.queue.reportsFrom, config.queue.delayWarningSeconds],
    [false, 'postmaster@example.com', 0],
  );
  assertValid(config, 'odd');
});

test('a small queue volume lowers the free-space floor so the relay can accept mail at all', () => {
  const { config } = render(
    servedRelay('small', {
      listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
      queue: { storage: 'Ephemeral', size: '100Mi' },
    }),
  );
  assert.equal(config.queue.minFreeBytes, 25 * 1024 * 1024);
  assert.equal(render(minimal ?? servedRelay('x', {})).config.queue.minFreeBytes, 256 * 1024 * 1024);
});

test('listener ports that meet inside the pod are errors naming both fields', () => {
  const plaintext = { tls: 'None', auth: 'Disabled' };
  const { errors } = render(
    servedRelay('ports', {
      listeners: [
        { name: 'smtp', port: 25, ...plaintext },
        { name: 'alt', port: 2525, ...plaintext },
        { name: 'metrics', port: 9090, ...plaintext },
        { name: 'admin', port: 8026, ...plaintext },
      ],
    }),
  );
  assert.deepEqual(errors, [
    'spec.listeners[1].port: 2525 needs container port 2525, as does spec.listeners[0].port 25 (ports below 1024 move up: 25→2525, 587→5587, 465→4465, others +10000); choose another port',
    "spec.listeners[2].port: 9090 needs container port 9090, which is the relay's HTTP port (metrics and probes); choose another port",
    "spec.listeners[3].port: 8026 needs container port 8026, which is the relay's queue admin port; choose another port",
  ]);
  assert.ok(production);
  assert.deepEqual(render(production).errors, []);
});
