// Writes an object's status through the status subresource, only when it changed, always with the
// observedGeneration it was computed for, keeping the transition time of unchanged conditions.
import { fieldManager } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import { keyOf, objectPath, parseKey, type KubeObject, type ResourceType } from './resource.ts';
import { nextStatus, sameStatus, type DesiredStatus, type ObjectStatus } from './status-diff.ts';

export interface WithStatus extends KubeObject {
  status?: ObjectStatus;
}

export class StatusWriter {
  readonly #client: KubeClient;
  readonly #clock: Clock;

  constructor(client: KubeClient, clock: Clock) {
    this.#client = client;
    this.#clock = clock;
  }

  /** Writes the status `desired` implies for `object` (as read); returns whether a write was sent. */
  async write(resource: ResourceType, object: WithStatus, desired: DesiredStatus): Promise<boolean> {
    const generation = object.metadata?.generation ?? 0;
    const status = nextStatus(object.status, desired, generation, this.#clock.now());
    if (sameStatus(object.status, status)) return false;
    await this.#client.request({
      verb: 'apply',
      path: objectPath(resource, parseKey(keyOf(object)), 'status'),
      query: { fieldManager, force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace },
        status,
      },
    });
    return true;
  }
}
