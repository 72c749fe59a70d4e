// The two kinds of mailfleet.dev/v1alpha1: names, printer columns and subresources around the
// schemas of smtp-relay.ts and sender-domain.ts.
import { ageColumn, conditionColumn, resourceTypeOf, type KindDefinition } from './crd.ts';
import { senderDomainSpec, senderDomainStatus } from './sender-domain.ts';
import { smtpRelaySpec, smtpRelayStatus } from './smtp-relay.ts';

/**
 * The longest SmtpRelay name whose objects Kubernetes takes: the StatefulSet is named after the
 * relay, and its controller-revision-hash label (a label value, at most 63) is `<name>-<hash of up
 * to 10>`; the Services (`<name>`, `<name>-peers`) are DNS-1035 labels (render/relay-names.ts).
 */
export const maxSmtpRelayNameLength = 63 - '-'.length - 10;

/** The generated DKIM Secret of a SenderDomain is `<name>-dkim`, an object name of at most 253. */
export const maxSenderDomainNameLength = 253 - '-dkim'.length;

export const smtpRelayKind: KindDefinition = {
  kind: 'SmtpRelay',
  singular: 'smtprelay',
  plural: 'smtprelays',
  shortNames: ['smr'],
  description:
    'SmtpRelay declares one SMTP relay fleet: its listeners, TLS, AUTH users, client networks, delivery, limits, queue and pods.',
  spec: smtpRelaySpec,
  status: smtpRelayStatus,
  rootRules: [
    {
      rule: `size(self.metadata.name) <= ${String(maxSmtpRelayNameLength)} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
      message: `an SmtpRelay name must be at most ${String(maxSmtpRelayNameLength)} characters of lower-case letters, digits and "-", starting with a letter: its StatefulSet's controller-revision-hash label (<name>-<10-character hash>) must fit in 63 characters and its Services (<name>, <name>-peers) are DNS labels`,
      fieldPath: '.metadata.name',
    },
  ],
  printerColumns: [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired relay pods.' },
    {
      name: 'Available',
      type: 'integer',
      jsonPath: '.status.readyReplicas',
      description: 'Ready relay pods.',
    },
    {
      name: 'Delivery',
      type: 'string',
      jsonPath: '.spec.delivery.mode',
      description: 'Direct or Smarthost.',
    },
    conditionColumn('Ready', 'Whether every replica serves and delivers.'),
    {
      name: 'Endpoint',
      type: 'string',
      jsonPath: '.status.endpoints[0].host',
      description: 'The Service DNS name clients connect to (every listener: status.endpoints).',
    },
    {
      name: 'Smarthost',
      type: 'string',
      jsonPath: '.spec.delivery.smarthost.host',
      description: 'The smarthost, in Smarthost mode.',
      priority: 1,
    },
    conditionColumn('Degraded', 'Whether something needs attention.'),
    ageColumn,
  ],
  scale: {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.selector',
  },
};

export const senderDomainKind: KindDefinition = {
  kind: 'SenderDomain',
  singular: 'senderdomain',
  plural: 'senderdomains',
  shortNames: ['sd'],
  description:
    'SenderDomain declares a domain that may send through mailfleet relays: which relays and users, DKIM keys, and the SPF and DMARC records to publish.',
  spec: senderDomainSpec,
  status: senderDomainStatus,
  rootRules: [
    {
      rule: `size(self.metadata.name) <= ${String(maxSenderDomainNameLength)}`,
      message: `a SenderDomain name must be at most ${String(maxSenderDomainNameLength)} characters: its generated DKIM Secret is <name>-dkim`,
      fieldPath: '.metadata.name',
    },
  ],
  printerColumns: [
    { name: 'Domain', type: 'string', jsonPath: '.spec.domain', description: 'The domain name.' },
    conditionColumn('Ready', 'Whether mail for the domain is signed and sent.'),
    conditionColumn('DkimKeyReady', 'Whether the DKIM keys exist and are mounted.'),
    conditionColumn('DnsVerified', 'Whether every DNS record is published.'),
    {
      name: 'Selector',
      type: 'string',
      jsonPath: '.status.dkim.activeSelector',
      description: 'The DKIM selector that signs now.',
      priority: 1,
    },
    ageColumn,
  ],
};

export const apiKinds: readonly KindDefinition[] = [smtpRelayKind, senderDomainKind];

export const smtpRelayResource = resourceTypeOf(smtpRelayKind);
export const senderDomainResource = resourceTypeOf(senderDomainKind);
