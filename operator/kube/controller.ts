// Controllers and the manager that runs them. A controller names its primary kind (whose keys it
// reconciles) and the other kinds it watches with a mapping from a changed object to primary keys
// (e.g. an owned ConfigMap to its owner, a Secret to the SmtpRelays that reference it, found through
// an index on the primary cache). Informer handlers only enqueue keys; the workers run only while
// this replica leads; every primary key is enqueued when they start and at each resync.
import type { Log } from '../log.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import { NotLeadingError } from './fence.ts';
import { InformerGroup, type WatchedKind } from './informer-group.ts';

export type { ObjectReferences, WatchedKind } from './informer-group.ts';
import { keyOf, type KubeObject, type ResourceType } from './resource.ts';
import type { ReadonlyStore } from './store.ts';
import { WorkQueue, type ProcessOutcome, type ProcessResult } from './workqueue.ts';

export interface ControllerContext {
  readonly log: Log;
  /** The informer cache of a kind the manager watches (any controller's primary or watch). */
  cache<T extends KubeObject>(resource: ResourceType): ReadonlyStore<T>;
}

export interface SecondaryWatch extends WatchedKind {
  /** The primary keys to reconcile when `object` changes. */
  mapToKeys(object: KubeObject, context: ControllerContext): readonly string[];
}

export interface Controller {
  readonly name: string;
  readonly primary: WatchedKind;
  readonly watches?: readonly SecondaryWatch[];
  /** Keys reconciled at once by this controller; one at a time per key regardless. */
  readonly concurrency?: number;
  reconcile(key: string, context: ControllerContext): Promise<ProcessResult | undefined>;
}

export interface ReconcileObserver {
  reconciled(controller: string, outcome: ProcessOutcome, durationMs: number): void;
}

export interface ManagerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  /** Namespaces to watch; undefined for all. */
  readonly namespaces: readonly string[] | undefined;
  readonly resyncPeriodMs: number;
  readonly backoff: BackoffPolicy;
  /** Keys reconciled at once by a controller that does not set its own concurrency. */
  readonly defaultConcurrency: number;
  readonly observer?: ReconcileObserver;
}

function kindId(resource: ResourceType): string {
  return `${resource.group}/${resource.version}/${resource.plural}`;
}

export class ControllerManager {
  readonly #options: ManagerOptions;
  readonly #controllers: Controller[] = [];
  readonly #groups = new Map<string, InformerGroup>();
  readonly #selectors = new Map<string, string | undefined>();
  readonly #queues = new Map<string, WorkQueue>();
  readonly #context: ControllerContext;
  #informersStarted = false;
  #wantWorkers = false;
  #draining: Promise<void> = Promise.resolve();

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#context = {
      log: options.log,
      cache: <T extends KubeObject>(resource: ResourceType) =>
        this.#group(resource) as unknown as ReadonlyStore<T>,
    };
  }

  /** True once every informer has listed its kind: the cache can be trusted (readiness). */
  get synced(): boolean {
    return [...this.#groups.values()].every((group) => group.synced);
  }

  get workersRunning(): boolean {
    return this.#queues.size > 0;
  }

  /** Queued keys per controller, for the queue depth metric. */
  queueDepths(): [string, number][] {
    return this.#controllers.map((controller) => [
      controller.name,
      this.#queues.get(controller.name)?.depth ?? 0,
    ]);
  }

  register(controller: Controller): void {
    if (this.#informersStarted) throw new Error(`register ${controller.name} before the informers start`);
    if (this.#controllers.some((known) => known.name === controller.name)) {
      throw new Error(`a controller named ${controller.name} is already registered`);
    }
    this.#controllers.push(controller);
    const enqueue = (keys: readonly string[]) => {
      const queue = this.#queues.get(controller.name);
      if (queue !== undefined) for (const key of keys) queue.add(key);
    };
    this.#watch(controller.primary, (object) => {
      enqueue([keyOf(object)]);
    });
    for (const watch of controller.watches ?? []) {
      this.#watch(watch, (object) => {
        enqueue(watch.mapToKeys(object, this.#context));
      });
    }
  }

  /** Starts every informer and resolves when all have listed (or `signal` aborts). */
  async startInformers(signal?: AbortSignal): Promise<void> {
    this.#informersStarted = true;
    const groups = [...this.#groups.values()];
    for (const group of groups) group.start();
    const synced = Promise.all(groups.map((group) => group.waitForSync()));
    await (signal === undefined ? synced : Promise.race([synced, abortion(signal)]));
  }

  /**
   * Starts one work queue per controller and enqueues every primary key. Call when leading. Waits
   * for the queues of a previous term to drain, so no key is ever reconciled twice at once.
   */
  startWorkers(): void {
    this.#wantWorkers = true;
    void this.#draining.then(() => {
      if (this.#wantWorkers && !this.workersRunning) this.#startQueues();
    });
  }

  #startQueues(): void {
    const { clock, backoff, resyncPeriodMs, log, observer } = this.#options;
    for (const controller of this.#controllers) {
      const queue = new WorkQueue({
        clock,
        backoff,
        concurrency: controller.concurrency ?? this.#options.defaultConcurrency,
        onProcessed: (key, outcome, durationMs, error) => {
          observer?.reconciled(controller.name, outcome, durationMs);
          if (outcome === 'error' && error instanceof NotLeadingError) {
            // The lease is lost or lapsing: the write was fenced, nothing is wrong with the key.
            log.info({ controller: controller.name, key, err: error }, 'reconcile cut off by the fence');
          } else if (outcome === 'error') {
            log.warn({ controller: controller.name, key, err: error }, 'reconcile failed, retrying');
          }
        },
      });
      this.#queues.set(controller.name, queue);
      const primaryKeys = () => this.#group(controller.primary.resource).keys();
      queue.start(async (key) => {
        // A reference made since the last list must be in the cache before the reconcile reads it.
        await Promise.all([...this.#groups.values()].map((group) => group.waitForReferenced()));
        return controller.reconcile(key, this.#context);
      });
      for (const key of primaryKeys()) queue.add(key);
      queue.resyncEvery(resyncPeriodMs, primaryKeys);
    }
    log.info({ controllers: this.#controllers.map((controller) => controller.name) }, 'workers started');
  }

  /** Stops the workers (when leadership is lost or on shutdown), waiting for reconciles in flight. */
  async stopWorkers(): Promise<void> {
    this.#wantWorkers = false;
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    const drained = Promise.all(queues.map((queue) => queue.shutDown()));
    const previous = this.#draining;
    this.#draining = Promise.all([previous, drained]).then(() => undefined);
    await this.#draining;
    if (queues.length > 0) this.#options.log.info({}, 'workers stopped');
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    await Promise.all([...this.#groups.values()].map((group) => group.stop()));
  }

  /** The cache of a watched kind, as controllers see it. */
  cache<T extends KubeObject>(resource: ResourceType): ReadonlyStore<T> {
    return this.#context.cache<T>(resource);
  }

  #group(resource: ResourceType): InformerGroup {
    const group = this.#groups.get(kindId(resource));
    if (group === undefined) throw new Error(`${resource.kind} is not watched by any registered controller`);
    return group;
  }

  #watch(kind: WatchedKind, onChange: (object: KubeObject) => void): void {
    const id = kindId(kind.resource);
    let group = this.#groups.get(id);
    if (group === undefined) {
      group = new InformerGroup(this.#options, kind);
      this.#groups.set(id, group);
      this.#selectors.set(id, kind.labelSelector);
    } else if (this.#selectors.get(id) !== kind.labelSelector) {
      throw new Error(
        `${kind.resource.kind} is already watched with label selector ${JSON.stringify(this.#selectors.get(id) ?? '')}, not ${JSON.stringify(kind.labelSelector ?? '')}: one cache per kind`,
      );
    }
    for (const [name, indexFunction] of Object.entries(kind.indexes ?? {}))
      group.addIndex(name, indexFunction);
    // References first: the objects they name are being watched before the change is reconciled.
    for (const references of kind.references ?? []) {
      const referrer = (object: KubeObject) => `${id} ${keyOf(object)}`;
      const target = () => this.#group(references.resource);
      group.addHandlers({
        added: (object) => {
          target().reference(referrer(object), references.keysOf(object));
        },
        updated: (_previous, current) => {
          target().reference(referrer(current), references.keysOf(current));
        },
        deleted: (object) => {
          target().reference(referrer(object), []);
        },
      });
    }
    group.addHandlers({
      added: onChange,
      // Both versions: a reference that moved away must reconcile the key it left as well.
      updated: (previous, current) => {
        onChange(previous);
        onChange(current);
      },
      deleted: onChange,
    });
  }
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else
      signal.addEventListener(
        'abort',
        () => {
          resolve();
        },
        { once: true },
      );
  });
}
