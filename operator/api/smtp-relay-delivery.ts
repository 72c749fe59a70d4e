// SmtpRelay delivery: a smarthost or direct MX delivery, the retry schedule, queue lifetime and
// bounces. Part of the SmtpRelay schema (smtp-relay.ts).
import { duration, emailAddress, hostPattern, isDurationCel, objectName, port, secretKey } from './common.ts';
import { boolean, list, object, oneOf, string } from './schema.ts';

const smarthost = object(
  'Smarthost',
  'The next hop every message is handed to.',
  {
    host: string('The smarthost host name or IPv4 address.', {
      maxLength: 253,
      minLength: 1,
      pattern: hostPattern,
    }),
    port: port('The smarthost port.', 587),
    tls: oneOf(
      '`StartTLS`: STARTTLS is required, a failed handshake defers the message; `Implicit`: TLS from the first byte (port 465); `Opportunistic`: STARTTLS when offered, else plaintext; `None`: plaintext.',
      ['StartTLS', 'Implicit', 'Opportunistic', 'None'],
      { default: 'StartTLS' },
    ),
    verifyCertificate: boolean(
      "Verify the smarthost's certificate against the system trust store and `host`.",
      true,
    ),
    credentialsSecretRef: object(
      'CredentialsSecretReference',
      'A Secret holding the user name and password the relay authenticates with.',
      {
        name: objectName('The Secret name.'),
        usernameKey: secretKey('The key holding the user name.', 'username'),
        passwordKey: secretKey('The key holding the password.', 'password'),
      },
      { required: ['name'] },
    ),
  },
  {
    required: ['host'],
    rules: [
      {
        rule: "!has(self.credentialsSecretRef) || self.tls == 'StartTLS' || self.tls == 'Implicit'",
        message:
          'credentials are only sent over TLS: with credentialsSecretRef, tls must be StartTLS or Implicit',
        fieldPath: '.tls',
      },
    ],
  },
);

const direct = object(
  'DirectDelivery',
  'Delivery straight to the MX hosts of each recipient domain (used when mode is Direct).',
  {
    tls: oneOf(
      '`Opportunistic`: STARTTLS when the MX offers it; `Required`: defer rather than send in plaintext.',
      ['Opportunistic', 'Required'],
      { default: 'Opportunistic' },
    ),
    mtaSts: oneOf(
      '`Enforce`: honour published MTA-STS policies (RFC 8461), never downgrading an enforced domain; `Disabled`: ignore them.',
      ['Enforce', 'Disabled'],
      { default: 'Enforce' },
    ),
    allowPrivateDestinations: boolean(
      'Allow MX hosts that resolve to loopback, link-local, private or metadata addresses. Off, such deliveries fail permanently (SSRF guard).',
      false,
    ),
  },
  { default: {} },
);

const durationRule = (field: string) => isDurationCel(`self.${field}`);

export const delivery = object(
  'Delivery',
  'How accepted messages reach their destination, how long and how often the relay retries, and bounces.',
  {
    mode: oneOf('`Direct` to the MX hosts, or everything through one `Smarthost`.', ['Direct', 'Smarthost'], {
      default: 'Direct',
    }),
    smarthost,
    direct,
    retrySchedule: list(
      'The waits between delivery attempts after a temporary failure; the last one repeats until `maxQueueLifetime`.',
      duration('A wait between attempts.'),
      {
        maxItems: 20,
        minItems: 1,
        default: ['5m', '10m', '30m', '1h', '2h', '4h'],
        listType: 'atomic',
        rules: [
          {
            rule: `self.all(wait, !${isDurationCel('wait')} || duration(wait) >= duration('1s'))`,
            message: 'every wait must be at least 1s',
          },
        ],
      },
    ),
    maxQueueLifetime: duration(
      'How long a message may stay queued before it bounces (or is dropped, without bounces).',
      '120h',
    ),
    bounces: object(
      'Bounces',
      'Delivery status notifications (RFC 3464) to the envelope sender.',
      {
        enabled: boolean('Send a non-delivery report when a message fails permanently or expires.', true),
        delayWarningAfter: duration(
          'Send one delay warning when a message is still queued after this long; `0s` sends none.',
          '4h',
        ),
        from: emailAddress('The From address of reports; the envelope sender is always empty (`<>`).'),
      },
      { default: {} },
    ),
  },
  {
    default: {},
    rules: [
      {
        rule: "self.mode != 'Smarthost' || has(self.smarthost)",
        message: 'smarthost (with at least a host) is required when mode is Smarthost',
        fieldPath: '.smarthost',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.mode == 'Smarthost' || !has(self.smarthost)",
        message: 'smarthost is only used when mode is Smarthost',
        fieldPath: '.smarthost',
      },
      {
        rule: `!(${durationRule('maxQueueLifetime')} && ${durationRule('bounces.delayWarningAfter')}) || duration(self.bounces.delayWarningAfter) < duration(self.maxQueueLifetime)`,
        message: 'bounces.delayWarningAfter must be shorter than maxQueueLifetime',
        fieldPath: '.bounces.delayWarningAfter',
      },
    ],
  },
);
