// Invalid SmtpRelays and SenderDomains are refused at admission (schema and CEL), each with a
// message that names the offending field. One row: a mutation of a valid example, the field path
// the apiserver must report and a fragment of its message (invalid-cases.ts). Creates are dry runs:
// nothing is stored. The rows of spec.service are in service-validation.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { case36DomainCases, case36RelayCases } from './case-36-rows.ts';
import { assertRejected, type InvalidCase } from './invalid-cases.ts';
import {
  apply,
  parsed,
  readExample,
  request,
  resourcePath,
  temporaryNamespace,
  type Json,
  type StatusBody,
} from './support.ts';

const relayCases: readonly InvalidCase[] = [
  {
    name: 'AUTH required on a listener without TLS',
    example: 'smtprelay-production.yaml',
    change: ['listeners.1.tls', 'None'],
    field: 'spec.listeners[1].tls',
    message: 'a listener offering AUTH must use TLS',
  },
  {
    name: 'AUTH offered (default Required) on a plaintext listener',
    example: 'smtprelay-minimal.yaml',
    change: ['listeners.0.auth', undefined],
    field: 'spec.listeners[0].tls',
    message: 'credentials never travel in plaintext',
  },
  {
    name: 'smarthost mode without a host',
    example: 'smtprelay-production.yaml',
    change: ['delivery.smarthost.host', undefined],
    field: 'spec.delivery.smarthost.host',
    message: 'Required value',
  },
  {
    name: 'smarthost mode without a smarthost',
    example: 'smtprelay-production.yaml',
    change: ['delivery.smarthost', undefined],
    field: 'spec.delivery.smarthost',
    message: 'smarthost (with at least a host) is required when mode is Smarthost',
  },
  {
    name: 'a smarthost in Direct mode',
    example: 'smtprelay-production.yaml',
    change: ['delivery.mode', 'Direct'],
    field: 'spec.delivery.smarthost',
    message: 'only used when mode is Smarthost',
  },
  {
    name: 'smarthost credentials without TLS',
    example: 'smtprelay-production.yaml',
    change: ['delivery.smarthost.tls', 'Opportunistic'],
    field: 'spec.delivery.smarthost.tls',
    message: 'credentials are only sent over TLS',
  },
  {
    name: 'a smarthost host that is not a host name',
    example: 'smtprelay-production.yaml',
    change: ['delivery.smarthost.host', 'smtp://relay.example'],
    field: 'spec.delivery.smarthost.host',
    message: 'should match',
  },
  {
    name: 'duplicate listener ports',
    example: 'smtprelay-production.yaml',
    change: ['listeners.2.port', 587],
    field: 'spec.listeners[2]',
    message: 'Duplicate value',
  },
  {
    name: 'duplicate listener names',
    example: 'smtprelay-production.yaml',
    change: ['listeners.2.name', 'submission'],
    field: 'spec.listeners',
    message: 'listener names must be unique',
  },
  {
    name: 'a port above 65535',
    example: 'smtprelay-production.yaml',
    change: ['listeners.1.port', 70000],
    field: 'spec.listeners[1].port',
    message: 'less than or equal to 65535',
  },
  {
    name: 'port 0',
    example: 'smtprelay-minimal.yaml',
    change: ['listeners.0.port', 0],
    field: 'spec.listeners[0].port',
    message: 'greater than or equal to 1',
  },
  {
    name: 'an unknown listener TLS mode',
    example: 'smtprelay-production.yaml',
    change: ['listeners.0.tls', 'SSL'],
    field: 'spec.listeners[0].tls',
    message: 'Unsupported value: "SSL"',
  },
  {
    name: 'no listener',
    example: 'smtprelay-minimal.yaml',
    change: ['listeners', []],
    field: 'spec.listeners',
    message: 'should have at least 1 items',
  },
  {
    name: 'negative replicas',
    example: 'smtprelay-minimal.yaml',
    change: ['replicas', -1],
    field: 'spec.replicas',
    message: 'greater than or equal to 0',
  },
  {
    name: 'a client network that is not a CIDR',
    example: 'smtprelay-production.yaml',
    change: ['clientNetworks.1', '10.0.0.300/8'],
    field: 'spec.clientNetworks[1]',
    message: 'must be a network in CIDR notation',
  },
  {
    name: 'a client network covering every address (open relay)',
    example: 'smtprelay-minimal.yaml',
    change: ['clientNetworks', ['0.0.0.0/0']],
    field: 'spec.clientNetworks[0]',
    message: 'open relay',
  },
  {
    name: 'a trusted proxy that is not a CIDR',
    example: 'smtprelay-production.yaml',
    change: ['trustedProxies', ['lb.example.com']],
    field: 'spec.trustedProxies[0]',
    message: 'must be a network in CIDR notation',
  },
  {
    name: 'PROXY protocol without trusted proxies',
    example: 'smtprelay-minimal.yaml',
    change: ['listeners.0.proxyProtocol', true],
    field: 'spec.trustedProxies',
    message: 'trustedProxies is required when a listener expects the PROXY protocol',
  },
  {
    name: 'TLS secret and issuer both set',
    example: 'smtprelay-production.yaml',
    change: ['tls.secretRef', { name: 'outbound-tls' }],
    field: 'spec.tls',
    message: 'set exactly one of secretRef or issuerRef',
  },
  {
    name: 'TLS with neither secret nor issuer',
    example: 'smtprelay-production.yaml',
    change: ['tls', { minVersion: 'TLSv1.3' }],
    field: 'spec.tls',
    message: 'set exactly one of secretRef or issuerRef',
  },
  {
    name: 'a STARTTLS listener without a certificate',
    example: 'smtprelay-production.yaml',
    change: ['tls', undefined],
    field: 'spec.tls',
    message: 'tls (secretRef or issuerRef) is required',
  },
  {
    name: 'an AUTH listener without users',
    example: 'smtprelay-production.yaml',
    change: ['auth', undefined],
    field: 'spec.auth',
    message: 'auth (usersSecretRef) or serviceAccountTokens is required',
  },
  {
    name: 'a duration in days',
    example: 'smtprelay-production.yaml',
    change: ['delivery.maxQueueLifetime', '5d'],
    field: 'spec.delivery.maxQueueLifetime',
    message: 'should match',
  },
  {
    name: 'a retry wait of zero',
    example: 'smtprelay-production.yaml',
    change: ['delivery.retrySchedule', ['1m', '0s']],
    field: 'spec.delivery.retrySchedule',
    message: 'every wait must be at least 1s',
  },
  {
    name: 'a delay warning after the queue lifetime',
    example: 'smtprelay-production.yaml',
    change: ['delivery.bounces.delayWarningAfter', '72h'],
    field: 'spec.delivery.bounces.delayWarningAfter',
    message: 'must be shorter than maxQueueLifetime',
  },
  {
    name: 'a message size that is not a quantity',
    example: 'smtprelay-production.yaml',
    change: ['limits.messageSize', '30MB'],
    field: 'spec.limits.messageSize',
    message: 'should match',
  },
  {
    name: 'a negative message size',
    example: 'smtprelay-production.yaml',
    change: ['limits.messageSize', -1],
    field: 'spec.limits.messageSize',
    message: 'greater than or equal to 0',
  },
  {
    name: 'zero recipients per message',
    example: 'smtprelay-production.yaml',
    change: ['limits.recipientsPerMessage', 0],
    field: 'spec.limits.recipientsPerMessage',
    message: 'greater than or equal to 1',
  },
  {
    name: 'a StorageClass for an ephemeral queue',
    example: 'smtprelay-production.yaml',
    change: ['queue.storage', 'Ephemeral'],
    field: 'spec.queue.storageClassName',
    message: 'only used with storage: Persistent',
  },
  {
    name: 'a misspelt field',
    example: 'smtprelay-minimal.yaml',
    change: ['clientNetwork', ['10.244.0.0/16']],
    field: 'spec.clientNetwork',
    message: 'unknown field "spec.clientNetwork"',
    status: 400,
  },
];

const domainCases: readonly InvalidCase[] = [
  {
    name: 'a DNS publishing provider the operator does not know',
    example: 'senderdomain.yaml',
    change: ['dnsPublishing.provider', 'Route53'],
    field: 'spec.dnsPublishing.provider',
    message: 'Unsupported value: "Route53"',
  },
  {
    name: 'an invalid domain name',
    example: 'senderdomain.yaml',
    change: ['domain', 'example..com'],
    field: 'spec.domain',
    message: 'should match',
  },
  {
    name: 'an upper-case domain name',
    example: 'senderdomain.yaml',
    change: ['domain', 'Example.com'],
    field: 'spec.domain',
    message: 'should match',
  },
  {
    name: 'no domain',
    example: 'senderdomain.yaml',
    change: ['domain', undefined],
    field: 'spec.domain',
    message: 'Required value',
  },
  {
    name: 'an unknown DKIM algorithm',
    example: 'senderdomain.yaml',
    change: ['dkim.algorithms', ['RSA2048', 'RSA1024']],
    field: 'spec.dkim.algorithms[1]',
    message: 'Unsupported value: "RSA1024"',
  },
  {
    name: 'a DKIM algorithm listed twice',
    example: 'senderdomain.yaml',
    change: ['dkim.algorithms', ['Ed25519', 'Ed25519']],
    field: 'spec.dkim.algorithms[1]',
    message: 'Duplicate value',
  },
  {
    name: 'a rotation overlap longer than the interval',
    example: 'senderdomain.yaml',
    change: ['dkim.rotation', { interval: '720h', overlap: '1000h' }],
    field: 'spec.dkim.rotation.overlap',
    message: 'overlap must be shorter than interval',
  },
  {
    name: 'a rotation interval under a day',
    example: 'senderdomain.yaml',
    change: ['dkim.rotation', { interval: '12h', overlap: '1h' }],
    field: 'spec.dkim.rotation.interval',
    message: 'interval must be at least 24h',
  },
  {
    name: 'rotation of keys brought in a Secret',
    example: 'senderdomain.yaml',
    change: ['dkim.privateKeySecretRef', { name: 'example-com-dkim' }],
    field: 'spec.dkim.rotation',
    message: 'rotation applies to generated keys only',
  },
  {
    name: 'an invalid DKIM selector',
    example: 'senderdomain.yaml',
    change: ['dkim.selector', 'mf._domainkey'],
    field: 'spec.dkim.selector',
    message: 'should match',
  },
  {
    name: 'a DMARC policy in the wrong case',
    example: 'senderdomain.yaml',
    change: ['dmarc.policy', 'reject'],
    field: 'spec.dmarc.policy',
    message: 'Unsupported value: "reject"',
  },
  {
    name: 'a DMARC percentage above 100',
    example: 'senderdomain.yaml',
    change: ['dmarc.percentage', 101],
    field: 'spec.dmarc.percentage',
    message: 'less than or equal to 100',
  },
  {
    name: 'a DMARC report address that is not an address',
    example: 'senderdomain.yaml',
    change: ['dmarc.reportAddress', 'dmarc-reports'],
    field: 'spec.dmarc.reportAddress',
    message: 'must be a plain address',
  },
  {
    name: 'an SPF mechanism that is not one',
    example: 'senderdomain.yaml',
    change: ['spf.mechanisms', ['include:_spf.example.net', 'all']],
    field: 'spec.spf.mechanisms[1]',
    message: 'should match',
  },
  {
    name: '"*" beside other authorized users',
    example: 'senderdomain.yaml',
    change: ['authorizedUsers', ['*', 'billing-app']],
    field: 'spec.authorizedUsers',
    message: '"*" allows every user and must be the only entry',
  },
  {
    name: 'a DNS check more often than once a minute',
    example: 'senderdomain.yaml',
    change: ['dnsVerification.interval', '10s'],
    field: 'spec.dnsVerification.interval',
    message: 'interval must be at least 1m',
  },
  {
    name: 'a relay name that is not an object name',
    example: 'senderdomain.yaml',
    change: ['relays', ['Internal_Relay']],
    field: 'spec.relays[0]',
    message: 'should match',
  },
];

let namespace: Awaited<ReturnType<typeof temporaryNamespace>>;
before(async () => {
  namespace = await temporaryNamespace('api-validation');
});
after(async () => {
  await namespace.remove();
});

test('the rows cover at least 20 invalid objects of each kind together', () => {
  assert.ok(relayCases.length + domainCases.length >= 20);
});

for (const row of [...relayCases, ...case36RelayCases, ...domainCases, ...case36DomainCases]) {
  test(`rejected: ${row.name} (${row.field})`, () => assertRejected(namespace.name, row));
}

test('the domain of a SenderDomain cannot change', async () => {
  const domain = await readExample('senderdomain.yaml');
  const created = await apply(namespace.name, domain);
  assert.ok(created.status < 300, created.body);
  const spec = domain['spec'] as Json;
  const changed = { ...domain, spec: { ...spec, domain: 'example.org' } };
  const response = await apply(namespace.name, changed);
  assert.equal(response.status, 422, response.body);
  const cause = (parsed(response) as StatusBody).details?.causes?.find((c) => c.field === 'spec.domain');
  assert.match(cause?.message ?? '', /domain is immutable/);
  const unchanged = await request('GET', resourcePath(namespace.name, 'senderdomains', 'example-com'));
  assert.equal(((parsed(unchanged) as Json)['spec'] as Json)['domain'], 'example.com');
});
