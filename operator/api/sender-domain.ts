// SenderDomain: a domain that may send through one or more SmtpRelays, with its DKIM keys and the
// SPF and DMARC records the operator asks you to publish. The schema is the single source of the
// CRD, the TypeScript types and the field reference.
import {
  celString,
  conditions,
  domainNamePattern,
  duration,
  isDurationCel,
  objectName,
  observedGeneration,
  secretKey,
} from './common.ts';
import { boolean, integer, list, object, oneOf, string, type Schema } from './schema.ts';

const dkimAlgorithms = ['RSA2048', 'Ed25519'] as const;

const rotation = object(
  'DkimRotation',
  'Rotation of generated keys: a new key (and selector) every `interval`; the old key stays published for `overlap` after the switch so mail in flight still verifies.',
  {
    interval: duration('How long a key signs before the next one takes over; at least 24h.', '2160h'),
    overlap: duration(
      'How long the next key is published before it signs, and the old one after; shorter than interval.',
      '168h',
    ),
  },
  {
    rules: [
      {
        rule: `!(${isDurationCel('self.interval')} && ${isDurationCel('self.overlap')}) || duration(self.overlap) < duration(self.interval)`,
        message: 'overlap must be shorter than interval',
        fieldPath: '.overlap',
      },
      {
        rule: `!${isDurationCel('self.interval')} || duration(self.interval) >= duration('24h')`,
        message: 'interval must be at least 24h',
        fieldPath: '.interval',
      },
    ],
  },
);

const dkim = object(
  'Dkim',
  'DKIM signing of the mail sent for this domain.',
  {
    enabled: boolean('Sign outgoing mail with DKIM.', true),
    selector: string(
      'The DKIM selector (`<selector>._domainkey.<domain>`). With rotation it is the prefix of the selectors, which get a numbered suffix (`mf-1`, `mf-2`, …). With both algorithms each key signs under a selector of its own: `<selector>-rsa` and `<selector>-ed25519`.',
      { maxLength: 40, minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', default: 'mailfleet' },
    ),
    algorithms: list(
      'The key types to sign with; each message gets one signature per algorithm.',
      oneOf('`RSA2048` (rsa-sha256, 2048-bit) or `Ed25519` (ed25519-sha256, RFC 8463).', dkimAlgorithms),
      { maxItems: 2, minItems: 1, listType: 'set', default: ['RSA2048'] },
    ),
    privateKeySecretRef: object(
      'DkimKeySecretReference',
      'Bring your own keys: a Secret with one PEM private key per algorithm. When absent, the operator generates the keys.',
      {
        name: objectName('The Secret name.'),
        rsaKey: secretKey('The key holding the PEM RSA private key (2048 bits).', 'rsa.pem'),
        ed25519Key: secretKey('The key holding the PEM Ed25519 private key.', 'ed25519.pem'),
      },
      { required: ['name'] },
    ),
    rotation,
  },
  {
    default: {},
    rules: [
      {
        rule: '!has(self.privateKeySecretRef) || !has(self.rotation)',
        message: 'rotation applies to generated keys only; rotate keys you bring by updating the Secret',
        fieldPath: '.rotation',
      },
    ],
  },
);

const spfMechanism = string(
  'An SPF mechanism naming a permitted sender, such as `include:_spf.example.net`, `ip4:203.0.113.0/24`, `ip6:2001:db8::/32`, `a` or `mx`.',
  {
    maxLength: 255,
    pattern: '^[+?~-]?(a|mx|ptr|(a|mx|include|exists|ptr):[^\\s"\\\\;]+|ip4:[0-9./]+|ip6:[0-9a-fA-F:./]+)$',
  },
);

const spf = object(
  'Spf',
  'The SPF record listed in status.dnsRecords (published by you, or through external-dns with spec.dnsPublishing).',
  {
    enabled: boolean('Publish an SPF record for the domain (listed in status.dnsRecords).', true),
    mechanisms: list('The senders the record permits, in order.', spfMechanism, {
      maxItems: 16,
      listType: 'atomic',
    }),
    all: oneOf(
      'What the record says of every other sender: `Fail` (-all), `SoftFail` (~all) or `Neutral` (?all).',
      ['Fail', 'SoftFail', 'Neutral'],
      { default: 'SoftFail' },
    ),
  },
  { default: {} },
);

const dmarcPolicies = ['None', 'Quarantine', 'Reject'];

const dmarc = object(
  'Dmarc',
  'The DMARC record the operator asks you to publish.',
  {
    enabled: boolean('Publish a DMARC record (`_dmarc.<domain>`, listed in status.dnsRecords).', true),
    policy: oneOf(
      'What receivers do with mail failing DMARC: `None`, `Quarantine` or `Reject`.',
      dmarcPolicies,
      {
        default: 'None',
      },
    ),
    subdomainPolicy: oneOf('The policy for subdomains (sp=); the domain policy when absent.', dmarcPolicies),
    percentage: integer('The percentage of failing mail the policy applies to (pct=).', {
      minimum: 0,
      maximum: 100,
      default: 100,
    }),
    alignment: oneOf('DKIM and SPF identifier alignment (adkim=, aspf=).', ['Relaxed', 'Strict'], {
      default: 'Relaxed',
    }),
    reportAddress: string(
      'Where receivers send aggregate reports (rua=mailto:). A plain address: no `;`, `,`, `!` or spaces, which would add tags or URIs to the published record.',
      {
        maxLength: 254,
        rules: [
          {
            rule: `self.matches(${celString(`^[A-Za-z0-9._%+=-]+@${domainNamePattern.slice(1, -1)}$`)})`,
            message:
              'must be a plain address (letters, digits and . _ % + = - before @, a lower-case domain after): ";", ",", "!" or spaces would add tags or URIs to the published DMARC record',
          },
        ],
      },
    ),
  },
  { default: {} },
);

const dnsVerification = object(
  'DnsVerification',
  'Whether the operator checks that the records in status.dnsRecords are published, and how often.',
  {
    enabled: boolean(
      'Check the records; while they are not published, DnsVerified is False and the domain is not Ready.',
      true,
    ),
    interval: duration('How often the records are checked; at least 1m.', '1h'),
  },
  {
    default: {},
    rules: [
      {
        rule: `!${isDurationCel('self.interval')} || duration(self.interval) >= duration('1m')`,
        message: 'interval must be at least 1m',
        fieldPath: '.interval',
      },
    ],
  },
);

const dnsPublishing = object('DnsPublishing', 'How the records in status.dnsRecords reach DNS.', {
  provider: oneOf(
    '`ExternalDNS`: the operator keeps an external-dns DNSEndpoint (externaldns.k8s.io/v1alpha1, named `<name>-dns`) holding exactly the records in status.dnsRecords, and a key rotation switches signing only once DNS verification sees the next selector; `Manual`: you publish the records. When absent, the operator’s `--dns-publishing` default (the chart’s `operator.dnsPublishing`).',
    ['ExternalDNS', 'Manual'],
  ),
});

export const senderDomainSpec: Schema = object(
  'SenderDomainSpec',
  'A domain that may send through mailfleet relays.',
  {
    domain: string('The domain name, lower case (e.g. `example.com`). Immutable.', {
      maxLength: 253,
      minLength: 3,
      pattern: domainNamePattern,
      rules: [{ rule: 'self == oldSelf', message: 'domain is immutable; create another SenderDomain' }],
    }),
    relays: list(
      'Names of the SmtpRelays (in this namespace) that may send for the domain. Relays with a senderDomainSelector select SenderDomains by label instead.',
      objectName('An SmtpRelay name.'),
      { maxItems: 16, listType: 'set' },
    ),
    relayRefs: list(
      'SmtpRelays of any namespace that may send for the domain. A relay of another namespace accepts the domain only if its `allowedSenderDomains` allows this namespace; `status.relayBindings` says whether it did.',
      object(
        'SmtpRelayReference',
        'One SmtpRelay.',
        {
          name: objectName('The SmtpRelay name.'),
          namespace: string('Its namespace; this SenderDomain’s when absent.', {
            maxLength: 63,
            minLength: 1,
            pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
          }),
        },
        { required: ['name'] },
      ),
      { maxItems: 16 },
    ),
    authorizedUsers: list(
      'The SMTP AUTH users who may use the domain in the envelope sender and From: address. `*` alone allows every authenticated user; empty allows none (only clients from clientNetworks).',
      string('A user name from the relay users Secret, or `*`.', {
        maxLength: 256,
        minLength: 1,
        rules: [
          {
            rule: `self == '*' || (self.matches(${celString('^[^\\s:]+$')}) && !self.startsWith('#'))`,
            message:
              'a user name never holds ":" or spaces and never starts with "#" (the users file is `username:hash` lines, "#" starts a comment), so this user could never exist',
          },
        ],
      }),
      {
        maxItems: 256,
        listType: 'set',
        rules: [
          {
            rule: "!self.exists(u, u == '*') || size(self) == 1",
            message: '"*" allows every user and must be the only entry',
          },
        ],
      },
    ),
    serviceAccounts: list(
      'The ServiceAccounts whose tokens may send as the domain (SMTP AUTH with a projected token, on relays with `spec.serviceAccountTokens`). When absent, every ServiceAccount of this namespace; empty allows none. One of another namespace only by name: a SenderDomain is never opened to a whole other namespace.',
      object(
        'ServiceAccountGrant',
        'A ServiceAccount allowed to send as the domain.',
        {
          name: objectName('The ServiceAccount name.'),
          namespace: string('Its namespace; this SenderDomain’s when absent.', {
            maxLength: 63,
            minLength: 1,
            pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
          }),
        },
        { required: ['name'] },
      ),
      { maxItems: 256 },
    ),
    dkim,
    spf,
    dmarc,
    dnsVerification,
    dnsPublishing,
  },
  { required: ['domain'] },
);

const dnsRecord = object(
  'DnsRecord',
  'A DNS record to publish for the domain.',
  {
    purpose: oneOf('What the record is for.', ['DKIM', 'SPF', 'DMARC']),
    type: oneOf('The record type.', ['TXT', 'CNAME']),
    name: string('The fully qualified record name.', { maxLength: 253 }),
    value: string('The exact record value (TXT strings joined).', { maxLength: 4096 }),
    verified: boolean('Whether the last check found exactly this record published.'),
    lastChecked: string('When the record was last checked (RFC 3339).', {
      maxLength: 64,
      format: 'date-time',
    }),
  },
  { required: ['purpose', 'type', 'name', 'value'] },
);

export const senderDomainStatus: Schema = object('SenderDomainStatus', 'The observed state of the domain.', {
  conditions: conditions(
    '`Ready`: mail for the domain is signed and sent; `DkimKeyReady`: the keys exist and are mounted in the relays; `DnsVerified`: every record in dnsRecords is published; `DnsPublished` (with the ExternalDNS provider): the DNSEndpoint holds the records.',
  ),
  observedGeneration: observedGeneration(),
  dnsRecords: list('The exact records to publish.', dnsRecord, { maxItems: 16, listType: 'atomic' }),
  dkim: object('DkimStatus', 'The DKIM selectors in use.', {
    activeSelector: string('The selector that signs now.', { maxLength: 63 }),
    nextSelector: string('The selector that will sign after the next rotation, already published.', {
      maxLength: 63,
    }),
    nextRotation: string('When the next selector takes over (RFC 3339).', {
      maxLength: 64,
      format: 'date-time',
    }),
  }),
  relays: list(
    'The SmtpRelays currently sending for the domain: a name for one of this namespace, `namespace/name` for one of another.',
    string('An SmtpRelay.', { maxLength: 317 }),
    { maxItems: 16, listType: 'atomic' },
  ),
  relayBindings: list(
    'Each SmtpRelay the domain names or whose senderDomainSelector matches it, and whether it accepted the domain.',
    object(
      'RelayBinding',
      'One relay and its answer.',
      {
        namespace: string('The SmtpRelay namespace.', { maxLength: 63 }),
        name: string('The SmtpRelay name.', { maxLength: 253 }),
        accepted: boolean('Whether the relay sends for the domain.'),
        reason: oneOf(
          '`Accepted`; `RelayNotFound`: no such SmtpRelay; `NotAllowedByNamespaces`: its allowedSenderDomains does not allow this namespace; `NotSelected`: it selects SenderDomains by label and this one does not match; `DomainConflict`: it already sends for another SenderDomain of the same domain.',
          ['Accepted', 'RelayNotFound', 'NotAllowedByNamespaces', 'NotSelected', 'DomainConflict'],
        ),
        message: string('Why, in words.', { maxLength: 1024 }),
      },
      { required: ['namespace', 'name', 'accepted', 'reason'] },
    ),
    { maxItems: 32, listType: 'atomic' },
  ),
});
