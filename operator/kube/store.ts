// The informer's cache: the newest copy of each object by `namespace/name`, listable by namespace
// and label selector, with named secondary indexes (e.g. "SmtpRelays by referenced Secret").
// Pure data structure: no I/O, no clock.
import { matchesSelector, type LabelSelector } from './label-selector.ts';
import { keyOf, type KubeObject } from './resource.ts';

/** Index values of one object, e.g. the keys of the Secrets an SmtpRelay references. */
export type IndexFunction<T extends KubeObject> = (object: T) => readonly string[];

export interface ReadonlyStore<T extends KubeObject> {
  get(key: string): T | undefined;
  keys(): string[];
  list(filter?: { namespace?: string; selector?: LabelSelector }): T[];
  /** The objects whose index function returned `value`. */
  byIndex(index: string, value: string): T[];
}

export class Store<T extends KubeObject> implements ReadonlyStore<T> {
  readonly #objects = new Map<string, T>();
  readonly #indexFunctions = new Map<string, IndexFunction<T>>();
  /** index name → index value → object keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  addIndex(name: string, indexFunction: IndexFunction<T>): void {
    if (this.#indexFunctions.has(name)) throw new Error(`index ${name} is already defined`);
    this.#indexFunctions.set(name, indexFunction);
    this.#indexes.set(name, new Map());
    for (const [key, object] of this.#objects) this.#indexObject(name, key, object);
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  list(filter: { namespace?: string; selector?: LabelSelector } = {}): T[] {
    const result: T[] = [];
    for (const object of this.#objects.values()) {
      if (filter.namespace !== undefined && (object.metadata?.namespace ?? '') !== filter.namespace) continue;
      if (filter.selector && !matchesSelector(object.metadata?.labels, filter.selector)) continue;
      result.push(object);
    }
    return result;
  }

  byIndex(index: string, value: string): T[] {
    const values = this.#indexes.get(index);
    if (values === undefined) throw new Error(`no index named ${index}`);
    const result: T[] = [];
    for (const key of values.get(value) ?? []) {
      const object = this.#objects.get(key);
      if (object !== undefined) result.push(object);
    }
    return result;
  }

  /** Stores the object; returns the copy it replaced, if any. */
  upsert(object: T): T | undefined {
    const key = keyOf(object);
    const previous = this.#objects.get(key);
    if (previous !== undefined) this.#unindex(key, previous);
    this.#objects.set(key, object);
    for (const name of this.#indexFunctions.keys()) this.#indexObject(name, key, object);
    return previous;
  }

  /** Removes the object with this key; returns it, if it was there. */
  remove(key: string): T | undefined {
    const previous = this.#objects.get(key);
    if (previous === undefined) return undefined;
    this.#unindex(key, previous);
    this.#objects.delete(key);
    return previous;
  }

  #indexObject(name: string, key: string, object: T): void {
    const indexFunction = this.#indexFunctions.get(name);
    const values = this.#indexes.get(name);
    if (indexFunction === undefined || values === undefined) return;
    for (const value of indexFunction(object)) {
      let keys = values.get(value);
      if (keys === undefined) {
        keys = new Set();
        values.set(value, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, indexFunction] of this.#indexFunctions) {
      const values = this.#indexes.get(name);
      if (values === undefined) continue;
      for (const value of indexFunction(object)) {
        const keys = values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) values.delete(value);
      }
    }
  }
}
