import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../operator/kube/resource.ts';
import { claimTemplatesConflict } from '../../../operator/reconcile/stateful-set-immutable.ts';

function statefulSet(claims: { storage: string; storageClassName?: string }[]): KubeObject {
  return {
    metadata: { name: 'outbound' },
    spec: {
      volumeClaimTemplates: claims.map(({ storage, storageClassName }) => ({
        metadata: { name: 'queue' },
        spec: {
          resources: { requests: { storage } },
          ...(storageClassName === undefined ? {} : { storageClassName }),
          volumeMode: 'Filesystem',
        },
      })),
    },
  };
}

test('claim templates: the same claims in another spelling are no conflict', () => {
  assert.equal(
    claimTemplatesConflict(statefulSet([{ storage: '1024Mi' }]), statefulSet([{ storage: '1Gi' }])),
    undefined,
  );
  assert.equal(claimTemplatesConflict(statefulSet([]), statefulSet([])), undefined);
});

test('claim templates: a new size, class or storage mode is a conflict naming the fix', () => {
  const live = statefulSet([{ storage: '1Gi', storageClassName: 'fast' }]);
  for (const desired of [
    statefulSet([{ storage: '2Gi', storageClassName: 'fast' }]),
    statefulSet([{ storage: '1Gi', storageClassName: 'slow' }]),
    statefulSet([]),
  ]) {
    assert.match(
      claimTemplatesConflict(desired, live) ?? '',
      /^spec\.queue .*kubectl delete statefulset outbound --cascade=orphan/,
    );
  }
});
