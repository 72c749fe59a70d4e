// The examples as the apiserver serves them (defaults applied, namespace and uid set), and the
// Secrets they reference, for the render, contract and golden tests.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { senderDomainKind, smtpRelayKind } from '../../../operator/api/kinds.ts';
import type { SenderDomain, SmtpRelay } from '../../../operator/api/types.generated.ts';
import { optionalRelayResources, servedName } from '../../../operator/render/relay-resources.ts';
import type { BoundDomain } from '../../../operator/render/relay-secret.ts';
import { relayAcceptance } from '../../../operator/render/relay-acceptance.ts';
import {
  dkimActiveSelectorAnnotation,
  dkimSecretName,
  generatedDkimKeyName,
  signingKeys,
  type SecretObject,
} from '../../../operator/render/sender-domain-binding.ts';

export const examplesDir = resolve(import.meta.dirname, '../../../examples');
export const namespace = 'mail';

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

interface Example {
  readonly file: string;
  readonly object: SmtpRelay | SenderDomain;
}

async function examples(): Promise<Example[]> {
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (file) => {
      const raw = parse(await readFile(join(examplesDir, file), 'utf8')) as {
        kind: string;
        metadata: { name: string };
        spec: unknown;
      };
      const kind = raw.kind === 'SmtpRelay' ? smtpRelayKind : senderDomainKind;
      const object = {
        ...raw,
        metadata: { ...raw.metadata, namespace, uid: `uid-${raw.metadata.name}`, generation: 1 },
        spec: withDefaults(kind.spec, raw.spec),
      } as unknown as SmtpRelay | SenderDomain;
      return { file: file.replace(/\.yaml$/, ''), object };
    }),
  );
}

export const allExamples = await examples();

export const relayExamples = allExamples.flatMap(({ file, object }) =>
  object.kind === 'SmtpRelay' ? [{ file, relay: object }] : [],
);

export const domainExamples = allExamples.flatMap(({ object }) =>
  object.kind === 'SenderDomain' ? [object] : [],
);

/** A served SmtpRelay from a spec as written. */
export function servedRelay(name: string, spec: unknown): SmtpRelay {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1 },
    spec: withDefaults(smtpRelayKind.spec, spec) as SmtpRelay['spec'],
  };
}

/** The DKIM Secret each example domain needs, filled as the SenderDomain reconciler would. */
export function dkimSecretOf(domain: SenderDomain): SecretObject | undefined {
  const name = dkimSecretName(domain);
  if (name === undefined) return undefined;
  const own = domain.spec.dkim.privateKeySecretRef;
  const selector = own === undefined ? `${domain.spec.dkim.selector}-1` : domain.spec.dkim.selector;
  const data: Record<string, string> = {};
  for (const algorithm of domain.spec.dkim.algorithms) {
    const key =
      own === undefined
        ? generatedDkimKeyName(selector, algorithm)
        : algorithm === 'RSA2048'
          ? own.rsaKey
          : own.ed25519Key;
    data[key] = base64(
      `-----BEGIN PRIVATE KEY-----\n${domain.spec.domain} ${algorithm}\n-----END PRIVATE KEY-----\n`,
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      ...(own === undefined ? { annotations: { [dkimActiveSelectorAnnotation]: selector } } : {}),
    },
    data,
  };
}

export function boundDomainsOf(
  relay: SmtpRelay,
  domains: readonly SenderDomain[] = domainExamples,
): BoundDomain[] {
  return relayAcceptance(relay, domains, () => ({})).accepted.map((senderDomain) => {
    const keySecret = dkimSecretOf(senderDomain);
    const keys = signingKeys(senderDomain, keySecret);
    return { senderDomain, keys: keys.ok ? keys.keys : [], keySecret };
  });
}

/** Every Secret the examples reference, present and well formed. */
export function exampleSecrets(): Map<string, SecretObject> {
  const secrets = new Map<string, SecretObject>();
  const add = (name: string, data: Record<string, string>) =>
    secrets.set(name, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, resourceVersion: '1' },
      data,
    });
  add('outbound-smtp-users', { users: base64('billing-app:$2b$10$abcdefghijklmnopqrstuv\n') });
  add('submission-smtp-users', { users: base64('office-scanner:$2b$10$abcdefghijklmnopqrstuv\n') });
  add('outbound-smarthost', { username: base64('relay@example.com'), password: base64('s3cret\n') });
  add('outbound-tls', {
    'tls.crt': base64('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'),
    'tls.key': base64('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n'),
  });
  for (const domain of domainExamples) {
    const secret = dkimSecretOf(domain);
    if (secret?.metadata?.name !== undefined) secrets.set(secret.metadata.name, secret);
  }
  return secrets;
}

export const everyOptionalKindServed = new Set(optionalRelayResources.map(servedName));
