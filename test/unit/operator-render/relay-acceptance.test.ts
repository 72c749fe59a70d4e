import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SenderDomain, SmtpRelay } from '../../../operator/api/types.generated.ts';
import {
  acceptingRelayNames,
  namespaceAllowed,
  relayAcceptance,
  relayBindings,
  relayWantsDomain,
  type NamespaceLabels,
} from '../../../operator/render/relay-acceptance.ts';

function domain(
  namespace: string,
  name: string,
  overrides: {
    domain?: string;
    labels?: Record<string, string>;
    relays?: string[];
    relayRefs?: { name: string; namespace?: string }[];
    created?: string;
  } = {},
): SenderDomain {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: {
      name,
      namespace,
      labels: overrides.labels ?? {},
      creationTimestamp: overrides.created ?? '2026-12-01T00:00:00Z',
    },
    spec: {
      domain: overrides.domain ?? `${name}.example`,
      ...(overrides.relays === undefined ? {} : { relays: overrides.relays }),
      ...(overrides.relayRefs === undefined ? {} : { relayRefs: overrides.relayRefs }),
    } as unknown as SenderDomain['spec'],
  };
}

function relay(
  namespace: string,
  name: string,
  spec: Pick<SmtpRelay['spec'], 'senderDomainSelector' | 'allowedSenderDomains'> = {},
): SmtpRelay {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name, namespace },
    spec: spec as SmtpRelay['spec'],
  };
}

const labels: NamespaceLabels = (namespace) =>
  ({ mail: {}, 'team-a': { tenant: 'yes' }, 'team-b': {} })[namespace];

test('Same (the default) allows only the relay namespace; All every one; Selector by namespace labels', () => {
  const same = relay('mail', 'shared');
  assert.equal(namespaceAllowed(same, 'mail', labels), true);
  assert.equal(namespaceAllowed(same, 'team-a', labels), false);
  const all = relay('mail', 'shared', { allowedSenderDomains: { namespaces: { from: 'All' } } });
  assert.equal(namespaceAllowed(all, 'team-b', labels), true);
  const selector = relay('mail', 'shared', {
    allowedSenderDomains: { namespaces: { from: 'Selector', selector: { matchLabels: { tenant: 'yes' } } } },
  });
  assert.equal(namespaceAllowed(selector, 'team-a', labels), true);
  assert.equal(namespaceAllowed(selector, 'team-b', labels), false);
  assert.equal(namespaceAllowed(selector, 'mail', labels), false, 'its own namespace only if it matches');
  assert.equal(namespaceAllowed(selector, 'unknown', labels), false, 'a namespace not seen is not allowed');
});

test('a relay wants the domains naming it (relays: same namespace; relayRefs: any), or by its selector only', () => {
  const shared = relay('mail', 'shared');
  assert.equal(relayWantsDomain(shared, domain('mail', 'a', { relays: ['shared'] })), true);
  assert.equal(
    relayWantsDomain(shared, domain('team-a', 'a', { relays: ['shared'] })),
    false,
    'spec.relays names relays of its own namespace',
  );
  assert.equal(
    relayWantsDomain(shared, domain('team-a', 'a', { relayRefs: [{ name: 'shared', namespace: 'mail' }] })),
    true,
  );
  assert.equal(relayWantsDomain(shared, domain('mail', 'a', { relayRefs: [{ name: 'shared' }] })), true);
  const bySelector = relay('mail', 'shared', { senderDomainSelector: { matchLabels: { relay: 'shared' } } });
  assert.equal(relayWantsDomain(bySelector, domain('team-a', 'a', { labels: { relay: 'shared' } })), true);
  assert.equal(relayWantsDomain(bySelector, domain('mail', 'a', { relays: ['shared'] })), false);
});

test('a relay sends for one SenderDomain per domain: its own namespace first, then the oldest, then by name', () => {
  const shared = relay('mail', 'shared', { allowedSenderDomains: { namespaces: { from: 'All' } } });
  const ref = [{ name: 'shared', namespace: 'mail' }];
  const early = domain('team-b', 'corp', {
    domain: 'corp.example',
    relayRefs: ref,
    created: '2026-01-01T00:00:00Z',
  });
  const late = domain('team-a', 'corp', {
    domain: 'corp.example',
    relayRefs: ref,
    created: '2026-06-01T00:00:00Z',
  });
  const other = domain('team-a', 'other', { relayRefs: ref });
  const first = relayAcceptance(shared, [late, other, early], labels);
  assert.deepEqual(
    first.accepted.map((entry) => `${entry.metadata.namespace ?? ''}/${entry.metadata.name ?? ''}`),
    ['team-b/corp', 'team-a/other'],
  );
  assert.equal(first.conflicts.get('team-a/corp'), early);
  const home = domain('mail', 'corp', {
    domain: 'CORP.example',
    relays: ['shared'],
    created: '2026-12-01T00:00:00Z',
  });
  const second = relayAcceptance(shared, [late, early, home], labels);
  assert.deepEqual(second.accepted, [home], 'the relay namespace wins, whatever the age or case');
  assert.equal(second.conflicts.size, 2);
  const tie = relayAcceptance(
    shared,
    [
      domain('team-b', 'x', { domain: 'x.example', relayRefs: ref }),
      domain('team-a', 'x', { domain: 'x.example', relayRefs: ref }),
    ],
    labels,
  );
  assert.equal(tie.accepted[0]?.metadata.namespace, 'team-a', 'same age: namespace/name order');
});

test('a deleted SenderDomain and one of a namespace not allowed are never sent for', () => {
  const shared = relay('mail', 'shared', {
    allowedSenderDomains: { namespaces: { from: 'Selector', selector: { matchLabels: { tenant: 'yes' } } } },
  });
  const ref = [{ name: 'shared', namespace: 'mail' }];
  const gone = domain('team-a', 'gone', { relayRefs: ref });
  gone.metadata.deletionTimestamp = '2026-12-05T00:00:00Z';
  const outside = domain('team-b', 'outside', { relayRefs: ref });
  const inside = domain('team-a', 'inside', { relayRefs: ref });
  assert.deepEqual(relayAcceptance(shared, [gone, outside, inside], labels).accepted, [inside]);
});

test('status.relayBindings: every named relay, found or not, and each selecting relay that allows the namespace', () => {
  const allowing = relay('mail', 'shared', { allowedSenderDomains: { namespaces: { from: 'All' } } });
  const closed = relay('mail', 'private');
  const selecting = relay('mail', 'by-label', {
    senderDomainSelector: { matchLabels: { tier: 'bulk' } },
    allowedSenderDomains: { namespaces: { from: 'All' } },
  });
  const selectingElsewhere = relay('other', 'by-label', { senderDomainSelector: {} });
  const rival = domain('mail', 'corp', { domain: 'corp.example', relays: ['shared'] });
  const subject = domain('team-a', 'corp', {
    domain: 'corp.example',
    labels: { tier: 'bulk' },
    relayRefs: [
      { name: 'shared', namespace: 'mail' },
      { name: 'private', namespace: 'mail' },
      { name: 'missing', namespace: 'mail' },
    ],
  });
  const relays = [allowing, closed, selecting, selectingElsewhere];
  const bindings = relayBindings(subject, relays, [rival, subject], labels);
  assert.deepEqual(
    bindings.map((entry) => [`${entry.namespace}/${entry.name}`, entry.accepted, entry.reason]),
    [
      ['mail/by-label', true, 'Accepted'],
      ['mail/missing', false, 'RelayNotFound'],
      ['mail/private', false, 'NotAllowedByNamespaces'],
      ['mail/shared', false, 'DomainConflict'],
    ],
    'other/by-label selects every domain but only of its own namespace: it never asked, it is not listed',
  );
  assert.match(bindings[3]?.message ?? '', /already sends for corp\.example as SenderDomain mail\/corp/);
  assert.match(bindings[2]?.message ?? '', /of its own namespace only, not of team-a/);
  assert.deepEqual(acceptingRelayNames(subject, bindings), ['mail/by-label']);
  const named = domain('mail', 'plain', { relays: ['by-label'] });
  const [notSelected] = relayBindings(named, [selecting], [named], labels);
  assert.equal(notSelected?.reason, 'NotSelected');
  assert.deepEqual(acceptingRelayNames(rival, relayBindings(rival, relays, [rival, subject], labels)), [
    'shared',
  ]);
});
