// Server-side apply with one field manager and force, writing only when something changed: the
// desired object carries a hash of itself in an annotation; when the live object has the same hash
// and still holds every desired field with the desired value, nothing is sent. A field dropped from
// the desired object changes the hash, so the apply that removes it is sent; a field changed by
// someone else breaks the subset check, so the apply that restores it is sent.
import { isNotFound, type KubeClient } from './client.ts';
import { contentHash, isSubset } from './object-compare.ts';
import { keyOf, objectPath, parseKey, type KubeObject, type ResourceType } from './resource.ts';

export const fieldManager = 'mailfleet-operator';
export const appliedHashAnnotation = 'mailfleet.dev/applied-hash';

/** The desired object with its content hash annotation. Pure. */
export function withAppliedHash<T extends KubeObject>(desired: T): T {
  const annotations = Object.fromEntries(
    Object.entries(desired.metadata?.annotations ?? {}).filter(([name]) => name !== appliedHashAnnotation),
  );
  const unhashed = { ...desired, metadata: { ...desired.metadata, annotations } };
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...annotations, [appliedHashAnnotation]: contentHash(unhashed) },
    },
  };
}

/** Whether applying `desired` (already hashed) would change `live`. Pure. */
export function applyNeeded(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (live === undefined) return true;
  const wanted = desired.metadata?.annotations?.[appliedHashAnnotation];
  if (live.metadata?.annotations?.[appliedHashAnnotation] !== wanted) return true;
  return !isSubset(desired, live);
}

export interface ApplyResult<T extends KubeObject> {
  readonly written: boolean;
  readonly object: T;
}

export class Applier {
  readonly #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /**
   * Applies `desired` unless the live object already matches it. Pass `live` from an informer cache
   * to save the read; without it the object is read from the apiserver.
   */
  async apply<T extends KubeObject>(
    resource: ResourceType,
    desired: T,
    options: { live?: T | undefined } = {},
  ): Promise<ApplyResult<T>> {
    const hashed = withAppliedHash(desired);
    const path = objectPath(resource, parseKey(keyOf(desired)));
    const live = 'live' in options ? options.live : await this.#read<T>(path);
    if (live !== undefined && !applyNeeded(hashed, live)) return { written: false, object: live };
    const object = await this.#client.request<T>({
      verb: 'apply',
      path,
      query: { fieldManager, force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: hashed,
    });
    return { written: true, object };
  }

  async #read<T>(path: string): Promise<T | undefined> {
    try {
      return await this.#client.request<T>({ verb: 'get', path });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
