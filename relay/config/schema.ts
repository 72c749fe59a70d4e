// The ONE JSON Schema of the relay config: the contract with the operator. Defaults live here so
// the operator may render a minimal config and the relay fills in the rest at validation.
import { deliveryConfigSchema } from './delivery-schema.ts';
import { dkimKeyListSchema } from './dkim-schema.ts';
import { queueConfigSchema } from './queue-schema.ts';
import { tokenAuthSchema } from './token-auth-schema.ts';
import { defaultTls12Ciphers, tls12CipherListPattern } from './tls-profile.ts';

const hostname = {
  type: 'string',
  pattern:
    '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
  description: 'a DNS hostname',
} as const;

const cidr = {
  type: 'string',
  pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(/[0-9]{1,3})?$',
  description: 'an IPv4 or IPv6 address or CIDR network',
} as const;

const filePath = {
  type: 'string',
  minLength: 1,
  pattern: '^/',
  description: 'an absolute file path',
} as const;

const dnsLabel = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
  description: 'a Kubernetes namespace name (a DNS label)',
} as const;

const dnsSubdomain = {
  type: 'string',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  description: 'a Kubernetes ServiceAccount name (a DNS subdomain)',
} as const;

const tokenBucket = {
  type: 'object',
  additionalProperties: false,
  required: ['perMinute', 'burst'],
  properties: {
    perMinute: { type: 'number', exclusiveMinimum: 0, description: 'Sustained rate per minute.' },
    burst: { type: 'integer', minimum: 1, description: 'Largest burst above the sustained rate.' },
  },
} as const;

export const relayConfigSchema = {
  $id: 'https://mailfleet.dev/schemas/relay-config.json',
  title: 'mailfleet relay configuration',
  type: 'object',
  additionalProperties: false,
  required: ['hostname', 'listeners'],
  properties: {
    hostname: { ...hostname, description: 'a DNS hostname (the banner, EHLO reply and Received: name)' },
    listeners: {
      type: 'array',
      minItems: 1,
      description: 'SMTP listeners; ports must be distinct.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'port', 'mode'],
        properties: {
          name: {
            type: 'string',
            pattern: '^[a-z0-9-]{1,32}$',
            description: '1-32 of a-z, 0-9 and - (a metric label)',
          },
          port: { type: 'integer', minimum: 0, maximum: 65535, description: 'TCP port; 0 picks a free one.' },
          address: {
            type: 'string',
            minLength: 1,
            description: 'Bind address; every interface when absent.',
          },
          mode: {
            enum: ['relay', 'submission', 'implicit-tls'],
            description:
              'relay: STARTTLS offered, AUTH optional (port 25). submission: STARTTLS and AUTH required (587). implicit-tls: TLS from the first byte, AUTH optional (465).',
          },
          requireAuth: {
            type: 'boolean',
            nullable: true,
            description:
              'Refuse MAIL until the client has authenticated, whoever it is (clients in policy.allowedNetworks too). Default: true for submission, false otherwise; set it on an implicit-tls listener used for submission (465).',
          },
          requireTls: {
            type: 'boolean',
            nullable: true,
            description:
              'Refuse MAIL with 530 5.7.0 until the client has started TLS (STARTTLS, RFC 3207), whoever it is. Needs /tls. Default: false (an implicit-tls listener is encrypted anyway).',
          },
          offerStartTls: {
            type: 'boolean',
            nullable: true,
            description:
              'false: never offer STARTTLS on this listener, even with /tls. Default: true (when /tls is set).',
          },
          offerAuth: {
            type: 'boolean',
            nullable: true,
            description:
              'false: never offer AUTH on this listener, even with /auth (clients relay by network only). Default: true (when /auth is set).',
          },
          proxyProtocolTrustedPeers: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            description:
              'Peer addresses whose PROXY protocol header is read; others are taken at face value.',
          },
        },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certificates'],
      description: 'TLS certificates; reloaded live when the files change.',
      properties: {
        certificates: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['certFile', 'keyFile'],
            properties: {
              certFile: { ...filePath, description: 'an absolute path to a PEM certificate chain' },
              keyFile: { ...filePath, description: 'an absolute path to a PEM private key' },
              serverNames: { type: 'array', items: hostname, description: 'SNI names for this certificate.' },
            },
          },
        },
        minVersion: {
          enum: ['TLSv1.2', 'TLSv1.3'],
          default: 'TLSv1.2',
          description: 'The lowest TLS version accepted from clients; older ones fail the handshake.',
        },
        ciphers: {
          type: 'string',
          maxLength: 1024,
          pattern: tls12CipherListPattern,
          default: defaultTls12Ciphers,
          description:
            'The TLS 1.2 cipher suites offered, as an OpenSSL cipher list (TLS 1.3 suites are not set here). The default offers only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305). A list OpenSSL matches to no suite, or one naming a TLS 1.3 suite (TLS_…), is refused.',
        },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['usersFile'],
      description: 'SMTP AUTH (PLAIN, LOGIN), only ever offered over TLS.',
      properties: {
        usersFile: {
          ...filePath,
          description:
            'an absolute path to a file of `username:hash` lines (bcrypt or an Argon2 PHC string; plaintext refused)',
        },
        maxFailuresPerConnection: {
          type: 'integer',
          minimum: 1,
          default: 3,
          description: 'Failures before 421.',
        },
        loginCacheSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 3600,
          default: 300,
          description:
            'How long a successful login is remembered (an HMAC of the password, never the password), so a client that connects per message pays the bcrypt or Argon2 check once per this period; only the same password takes the fast path, failures are never remembered, and a changed users file forgets everything (a reload that finds it unchanged keeps it). 0: check the hash at every AUTH.',
        },
        failuresPerClientIp: {
          ...tokenBucket,
          default: { perMinute: 10, burst: 10 },
          description:
            'AUTH failures per client address (IPv6: per /64). From its third failure, an address waits 250 ms doubling to 4 s for each failure reply; when the bucket is empty it is refused with 454 4.7.0.',
        },
        failuresPerUser: {
          ...tokenBucket,
          default: { perMinute: 10, burst: 10 },
          description:
            'AUTH failures per client address and user name, never per user alone: the same user from another address is not refused (454 4.7.0 from this address only).',
        },
      },
    },
    tokenAuth: tokenAuthSchema,
    policy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allowedNetworks: {
          type: 'array',
          items: cidr,
          default: [],
          description: 'Clients relaying without AUTH.',
        },
        senderDomains: {
          type: 'array',
          default: [],
          description: 'When non-empty, the MAIL FROM domain must be one of these.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['domain'],
            properties: {
              domain: hostname,
              users: {
                type: 'array',
                items: { type: 'string', minLength: 1 },
                description: 'Users allowed.',
              },
              serviceAccounts: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['namespace'],
                  properties: { namespace: dnsLabel, name: dnsSubdomain },
                },
                description:
                  'ServiceAccounts (token AUTH) allowed: every one of a namespace, or one by name. None when absent.',
              },
              allowNetworks: { type: 'boolean', default: true, description: 'Allowed networks may send.' },
              dkim: dkimKeyListSchema,
            },
          },
        },
        recipientDomainsAllowed: {
          type: 'array',
          items: hostname,
          description: 'Only these recipient domains.',
        },
        recipientDomainsDenied: {
          type: 'array',
          items: hostname,
          description: 'Never these recipient domains.',
        },
        maxMessageBytes: { type: 'integer', minimum: 1024, default: 26214400, description: 'SIZE limit.' },
        maxRecipients: { type: 'integer', minimum: 1, default: 1000, description: 'Recipients per message.' },
        maxReceivedHeaders: { type: 'integer', minimum: 1, default: 50, description: 'Loop detection.' },
        bareLineEndings: {
          enum: ['reject', 'normalise'],
          default: 'reject',
          description: 'Bare CR or LF in DATA: reject (550 5.5.2) or normalise to CRLF.',
        },
        pipelining: {
          enum: ['strict', 'lenient'],
          default: 'strict',
          description: 'strict: a body sent before the 354 reply is refused with 554 5.5.0.',
        },
        rateLimits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Token buckets on accepted messages; an empty bucket answers 450 4.7.1.',
          properties: {
            perClientIp: tokenBucket,
            perUser: tokenBucket,
            perSenderDomain: tokenBucket,
            perNamespace: {
              ...tokenBucket,
              description:
                'Per namespace of the sending ServiceAccount (token AUTH): a tenant’s share of the relay, whichever of its accounts sends.',
            },
          },
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxConnections: {
          type: 'integer',
          minimum: 1,
          default: 1000,
          description:
            'Concurrent connections across all listeners; the excess get 421 4.7.0 before the banner.',
        },
        maxConnectionsPerIp: {
          type: 'integer',
          minimum: 1,
          default: 50,
          description:
            'Per client IP; checked first, before maxConnections, from the moment a connection is accepted.',
        },
        reservedConnectionsForAllowedNetworks: {
          type: 'integer',
          minimum: 0,
          description:
            'Of maxConnections, the slots only clients in policy.allowedNetworks may take, so other clients cannot fill the relay; 10% of maxConnections when absent.',
        },
        commandTimeoutSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 300,
          description:
            'How long a client may take to send its next command: an idle client, or one trickling bytes without ending the line, gets 421 4.4.2 (not while it sends a message body).',
        },
        stressThreshold: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.8,
          description:
            'The share of maxConnections open from which the relay is under stress and sessions neither in policy.allowedNetworks nor authenticated get stressCommandTimeoutSeconds.',
        },
        stressCommandTimeoutSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 10,
          description:
            'The command timeout of untrusted, unauthenticated sessions while the relay is under stress.',
        },
        sessionTimeoutSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 1800,
          description: 'Whole session.',
        },
        greetingDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 10000,
          default: 100,
          description: 'Pause before the banner; a client talking during it gets 421 (early talkers).',
        },
        allowedNetworksGreetingDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 10000,
          description:
            'The pause for clients in policy.allowedNetworks (greetingDelayMs when absent); 0 greets trusted senders at once.',
        },
        drainTimeoutSeconds: { type: 'number', minimum: 0, default: 30, description: 'SIGTERM grace.' },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: '/metrics, /healthz and /readyz.',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9090 },
        address: { type: 'string', minLength: 1 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info' } },
    },
    queue: { ...queueConfigSchema, default: {} },
    retiring: {
      type: 'boolean',
      default: false,
      description:
        'The relay is being retired (its SmtpRelay is deleted): it refuses new mail with 421 4.3.2, reports itself not ready, retries every queued message at once and keeps delivering. Reloads live.',
    },
    // mode is spelled out: the delivery schema's if/then runs before its own defaults fill in mode.
    delivery: { ...deliveryConfigSchema, default: { mode: 'mx' } },
  },
} as const;
