// Owner references: everything the operator creates names its owner as controller, so the garbage
// collector deletes it with the owner and watches can map a change back to the owner's key.
import { keyOf, type KubeObject, type OwnerReference } from './resource.ts';

/** The ownerReference that makes `owner` the controller of an object; throws naming a missing field. */
export function controllerReference(owner: KubeObject): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  for (const [field, value] of Object.entries({
    apiVersion,
    kind,
    'metadata.name': name,
    'metadata.uid': uid,
  })) {
    if (value === undefined || value === '') {
      throw new Error(
        `an owner needs ${field} to be set (owner ${keyOf(owner)}); read it from the apiserver first`,
      );
    }
  }
  return {
    apiVersion: apiVersion ?? '',
    kind: kind ?? '',
    name: name ?? '',
    uid: uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The key of the object's controller if it is of `kind` (for mapping owned objects to owners). */
export function controllerKeyOf(object: KubeObject, kind: string): string | undefined {
  const owner = object.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  if (owner?.kind !== kind) return undefined;
  const namespace = object.metadata?.namespace ?? '';
  return namespace === '' ? owner.name : `${namespace}/${owner.name}`;
}
