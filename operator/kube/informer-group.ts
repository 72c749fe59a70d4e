// The informers of one kind, seen as one cache: one per watched namespace (or one for all), limited
// by the kind's label selector, plus one informer per object that other objects reference by name
// (a `metadata.name` field selector in its namespace). The referenced ones are watched only while
// something references them, so a kind like Secret is cached only for the objects the operator owns
// (labelled) or that its objects name, never every object of the kind (case 37).
import type { Log } from '../log.ts';
import type { KubeClient } from './client.ts';
import { sleep, type Clock } from './clock.ts';
import { Informer, type InformerHandlers } from './informer.ts';
import { keyOf, parseKey, type KubeObject, type ResourceType } from './resource.ts';
import type { IndexFunction, ReadonlyStore } from './store.ts';

export interface WatchedKind {
  readonly resource: ResourceType;
  /** Label selector (query-string form) limiting what is watched and cached. */
  readonly labelSelector?: string;
  /** Secondary indexes on this kind's cache, by name. */
  readonly indexes?: Readonly<Record<string, IndexFunction<KubeObject>>>;
  /**
   * Objects of another watched kind that each object of this kind names (e.g. the Secrets an
   * SmtpRelay references): those outside that kind's label selector are watched one by one, by name,
   * while something names them.
   */
  readonly references?: readonly ObjectReferences[];
}

export interface ObjectReferences {
  readonly resource: ResourceType;
  /** `namespace/name` of each object of `resource` that `object` names. */
  keysOf(object: KubeObject): readonly string[];
}

/** What an informer group is built with (the controller manager hands its own options). */
export interface InformerGroupOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  /** Namespaces to watch; undefined for all. */
  readonly namespaces: readonly string[] | undefined;
}

/** How long a reconcile waits for the first list of a newly referenced object before it goes on. */
const referencedSyncWaitMs = 5_000;

export class InformerGroup implements ReadonlyStore<KubeObject> {
  readonly #options: InformerGroupOptions;
  readonly #kind: WatchedKind;
  readonly #selected: Informer<KubeObject>[];
  readonly #byNamespace: ReadonlyMap<string, Informer<KubeObject>>;
  readonly #referenced = new Map<string, Informer<KubeObject>>();
  /** referenced object key → the referrers naming it */
  readonly #referrers = new Map<string, Set<string>>();
  /** referrer → the object keys it names */
  readonly #references = new Map<string, readonly string[]>();
  readonly #handlers: InformerHandlers<KubeObject>[] = [];
  readonly #indexes: [string, IndexFunction<KubeObject>][] = [];
  #started = false;

  constructor(options: InformerGroupOptions, kind: WatchedKind) {
    this.#options = options;
    this.#kind = kind;
    const namespaces = kind.resource.namespaced ? (options.namespaces ?? [undefined]) : [undefined];
    const byNamespace = new Map<string, Informer<KubeObject>>();
    this.#selected = namespaces.map((namespace) => {
      const informer = this.#informer({
        ...(namespace === undefined ? {} : { namespace }),
        ...(kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
      });
      if (namespace !== undefined) byNamespace.set(namespace, informer);
      return informer;
    });
    this.#byNamespace = byNamespace;
  }

  /** Every informer of the group, the referenced ones included (tests and metrics count them). */
  get informers(): Informer<KubeObject>[] {
    return [...this.#selected, ...this.#referenced.values()];
  }

  /** The keys of the objects watched one by one because something references them. */
  get referencedKeys(): string[] {
    return [...this.#referenced.keys()];
  }

  addIndex(name: string, indexFunction: IndexFunction<KubeObject>): void {
    this.#indexes.push([name, indexFunction]);
    for (const informer of this.informers) informer.store.addIndex(name, indexFunction);
  }

  addHandlers(handlers: InformerHandlers<KubeObject>): void {
    this.#handlers.push(handlers);
    for (const informer of this.informers) informer.addHandlers(handlers);
  }

  start(): void {
    this.#started = true;
    for (const informer of this.informers) informer.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.#selected.map((informer) => informer.waitForSync()));
  }

  /**
   * Waits (a bounded time) until each referenced object has been listed once, so a reconcile right
   * after a new reference sees the object rather than reporting it missing.
   */
  async waitForReferenced(signal?: AbortSignal): Promise<void> {
    const pending = [...this.#referenced.values()].filter((informer) => !informer.hasSynced);
    if (pending.length === 0) return;
    await Promise.race([
      Promise.all(pending.map((informer) => informer.waitForSync())),
      sleep(this.#options.clock, referencedSyncWaitMs, signal),
    ]);
  }

  /** Sets the objects `referrer` names (keys `namespace/name`); an empty list drops its references. */
  reference(referrer: string, keys: readonly string[]): void {
    const previous = this.#references.get(referrer) ?? [];
    const next = [...new Set(keys)];
    if (next.length === 0) this.#references.delete(referrer);
    else this.#references.set(referrer, next);
    for (const key of previous) {
      if (next.includes(key)) continue;
      const referrers = this.#referrers.get(key);
      referrers?.delete(referrer);
      if (referrers?.size === 0) this.#unwatch(key);
    }
    for (const key of next) {
      let referrers = this.#referrers.get(key);
      if (referrers === undefined) {
        referrers = new Set();
        this.#referrers.set(key, referrers);
        this.#watchByName(key);
      }
      referrers.add(referrer);
    }
  }

  get(key: string): KubeObject | undefined {
    const [only] = this.#selected;
    const selected =
      this.#byNamespace.size === 0
        ? only?.store.get(key)
        : this.#byNamespace.get(parseKey(key).namespace)?.store.get(key);
    return selected ?? this.#referenced.get(key)?.store.get(key);
  }

  keys(): string[] {
    return [...new Set(this.informers.flatMap((informer) => informer.store.keys()))];
  }

  list(filter?: Parameters<ReadonlyStore<KubeObject>['list']>[0]): KubeObject[] {
    return unique(this.informers.flatMap((informer) => informer.store.list(filter)));
  }

  byIndex(index: string, value: string): KubeObject[] {
    return unique(this.informers.flatMap((informer) => informer.store.byIndex(index, value)));
  }

  /** True once the selected informers have listed: referenced ones are awaited per reconcile. */
  get synced(): boolean {
    return this.#selected.every((informer) => informer.hasSynced);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  #informer(selection: { namespace?: string; labelSelector?: string; fieldSelector?: string }) {
    const informer = new Informer<KubeObject>({
      client: this.#options.client,
      resource: this.#kind.resource,
      clock: this.#options.clock,
      log: this.#options.log,
      ...selection,
    });
    for (const [name, indexFunction] of this.#indexes) informer.store.addIndex(name, indexFunction);
    for (const handlers of this.#handlers) informer.addHandlers(handlers);
    return informer;
  }

  #watchByName(key: string): void {
    const { namespace, name } = parseKey(key);
    const informer = this.#informer({
      ...(this.#kind.resource.namespaced ? { namespace } : {}),
      fieldSelector: `metadata.name=${name}`,
    });
    this.#referenced.set(key, informer);
    if (this.#started) informer.start();
  }

  #unwatch(key: string): void {
    this.#referrers.delete(key);
    const informer = this.#referenced.get(key);
    this.#referenced.delete(key);
    void informer?.stop();
  }
}

function unique(objects: readonly KubeObject[]): KubeObject[] {
  const byKey = new Map<string, KubeObject>();
  for (const object of objects) if (!byKey.has(keyOf(object))) byKey.set(keyOf(object), object);
  return [...byKey.values()];
}
