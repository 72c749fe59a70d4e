// Whether every Secret an SmtpRelay references exists with the keys it needs, well formed (case
// 26). Each problem names the Secret, the key and the field that references it. Pure: the Secrets
// come in as read from the cache; their values never appear in a message.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { SecretLookup } from '../render/relay-secret.ts';
import { tlsSecretOf } from '../render/relay-stateful-set.ts';

export type SecretProblemReason = 'SecretNotFound' | 'SecretKeyMissing' | 'SecretKeyInvalid';

export interface SecretProblem {
  readonly reason: SecretProblemReason;
  readonly message: string;
}

interface KeyRequirement {
  readonly key: string;
  /** The field naming the key, for the message. */
  readonly field: string;
  /** What is wrong with the decoded value, or undefined when it is fine. */
  readonly check: (value: string) => string | undefined;
}

interface SecretRequirement {
  readonly name: string;
  /** The field naming the Secret and what it is for. */
  readonly purpose: string;
  readonly keys: readonly KeyRequirement[];
}

const pem = (label: RegExp, what: string) => (value: string) =>
  label.test(value) ? undefined : `is not a PEM ${what}`;

const notEmpty = (what: string) => (value: string) =>
  value.trim() === '' ? `is empty (${what})` : undefined;

function requirements(relay: SmtpRelay): SecretRequirement[] {
  const wanted: SecretRequirement[] = [];
  const tls = tlsSecretOf(relay);
  const issued = relay.spec.tls?.issuerRef !== undefined;
  if (tls !== undefined) {
    const field = issued ? 'spec.tls.issuerRef (filled by cert-manager)' : 'spec.tls.secretRef';
    wanted.push({
      name: tls.name,
      purpose: `the TLS certificate of ${field}`,
      keys: [
        {
          key: tls.certificateKey,
          field: issued ? 'tls.crt' : 'spec.tls.secretRef.certificateKey',
          check: pem(/-----BEGIN CERTIFICATE-----/, 'certificate'),
        },
        {
          key: tls.privateKeyKey,
          field: issued ? 'tls.key' : 'spec.tls.secretRef.privateKeyKey',
          check: pem(/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, 'private key'),
        },
      ],
    });
  }
  const users = relay.spec.auth?.usersSecretRef;
  if (users !== undefined) {
    wanted.push({
      name: users.name,
      purpose: 'the AUTH users file of spec.auth.usersSecretRef',
      keys: [{ key: users.key, field: 'spec.auth.usersSecretRef.key', check: notEmpty('no users') }],
    });
  }
  const credentials = relay.spec.delivery.smarthost?.credentialsSecretRef;
  if (credentials !== undefined) {
    wanted.push({
      name: credentials.name,
      purpose: 'the smarthost credentials of spec.delivery.smarthost.credentialsSecretRef',
      keys: [
        {
          key: credentials.usernameKey,
          field: 'spec.delivery.smarthost.credentialsSecretRef.usernameKey',
          check: (value) =>
            /[:\r\n]/.test(value.trim())
              ? 'holds a colon or a line break, which a user name cannot'
              : notEmpty('no user name')(value),
        },
        {
          key: credentials.passwordKey,
          field: 'spec.delivery.smarthost.credentialsSecretRef.passwordKey',
          check: (value) =>
            /[\r\n]/.test(value.replace(/\r?\n$/, ''))
              ? 'holds a line break, which a password cannot'
              : notEmpty('no password')(value),
        },
      ],
    });
  }
  return wanted;
}

export function secretProblems(relay: SmtpRelay, lookup: SecretLookup): SecretProblem[] {
  const namespace = relay.metadata.namespace ?? '';
  const problems: SecretProblem[] = [];
  for (const requirement of requirements(relay)) {
    const where = `Secret ${namespace}/${requirement.name}`;
    const secret = lookup(requirement.name);
    if (secret === undefined) {
      problems.push({ reason: 'SecretNotFound', message: `${where} (${requirement.purpose}) not found` });
      continue;
    }
    for (const { key, field, check } of requirement.keys) {
      const value = secret.data?.[key];
      if (value === undefined) {
        problems.push({
          reason: 'SecretKeyMissing',
          message: `${where} has no key "${key}" (${field}, ${requirement.purpose})`,
        });
        continue;
      }
      const wrong = check(Buffer.from(value, 'base64').toString('utf8'));
      if (wrong !== undefined) {
        problems.push({ reason: 'SecretKeyInvalid', message: `${where} key "${key}" (${field}) ${wrong}` });
      }
    }
  }
  return problems;
}

/** The names of the Secrets the relay references (for the cache index that maps them back). */
export function referencedSecretNames(relay: SmtpRelay): string[] {
  return requirements(relay).map((requirement) => requirement.name);
}
