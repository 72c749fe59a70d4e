// SmtpRelay: one SMTP relay fleet. The schema below is the single source of the CRD, the TypeScript
// types and the field reference. Safe by default: no client network relays without AUTH, AUTH
// needs TLS, and every listener requires AUTH unless told otherwise.
import {
  byteSize,
  cidrList,
  conditions,
  hostPattern,
  labelSelector,
  objectName,
  observedGeneration,
  port,
  quantityCel,
  rateLimit,
  secretKey,
} from './common.ts';
import { boolean, integer, list, object, oneOf, string, type Schema } from './schema.ts';
import { defaultTls12Ciphers, tls12CipherListPattern } from '../../relay/config/tls-profile.ts';
import { delivery } from './smtp-relay-delivery.ts';
import { service } from './smtp-relay-service.ts';
import { monitoring, networkPolicy, pod, queue } from './smtp-relay-workload.ts';

/** The relay's default queue.minFreeBytes (relay/config/queue-schema.ts), the most it keeps free. */
const relayMinFreeBytes = 268_435_456;

const listener = object(
  'SmtpListener',
  'One port the relay accepts SMTP on. Port 25 (relay), 587 (submission with STARTTLS and AUTH) and 465 (implicit TLS) are the usual ones; any port is allowed.',
  {
    name: string(
      'The name of the port on the relay Service (an IANA service name, e.g. `smtp`, `submission`).',
      {
        maxLength: 15,
        minLength: 1,
        pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
      },
    ),
    port: port(
      'The TCP port clients connect to on the relay Service (the operator picks the port inside the pod). Unique among the listeners.',
    ),
    tls: oneOf(
      '`StartTLS` offers STARTTLS on a plaintext connection; `Implicit` speaks TLS from the first byte (port 465); `None` never offers TLS. Any value but `None` needs `spec.tls`.',
      ['StartTLS', 'Implicit', 'None'],
      { default: 'StartTLS' },
    ),
    requireTls: boolean(
      'With `tls: StartTLS`, refuse MAIL until the client has started TLS. Implied by `auth: Required`.',
      false,
    ),
    auth: oneOf(
      '`Required`: every client must authenticate (submission). `Optional`: AUTH is offered, and clients in `spec.clientNetworks` may relay without it. `Disabled`: AUTH is not offered. AUTH is only ever offered inside TLS, so anything but `Disabled` needs `tls` other than `None`, and `spec.auth`.',
      ['Required', 'Optional', 'Disabled'],
      { default: 'Required' },
    ),
    proxyProtocol: boolean(
      'Expect a PROXY protocol (v1 or v2) header from the peers in `spec.trustedProxies`; connections from other peers are refused.',
      false,
    ),
  },
  {
    required: ['name', 'port'],
    rules: [
      {
        rule: "self.auth == 'Disabled' || self.tls != 'None'",
        message:
          'a listener offering AUTH must use TLS (tls: StartTLS or Implicit): credentials never travel in plaintext',
        fieldPath: '.tls',
      },
      {
        rule: "!self.requireTls || self.tls != 'None'",
        message: 'requireTls needs tls: StartTLS or Implicit',
        fieldPath: '.requireTls',
      },
    ],
  },
);

const tls = object(
  'SmtpRelayTls',
  'The certificate the listeners present. Set exactly one of `secretRef` (a certificate you manage) and `issuerRef` (cert-manager issues and renews it).',
  {
    secretRef: object(
      'TlsSecretReference',
      'A Secret in the relay namespace holding a PEM certificate chain and its private key.',
      {
        name: objectName('The Secret name.'),
        certificateKey: secretKey('The key holding the PEM certificate chain.', 'tls.crt'),
        privateKeyKey: secretKey('The key holding the PEM private key.', 'tls.key'),
      },
      { required: ['name'] },
    ),
    issuerRef: object(
      'IssuerReference',
      'A cert-manager issuer; the operator creates a Certificate for `dnsNames` and mounts the Secret it fills.',
      {
        name: objectName('The issuer name.'),
        kind: oneOf('`Issuer` (in the relay namespace) or `ClusterIssuer`.', ['Issuer', 'ClusterIssuer'], {
          default: 'Issuer',
        }),
        group: string('The API group of the issuer.', { maxLength: 253, default: 'cert-manager.io' }),
      },
      { required: ['name'] },
    ),
    dnsNames: list(
      'Names the certificate is issued for (with `issuerRef`). When empty, the relay Service DNS names are used.',
      string('A DNS name.', { maxLength: 253, pattern: hostPattern }),
      { maxItems: 32, listType: 'set' },
    ),
    minVersion: oneOf('The lowest TLS version accepted from clients.', ['TLSv1.2', 'TLSv1.3'], {
      default: 'TLSv1.2',
    }),
    ciphers: string(
      "The TLS 1.2 cipher suites, an OpenSSL cipher list (TLS 1.3 suites are always Node's own). The default offers only forward-secret AEAD suites: ECDHE with AES-GCM or ChaCha20-Poly1305. The relay refuses a list OpenSSL matches to no suite, or one naming a TLS 1.3 suite (TLS_…).",
      { maxLength: 1024, pattern: tls12CipherListPattern, default: defaultTls12Ciphers },
    ),
  },
  {
    rules: [
      {
        rule: 'has(self.secretRef) != has(self.issuerRef)',
        message: 'set exactly one of secretRef or issuerRef',
      },
      {
        rule: '!has(self.dnsNames) || size(self.dnsNames) == 0 || has(self.issuerRef)',
        message: 'dnsNames is only used with issuerRef',
        fieldPath: '.dnsNames',
      },
    ],
  },
);

const auth = object(
  'SmtpRelayAuth',
  'SMTP AUTH (PLAIN and LOGIN, only inside TLS) against a users file from a Secret.',
  {
    usersSecretRef: object(
      'UsersSecretReference',
      'A Secret holding the users file: one `username:hash` a line, the hash bcrypt (`$2y$…`) or an Argon2 PHC string (`$argon2id$…`); plaintext is refused.',
      {
        name: objectName('The Secret name.'),
        key: secretKey('The key holding the users file.', 'users'),
      },
      { required: ['name'] },
    ),
    maxFailuresPerConnection: integer('Failed AUTH attempts after which the connection is closed (421).', {
      minimum: 1,
      maximum: 10,
      default: 3,
    }),
  },
  { required: ['usersSecretRef'] },
);
/** The audience tokens for the relay must carry unless the SmtpRelay names another. */
export const defaultTokenAudience = 'mailfleet.dev/smtp';

const serviceAccountTokens = object(
  'SmtpRelayServiceAccountTokens',
  'SMTP AUTH (OAUTHBEARER and XOAUTH2, only inside TLS) with the projected ServiceAccount token of the sending pod, verified by the relay offline against the cluster issuer’s public keys, which the operator reads from the API server and renders into the relay config. The identity is `system:serviceaccount:<namespace>:<name>`; a SenderDomain lists the ServiceAccounts that may send as it (`spec.serviceAccounts`).',
  {
    audience: string(
      'The audience the projected token must be requested for (`serviceAccountToken.audience` of the pod’s projected volume). Never the API server’s own audience: a token the relay accepts must not also be an API credential.',
      {
        maxLength: 256,
        minLength: 1,
        default: defaultTokenAudience,
        rules: [
          {
            rule: "!self.startsWith('https://kubernetes.default.svc') && self != 'api' && self != 'kubernetes'",
            message:
              'the API server’s audience would make every API token an SMTP credential, and an SMTP token an API credential; use an audience of its own such as mailfleet.dev/smtp',
          },
        ],
      },
    ),
    maxTokenLifetimeSeconds: integer(
      'The longest validity (exp - iat) a token may have. A token is revoked only by expiring (the relay cannot see a deleted ServiceAccount or pod), so this bounds how long a leaked one works; the projected volume’s `expirationSeconds` must not exceed it.',
      { minimum: 600, maximum: 86_400, default: 3600 },
    ),
  },
);

const limits = object(
  'Limits',
  'Limits that protect the relay and the reputation of its senders.',
  {
    messageSize: byteSize(
      'The largest message accepted (announced as SIZE; larger ones get 552 5.3.4).',
      '25Mi',
    ),
    recipientsPerMessage: integer('Recipients accepted per message; the excess get 452 4.5.3.', {
      minimum: 1,
      maximum: 100_000,
      default: 1000,
    }),
    connections: integer('Concurrent connections per relay pod; the excess get 421.', {
      minimum: 1,
      maximum: 100_000,
      default: 1000,
    }),
    connectionsPerClient: integer(
      'Concurrent connections per client IP address per pod; the excess get 421.',
      {
        minimum: 1,
        maximum: 100_000,
        default: 20,
      },
    ),
    ratePerClient: rateLimit('Messages per client IP address; unlimited when absent.'),
    ratePerUser: rateLimit('Messages per authenticated user; unlimited when absent.'),
    ratePerSenderDomain: rateLimit('Messages per envelope sender domain; unlimited when absent.'),
    ratePerNamespace: rateLimit(
      'Messages per namespace of the sending ServiceAccount (spec.serviceAccountTokens): each tenant’s share of the relay, whichever of its accounts sends; unlimited when absent.',
    ),
  },
  {
    default: {},
    rules: [
      {
        rule: '!has(self.connectionsPerClient) || !has(self.connections) || self.connectionsPerClient <= self.connections',
        message: 'connectionsPerClient must not exceed connections (the limit per pod)',
        fieldPath: '.connectionsPerClient',
      },
    ],
  },
);

/**
 * CEL: the queue volume holds one message of limits.messageSize besides the free space the relay
 * keeps (render/relay-config.ts minFreeBytesFor: a quarter of the volume, at most 256Mi).
 */
const queueHoldsOneMessage = (() => {
  const volume = `${quantityCel('self.queue.size')}.asInteger()`;
  const message = `${quantityCel('self.limits.messageSize')}.asInteger()`;
  const reserve = `(${volume} / 4 < ${String(relayMinFreeBytes)} ? ${volume} / 4 : ${String(relayMinFreeBytes)})`;
  const integral = (expression: string) =>
    `isQuantity(string(${expression})) && ${quantityCel(expression)}.isInteger()`;
  return `!has(self.queue) || !has(self.queue.size) || !has(self.limits) || !has(self.limits.messageSize) || !(${integral('self.queue.size')} && ${integral('self.limits.messageSize')}) || ${volume} - ${reserve} >= ${message}`;
})();
const listeners = list('The ports the relay accepts SMTP on.', listener, {
  maxItems: 8,
  minItems: 1,
  listType: 'map',
  mapKeys: ['port'],
  rules: [
    {
      rule: 'self.all(l, self.exists_one(m, m.name == l.name))',
      message: 'listener names must be unique',
    },
  ],
});

/**
 * Which namespaces' SenderDomains the relay may send for, as Gateway API's
 * `allowedRoutes.namespaces`: one fleet shared by several teams.
 */
const allowedSenderDomains = object(
  'AllowedSenderDomains',
  'Which namespaces the relay accepts SenderDomains from. When absent, only its own namespace (`from: Same`).',
  {
    namespaces: object(
      'SenderDomainNamespaces',
      'The namespaces whose SenderDomains the relay may send for.',
      {
        from: oneOf(
          '`Same`: only the relay namespace. `All`: every namespace the operator watches. `Selector`: the namespaces whose labels match `selector` (the relay namespace only if it matches too).',
          ['Same', 'All', 'Selector'],
          { default: 'Same' },
        ),
        selector: labelSelector('With `from: Selector`, the labels of the allowed namespaces.'),
      },
      {
        rules: [
          {
            rule: "(self.from == 'Selector') == has(self.selector)",
            message: 'selector is required with from: Selector, and only allowed with it',
            fieldPath: '.selector',
          },
        ],
      },
    ),
  },
);

export const smtpRelaySpec: Schema = object(
  'SmtpRelaySpec',
  'The desired relay fleet.',
  {
    replicas: integer('The number of relay pods (the scale subresource reads and writes it).', {
      minimum: 0,
      maximum: 1000,
      default: 2,
    }),
    listeners,
    service,
    tls,
    auth,
    serviceAccountTokens,
    clientNetworks: cidrList(
      'Client networks that may relay without AUTH. Empty by default: only authenticated clients relay. Never an open relay: a prefix length of 0 is refused.',
      'that would be an open relay',
    ),
    trustedProxies: cidrList(
      'Peers whose PROXY protocol header is believed (a load balancer in front of the relay). Policy is evaluated on the address they report.',
      'any client could then claim any address',
    ),
    delivery,
    limits,
    senderDomainSelector: labelSelector(
      'Which SenderDomains the relay sends for, by their labels, among those of the namespaces `allowedSenderDomains` allows. When absent, the relay accepts the SenderDomains that name it (`spec.relays`, `spec.relayRefs`).',
    ),
    allowedSenderDomains,
    queue,
    pod,
    monitoring,
    networkPolicy,
  },
  {
    required: ['listeners'],
    rules: [
      {
        rule: "!self.listeners.exists(l, l.tls != 'None') || has(self.tls)",
        message: 'tls (secretRef or issuerRef) is required when a listener uses StartTLS or Implicit TLS',
        fieldPath: '.tls',
        reason: 'FieldValueRequired',
      },
      {
        rule: "!self.listeners.exists(l, l.auth != 'Disabled') || has(self.auth) || has(self.serviceAccountTokens)",
        message: 'auth (usersSecretRef) or serviceAccountTokens is required when a listener offers AUTH',
        fieldPath: '.auth',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.service) || !has(self.service.nodePorts) || self.service.nodePorts.all(name, self.listeners.exists(l, l.name == name))',
        message: 'every key of nodePorts must be the name of a listener (spec.listeners[].name)',
        fieldPath: '.service.nodePorts',
      },
      {
        rule: queueHoldsOneMessage,
        message:
          'queue.size is too small to hold one message of limits.messageSize besides the free space the relay keeps (a quarter of the volume, at most 256Mi)',
        fieldPath: '.queue.size',
      },
      {
        rule: '!self.listeners.exists(l, l.proxyProtocol) || (has(self.trustedProxies) && size(self.trustedProxies) > 0)',
        message: 'trustedProxies is required when a listener expects the PROXY protocol',
        fieldPath: '.trustedProxies',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

const endpoint = object(
  'SmtpRelayEndpoint',
  'Where clients in the cluster reach one listener.',
  {
    listener: string('The listener name.', { maxLength: 15 }),
    host: string('The Service DNS name.', { maxLength: 253 }),
    port: port('The Service port.'),
    tls: oneOf('The TLS mode of the listener.', ['StartTLS', 'Implicit', 'None']),
    auth: oneOf('The AUTH mode of the listener.', ['Required', 'Optional', 'Disabled']),
  },
  { required: ['listener', 'host', 'port'] },
);

export const smtpRelayStatus: Schema = object('SmtpRelayStatus', 'The observed state of the relay fleet.', {
  conditions: conditions(
    '`Ready`: every replica serves and delivers; `Progressing`: a rollout or scale is under way; `Degraded`: something needs attention (the message names it).',
  ),
  observedGeneration: observedGeneration(),
  replicas: integer('Relay pods that exist (scale subresource).', { minimum: 0, maximum: 1000 }),
  readyReplicas: integer('Relay pods that are ready.', { minimum: 0, maximum: 1000 }),
  selector: string('The label selector of the relay pods, as a string (scale subresource).', {
    maxLength: 1024,
  }),
  endpoints: list('The Service endpoints, one per listener.', endpoint, { maxItems: 8, listType: 'atomic' }),
  scaledDownQueues: list(
    'Queue PVCs of pods scaled away that are not known empty: each is drained by a Job that runs the relay on it and hands what it cannot deliver to the pods still running.',
    object(
      'SmtpRelayScaledDownQueue',
      'The queue PVC of a pod scaled away.',
      {
        claim: string('The PVC name.', { maxLength: 253 }),
        state: oneOf(
          '`waiting`: its pod is still stopping; `draining`: a drain Job runs on it; `drained`: empty, kept for a scale-up (whenScaled: Retain); `failed`: the Job gave up and the PVC still holds mail.',
          ['waiting', 'draining', 'drained', 'failed'],
        ),
        message: string('What is happening to it.', { maxLength: 1024 }),
      },
      { required: ['claim', 'state'] },
    ),
    { maxItems: 1000, listType: 'atomic' },
  ),
  deletion: object(
    'SmtpRelayDeletion',
    'While a deleted SmtpRelay waits for its pods to deliver what they hold (queue.deletionDrainTimeout).',
    {
      deadline: string('When the deletion goes on whatever the pods still hold (RFC 3339).', {
        maxLength: 64,
      }),
      heldMessages: integer('Messages the relay pods reported still queued at the last look.', {
        minimum: 0,
        maximum: 1_000_000_000,
      }),
      podsHoldingMail: list('Relay pods that still hold mail.', string('A pod name.', { maxLength: 253 }), {
        maxItems: 1000,
        listType: 'atomic',
      }),
      unreachablePods: list(
        'Relay pods whose queue could not be read (not running, or /queuez did not answer): the deletion waits for them too.',
        string('A pod name.', { maxLength: 253 }),
        { maxItems: 1000, listType: 'atomic' },
      ),
    },
  ),
  senderDomains: list(
    'The SenderDomains the relay currently sends for, by domain (the first 1000; the relay config holds them all).',
    object(
      'BoundSenderDomain',
      'A SenderDomain bound to this relay.',
      {
        name: string('The SenderDomain name.', { maxLength: 253 }),
        namespace: string('Its namespace, when not the relay’s (allowedSenderDomains).', { maxLength: 63 }),
        domain: string('Its domain.', { maxLength: 253 }),
        ready: boolean('Whether the SenderDomain is Ready (DKIM key present, DNS verified when asked).'),
      },
      { required: ['name', 'domain'] },
    ),
    { maxItems: 1000, listType: 'atomic' },
  ),
});
