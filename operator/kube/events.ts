// Kubernetes Events (core/v1) about the objects the operator manages. A repeat of an event (same
// object, type, reason and message) increments the count of the Event already written instead of
// creating another object, as kubectl describe and client-go's recorder expect. Recording never
// fails a reconcile: errors are logged.
import type { Log } from '../log.ts';
import { isNotFound, type KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import { coreResources, collectionPath, objectPath, type KubeObject } from './resource.ts';
import { kubeTime } from './status-diff.ts';

export const eventTypes = ['Normal', 'Warning'] as const;
export type EventType = (typeof eventTypes)[number];

const maxMessageLength = 1_024;

interface Recorded {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

export interface EventRecorderOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  readonly component: string;
  /** Identifies this replica (the pod name). */
  readonly instance: string;
  /** How many distinct events are remembered for aggregation. */
  readonly cacheSize?: number;
}

export class EventRecorder {
  readonly #options: EventRecorderOptions;
  /** Aggregation key → the Event written for it; a Map keeps insertion order for eviction. */
  readonly #recorded = new Map<string, Recorded>();
  readonly #pending = new Map<string, Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  async record(involved: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.length > maxMessageLength ? `${message.slice(0, maxMessageLength - 3)}...` : message;
    const key = JSON.stringify([involved.metadata?.uid, type, reason, text]);
    // Repeats of one event are written one after the other, so concurrent repeats still aggregate.
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const current = previous.then(() => this.#write(key, involved, type, reason, text));
    this.#pending.set(key, current);
    await current;
    if (this.#pending.get(key) === current) this.#pending.delete(key);
  }

  async #write(
    key: string,
    involved: KubeObject,
    type: EventType,
    reason: string,
    text: string,
  ): Promise<void> {
    try {
      const previous = this.#recorded.get(key);
      if (previous !== undefined && (await this.#increment(previous))) {
        // Refresh the key's place so the most recently used events are evicted last.
        this.#recorded.delete(key);
        this.#recorded.set(key, previous);
        return;
      }
      this.#remember(key, await this.#create(involved, type, reason, text));
    } catch (error) {
      this.#options.log.warn({ reason, err: error }, 'recording an event failed');
    }
  }

  /** Bumps the count of an Event already written; false when it is gone (expired or deleted). */
  async #increment(recorded: Recorded): Promise<boolean> {
    try {
      await this.#options.client.request({
        verb: 'patch',
        path: objectPath(coreResources.event, recorded),
        contentType: 'application/merge-patch+json',
        body: { count: recorded.count + 1, lastTimestamp: kubeTime(this.#options.clock.now()) },
      });
      recorded.count += 1;
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async #create(involved: KubeObject, type: EventType, reason: string, message: string): Promise<Recorded> {
    const namespace = involved.metadata?.namespace ?? 'default';
    const now = this.#options.clock.now();
    const created = await this.#options.client.request<KubeObject>({
      verb: 'create',
      path: collectionPath(coreResources.event, namespace),
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${involved.metadata?.name ?? 'unnamed'}.`, namespace },
        involvedObject: {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          name: involved.metadata?.name,
          namespace: involved.metadata?.namespace,
          uid: involved.metadata?.uid,
          resourceVersion: involved.metadata?.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: kubeTime(now),
        lastTimestamp: kubeTime(now),
        source: { component: this.#options.component },
        reportingComponent: this.#options.component,
        reportingInstance: this.#options.instance,
      },
    });
    return { namespace, name: created.metadata?.name ?? '', count: 1 };
  }

  #remember(key: string, recorded: Recorded): void {
    this.#recorded.delete(key);
    this.#recorded.set(key, recorded);
    const limit = this.#options.cacheSize ?? 4_096;
    while (this.#recorded.size > limit) {
      const oldest = this.#recorded.keys().next();
      if (oldest.done) break;
      this.#recorded.delete(oldest.value);
    }
  }
}
