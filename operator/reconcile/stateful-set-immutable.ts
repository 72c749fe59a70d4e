// A StatefulSet's volume claim templates cannot change once it exists: a new queue size, storage
// class or storage mode would make every apply fail. Detected before applying, so the status can
// say what to do instead of retrying a refused write forever. Pure.
import type { KubeObject } from '../kube/resource.ts';
import { parseByteQuantity } from '../render/units.ts';

interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string | number } } };
}

function claims(statefulSet: KubeObject): string {
  const templates =
    (statefulSet['spec'] as { volumeClaimTemplates?: ClaimTemplate[] } | undefined)?.volumeClaimTemplates ??
    [];
  return JSON.stringify(
    templates.map((template) => {
      const storage = template.spec?.resources?.requests?.storage;
      return [
        template.metadata?.name ?? '',
        storage === undefined ? null : parseByteQuantity(storage),
        template.spec?.storageClassName ?? null,
      ];
    }),
  );
}

/** Why `desired` cannot be applied over `live`, or undefined when it can. */
export function claimTemplatesConflict(desired: KubeObject, live: KubeObject): string | undefined {
  if (claims(desired) === claims(live)) return undefined;
  const name = live.metadata?.name ?? '';
  return `spec.queue (storage, size or storageClassName) changed, but the volume claim templates of an existing StatefulSet cannot change; the StatefulSet is left as it is. To apply the new queue settings, delete it without deleting its pods (kubectl delete statefulset ${name} --cascade=orphan) and the operator recreates it`;
}
