// Case 36: admission refuses what cannot work or could inject, each refusal naming the field. Rows
// for validation.test.ts (the runner is invalid-cases.ts): selectors Kubernetes would refuse, names
// whose derived objects do not fit, limits below requests, zero sizes, periods and timeouts, DNS
// record fields that would add tags, user names the users file cannot hold.
import type { InvalidCase } from './invalid-cases.ts';

const selectorRequirement = (requirement: Record<string, unknown>): InvalidCase['change'] => [
  'senderDomainSelector',
  { matchExpressions: [requirement] },
];

export const case36RelayCases: readonly InvalidCase[] = [
  {
    name: 'case 36: a selector requirement In without values',
    example: 'smtprelay-production.yaml',
    change: selectorRequirement({ key: 'tier', operator: 'In' }),
    field: 'spec.senderDomainSelector.matchExpressions[0].values',
    message: 'operators In and NotIn need at least one value',
  },
  {
    name: 'case 36: a selector requirement NotIn with an empty list',
    example: 'smtprelay-production.yaml',
    change: selectorRequirement({ key: 'tier', operator: 'NotIn', values: [] }),
    field: 'spec.senderDomainSelector.matchExpressions[0].values',
    message: 'operators In and NotIn need at least one value',
  },
  {
    name: 'case 36: a selector requirement Exists with values',
    example: 'smtprelay-production.yaml',
    change: selectorRequirement({ key: 'tier', operator: 'Exists', values: ['a'] }),
    field: 'spec.senderDomainSelector.matchExpressions[0].values',
    message: 'operators Exists and DoesNotExist take no values',
  },
  {
    name: 'case 36: a selector requirement on an invalid label key',
    example: 'smtprelay-production.yaml',
    change: selectorRequirement({ key: 'not a key!', operator: 'Exists' }),
    field: 'spec.senderDomainSelector.matchExpressions[0].key',
    message: 'must be a valid label key',
  },
  {
    name: 'case 36: a selector label key whose name is longer than 63',
    example: 'smtprelay-production.yaml',
    change: selectorRequirement({ key: `example.com/${'a'.repeat(64)}`, operator: 'Exists' }),
    field: 'spec.senderDomainSelector.matchExpressions[0].key',
    message: 'must be a valid label key',
  },
  {
    name: 'case 36: matchLabels with an invalid key',
    example: 'smtprelay-production.yaml',
    change: ['senderDomainSelector', { matchLabels: { '-relay': 'outbound' } }],
    field: 'spec.senderDomainSelector.matchLabels',
    message: 'every key must be a valid label key',
  },
  {
    name: 'case 36: pod labels with an invalid key',
    example: 'smtprelay-production.yaml',
    change: ['pod.labels', { 'team name': 'mail' }],
    field: 'spec.pod.labels',
    message: 'every key must be a valid label key',
  },
  {
    name: 'case 36: an SmtpRelay name too long for its StatefulSet revision label',
    example: 'smtprelay-minimal.yaml',
    change: ['metadata.name', `r${'e'.repeat(52)}`],
    field: 'metadata.name',
    message: 'must be at most 52 characters',
  },
  {
    name: 'case 36: an SmtpRelay name that is no DNS label (its Services would be refused)',
    example: 'smtprelay-minimal.yaml',
    change: ['metadata.name', 'mail.internal'],
    field: 'metadata.name',
    message: 'its Services (<name>, <name>-peers) are DNS labels',
  },
  {
    name: 'case 36: a memory limit below the request',
    example: 'smtprelay-production.yaml',
    change: ['pod.resources', { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } }],
    field: 'spec.pod.resources.limits',
    message: 'limits.memory must be at least requests.memory',
  },
  {
    name: 'case 36: a CPU request that is not a quantity',
    example: 'smtprelay-production.yaml',
    change: ['pod.resources', { requests: { cpu: 'lots' } }],
    field: 'spec.pod.resources.requests.cpu',
    message: 'should match',
  },
  {
    name: 'case 36: a zero message size',
    example: 'smtprelay-production.yaml',
    change: ['limits.messageSize', '0Mi'],
    field: 'spec.limits.messageSize',
    message: 'must be more than 0 bytes',
  },
  {
    name: 'case 36: a zero rate period',
    example: 'smtprelay-production.yaml',
    change: ['limits.ratePerUser', { messages: 10, period: '0s' }],
    field: 'spec.limits.ratePerUser.period',
    message: 'period must be at least 1s',
  },
  {
    name: 'case 36: a zero drain timeout',
    example: 'smtprelay-production.yaml',
    change: ['queue.drainTimeout', '0s'],
    field: 'spec.queue.drainTimeout',
    message: 'drainTimeout must be at least 1s',
  },
  {
    name: 'case 36: more connections per client than in total',
    example: 'smtprelay-production.yaml',
    change: ['limits.connectionsPerClient', 2000],
    field: 'spec.limits.connectionsPerClient',
    message: 'connectionsPerClient must not exceed connections',
  },
  {
    name: 'case 36: a queue volume too small for one message of the maximum size',
    example: 'smtprelay-production.yaml',
    change: ['queue.size', '32Mi'],
    field: 'spec.queue.size',
    message: 'queue.size is too small to hold one message of limits.messageSize',
  },
];

export const case36DomainCases: readonly InvalidCase[] = [
  {
    name: 'case 36: a DMARC report address that would add a tag (;)',
    example: 'senderdomain.yaml',
    change: ['dmarc.reportAddress', 'dmarc@example.com;p=none'],
    field: 'spec.dmarc.reportAddress',
    message: 'would add tags or URIs to the published DMARC record',
  },
  {
    name: 'case 36: a DMARC report address that would add a URI (,)',
    example: 'senderdomain.yaml',
    change: ['dmarc.reportAddress', 'dmarc@example.com,mailto:copy@attacker.example'],
    field: 'spec.dmarc.reportAddress',
    message: 'would add tags or URIs to the published DMARC record',
  },
  {
    name: 'case 36: a DMARC report address with a size limit (!)',
    example: 'senderdomain.yaml',
    change: ['dmarc.reportAddress', 'dmarc@example.com!10m'],
    field: 'spec.dmarc.reportAddress',
    message: 'would add tags or URIs to the published DMARC record',
  },
  {
    name: 'case 36: an SPF mechanism with a quote that would end the TXT string',
    example: 'senderdomain.yaml',
    change: ['spf.mechanisms', ['include:_spf.example.net"+all']],
    field: 'spec.spf.mechanisms[0]',
    message: 'should match',
  },
  {
    name: 'case 36: an authorized user name with a colon',
    example: 'senderdomain.yaml',
    change: ['authorizedUsers', ['billing:app']],
    field: 'spec.authorizedUsers[0]',
    message: 'so this user could never exist',
  },
  {
    name: 'case 36: an authorized user name starting with #',
    example: 'senderdomain.yaml',
    change: ['authorizedUsers', ['#billing']],
    field: 'spec.authorizedUsers[0]',
    message: 'so this user could never exist',
  },
  {
    name: 'case 36: a SenderDomain name too long for its DKIM Secret',
    example: 'senderdomain.yaml',
    change: ['metadata.name', `d${'o'.repeat(248)}`],
    field: 'metadata.name',
    message: 'must be at most 248 characters',
  },
];
