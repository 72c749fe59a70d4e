// Case 37: the objects of a kind watched by name are exactly those some referrer names now. Each
// step sets what one referrer names; the group then watches (one informer each) the union of what
// every referrer names, whatever the order of the changes, with duplicates counted once. Nothing is
// started, so no request is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../operator/kube/client.ts';
import { InformerGroup } from '../../../operator/kube/informer-group.ts';
import { coreResources } from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { FakeClock } from './fake-clock.ts';

const steps: readonly [referrer: string, names: readonly string[], watched: readonly string[]][] = [
  ['relay a', ['mail/tls', 'mail/users'], ['mail/tls', 'mail/users']],
  ['relay b', ['mail/users'], ['mail/tls', 'mail/users']],
  ['relay a', ['mail/tls'], ['mail/tls', 'mail/users']],
  ['relay b', [], ['mail/tls']],
  ['domain c', ['mail/dkim', 'mail/dkim'], ['mail/dkim', 'mail/tls']],
  ['relay a', [], ['mail/dkim']],
  ['domain c', [], []],
];

test('case 37: the Secrets watched by name are the union of what referrers name now', () => {
  const group = new InformerGroup(
    {
      client: new KubeClient(new KubeConfig()),
      clock: new FakeClock(),
      log: silentLog(),
      namespaces: undefined,
    },
    { resource: coreResources.secret, labelSelector: 'app.kubernetes.io/managed-by=mailfleet-operator' },
  );
  for (const [index, [referrer, names, watched]] of steps.entries()) {
    group.reference(referrer, names);
    assert.deepEqual(group.referencedKeys.sort(), [...watched], `step ${String(index + 1)}: ${referrer}`);
    assert.equal(group.informers.length, 1 + watched.length, 'the labelled informer plus one per name');
  }
});
