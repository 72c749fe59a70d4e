// List + watch for any kind, feeding a Store and change handlers. Written on our KubeClient rather
// than wrapping client-node's makeInformer: its ListWatch stops for good on any error other than a
// 410 or a client timeout (the caller must restart it and then misses the relist's events,
// kubernetes-client/javascript#795, #447, #1933). This loop never gives up: every failure is logged
// and retried after a capped exponential backoff; a 410 Gone (expired resourceVersion, compaction)
// relists, and the relist emits adds, updates and deletes for whatever changed in between.
import type { Log } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { isGone, KubeApiError, type KubeClient } from './client.ts';
import { sleep, type Clock } from './clock.ts';
import { apiVersionOf, collectionPath, keyOf, type KubeObject, type ResourceType } from './resource.ts';
import { Store } from './store.ts';
import { readWatchEvents, type WatchEvent } from './watch-stream.ts';

export interface InformerHandlers<T extends KubeObject> {
  added?(object: T): void;
  updated?(previous: T, current: T): void;
  deleted?(object: T): void;
}

export interface InformerOptions {
  /** Reads only: the informer never writes (a fake in unit tests). */
  readonly client: Pick<KubeClient, 'request' | 'stream'>;
  readonly resource: ResourceType;
  /** Only this namespace; all namespaces when undefined. */
  readonly namespace?: string;
  /** A label selector in query-string form. */
  readonly labelSelector?: string;
  /** A field selector, e.g. `metadata.name=x` to watch one object. */
  readonly fieldSelector?: string;
  readonly clock: Clock;
  readonly log: Log;
  readonly backoff?: BackoffPolicy;
  /** Server-side watch timeout; the watch is then reopened from the last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  readonly pageSize?: number;
}

interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

const defaultInformerBackoff: BackoffPolicy = { baseMs: 250, capMs: 30_000 };
/** A watch open at least this long counts as healthy. */
const healthyWatchMs = 1_000;

export class Informer<T extends KubeObject> {
  readonly store = new Store<T>();
  readonly #options: InformerOptions;
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #abort = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #loop: Promise<void> | undefined;
  #relists = 0;

  constructor(options: InformerOptions) {
    this.#options = options;
  }

  /** How many times the informer listed (the first list included). */
  get relists(): number {
    return this.#relists;
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves once the first list is in the cache (or the informer is stopped). */
  async waitForSync(): Promise<void> {
    if (this.#synced || this.#abort.signal.aborted) return;
    await new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { clock, log, resource } = this.#options;
    const backoff = this.#options.backoff ?? defaultInformerBackoff;
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      let watchOpenedAt: number | undefined;
      try {
        if (this.#resourceVersion === '') {
          await this.#relist();
          failures = 0;
        }
        watchOpenedAt = clock.now();
        await this.#watch();
        failures = 0;
        // A watch the server ends at once, again and again, must not become a busy loop.
        if (clock.now() - watchOpenedAt < healthyWatchMs)
          await sleep(clock, backoff.baseMs, this.#abort.signal);
      } catch (error) {
        if (this.#stopped()) break;
        if (isGone(error)) {
          log.info({ kind: resource.kind }, 'resourceVersion expired, relisting');
          this.#resourceVersion = '';
          continue;
        }
        // A watch that ran a while before failing was healthy: its failure starts a new series.
        if (watchOpenedAt !== undefined && clock.now() - watchOpenedAt >= healthyWatchMs) failures = 0;
        failures += 1;
        const delayMs = backoffDelay(backoff, failures);
        log.warn({ kind: resource.kind, err: error, retryInMs: delayMs }, 'list/watch failed');
        await sleep(clock, delayMs, this.#abort.signal);
      }
    }
  }

  #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #relist(): Promise<void> {
    const { client, resource, namespace, labelSelector, fieldSelector } = this.#options;
    const items: T[] = [];
    let resourceVersion: string;
    let continueToken: string | undefined;
    do {
      const page = await client.request<ObjectList<T>>({
        verb: 'list',
        path: collectionPath(resource, namespace),
        query: {
          limit: String(this.#options.pageSize ?? 500),
          continue: continueToken,
          labelSelector,
          fieldSelector,
        },
        signal: this.#abort.signal,
      });
      for (const item of page.items ?? []) {
        // Items of a list carry no apiVersion/kind; the cache holds them whole.
        items.push({ apiVersion: apiVersionOf(resource), kind: resource.kind, ...item });
      }
      resourceVersion = page.metadata?.resourceVersion ?? '';
      const token = page.metadata?.continue;
      continueToken = token === undefined || token === '' ? undefined : token;
    } while (continueToken !== undefined);
    this.#relists += 1;
    this.#replace(items);
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  #replace(items: readonly T[]): void {
    const listed = new Set(items.map(keyOf));
    for (const key of this.store.keys()) {
      if (listed.has(key)) continue;
      const removed = this.store.remove(key);
      if (removed !== undefined)
        this.#emit((handlers) => {
          handlers.deleted?.(removed);
        });
    }
    for (const item of items) this.#upsert(item);
  }

  #upsert(object: T): void {
    const previous = this.store.upsert(object);
    if (previous === undefined)
      this.#emit((handlers) => {
        handlers.added?.(object);
      });
    else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
      this.#emit((handlers) => {
        handlers.updated?.(previous, object);
      });
    }
  }

  async #watch(): Promise<void> {
    const { client, resource, namespace, labelSelector, fieldSelector, clock } = this.#options;
    // Spread watch timeouts so many informers do not reconnect in step (client-go does the same).
    const baseSeconds = this.#options.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = baseSeconds + Math.floor(Math.random() * baseSeconds);
    const stream = await client.stream({
      verb: 'watch',
      path: collectionPath(resource, namespace),
      query: {
        watch: 'true',
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
        labelSelector,
        fieldSelector,
      },
      signal: this.#abort.signal,
    });
    await readWatchEvents(
      stream,
      (event) => {
        this.#apply(event);
      },
      {
        clock,
        inactivityMs: (timeoutSeconds + 30) * 1_000,
      },
    );
  }

  #apply(event: WatchEvent): void {
    const { resource } = this.#options;
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; reason?: string; message?: string };
      throw new KubeApiError('watch', collectionPath(resource), status.code ?? 500, status);
    }
    const object = { apiVersion: apiVersionOf(resource), kind: resource.kind, ...event.object } as T;
    if (event.type === 'DELETED') {
      const removed = this.store.remove(keyOf(object));
      this.#emit((handlers) => {
        handlers.deleted?.(removed ?? object);
      });
    } else if (event.type === 'ADDED' || event.type === 'MODIFIED') {
      this.#upsert(object);
    }
    this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
  }

  #emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.#handlers) {
      try {
        call(handlers);
      } catch (error) {
        this.#options.log.error({ kind: this.#options.resource.kind, err: error }, 'informer handler threw');
      }
    }
  }
}
