// The spool's part of the relay config (key `queue`), composed into the root schema.
import type { JSONSchemaType } from 'ajv';

export interface QueueConfig {
  /** The spool directory: the only state of the queue. */
  readonly dir: string;
  /** Below this many free bytes on the spool's filesystem no message is accepted (452 4.3.1). */
  readonly minFreeBytes: number;
  /** How long a message may wait for delivery before it is bounced. */
  readonly maxLifetimeSeconds: number;
  /** After this long still queued, the sender gets one delay warning per recipient; 0: never. */
  readonly delayWarningSeconds: number;
  /** Whether senders get reports at all (failures and delay warnings). */
  readonly sendReports: boolean;
  /** The From address of reports; MAILER-DAEMON@<hostname> when absent. */
  readonly reportsFrom?: string;
  /** The queue admin HTTP endpoint, bound to 127.0.0.1 only; 0 picks a free port. */
  readonly adminPort: number;
  /** Where the relay writes the admin endpoint's token file at start (/tmp when absent). */
  readonly adminTokenDir?: string;
  /** Under concurrent load, how long a group commit waits after its first message for others to join. */
  readonly commitDelayMs: number;
  /** Start on a spool written in a newer format by moving its files to quarantine, instead of refusing. */
  readonly quarantineNewerSpool?: boolean;
}

export const queueConfigSchema: JSONSchemaType<QueueConfig> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'dir',
    'minFreeBytes',
    'maxLifetimeSeconds',
    'delayWarningSeconds',
    'sendReports',
    'adminPort',
    'commitDelayMs',
  ],
  description: 'The durable on-disk queue.',
  properties: {
    dir: {
      type: 'string',
      minLength: 2,
      pattern: '^/',
      default: '/var/spool/mailfleet',
      description: 'an absolute path to the spool directory',
    },
    minFreeBytes: {
      type: 'integer',
      minimum: 0,
      default: 268435456,
      description: 'Free bytes below which the relay answers 452 4.3.1 and is not ready.',
    },
    maxLifetimeSeconds: {
      type: 'integer',
      minimum: 60,
      default: 432000,
      description: 'Seconds a message may stay queued before it bounces (default 5 days).',
    },
    delayWarningSeconds: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description:
        'Seconds after which a recipient still deferred gets the sender one delay warning (RFC 3464 Action: delayed), unless its NOTIFY excludes DELAY; 0 sends none.',
    },
    sendReports: {
      type: 'boolean',
      default: true,
      description:
        'Send senders RFC 3464 reports: a bounce for every failed recipient, and delay warnings. false: failed recipients are only logged and counted.',
    },
    reportsFrom: {
      type: 'string',
      nullable: true,
      maxLength: 254,
      pattern: '^[^@\\s<>"]+@[^@\\s<>"]+$',
      description:
        'The From address of reports (the envelope sender is always <>); default MAILER-DAEMON@<hostname>. Use an address of a domain that receivers accept mail from.',
    },
    adminPort: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 8026,
      description: 'Port of the queue admin endpoint on 127.0.0.1 (mailfleet-relay queue ...).',
    },
    adminTokenDir: {
      type: 'string',
      nullable: true,
      minLength: 2,
      pattern: '^/',
      description:
        'an absolute path to a writable directory where the relay writes the queue admin token (mailfleet-admin-<port>.token, mode 0600) at start; /tmp when absent',
    },
    commitDelayMs: {
      type: 'integer',
      minimum: 0,
      maximum: 50,
      default: 5,
      description:
        "Milliseconds a group commit (one fdatasync for every message written before it) waits after its first message for others to join, while the relay is under concurrent load: when the last commit covered more than one message or more arrived while it ran. A lone sender never waits. Fewer fdatasyncs and wake-ups, each serving more messages; a message's 250 comes at most this much later. 0 commits at once.",
    },
    quarantineNewerSpool: {
      type: 'boolean',
      nullable: true,
      description:
        'A spool whose <dir>/FORMAT is newer than this relay reads (a rollback): absent or false refuses to start; true moves its files to <dir>/quarantine/future_version/, never deleting them, and starts empty.',
    },
  },
};
