// Which optional kinds (ServiceMonitor, PrometheusRule, Certificate) the cluster serves, found by
// API discovery (GET /apis/<group>/<version>) and remembered for a while: CRDs come and go rarely,
// and a reconcile must not cost a discovery round trip each time.
import type { Log } from '../log.ts';
import { isNotFound, type KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import type { ResourceType } from '../kube/resource.ts';
import { servedName, type ServedResources } from '../render/relay-resources.ts';

interface DiscoveryList {
  resources?: { name?: string }[];
}

export class ServedKinds {
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #kinds: readonly ResourceType[];
  readonly #ttlMs: number;
  #known: { at: number; served: ServedResources } | undefined;

  constructor(options: {
    client: Pick<KubeClient, 'request'>;
    clock: Clock;
    log: Log;
    kinds: readonly ResourceType[];
    ttlMs: number;
  }) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#kinds = options.kinds;
    this.#ttlMs = options.ttlMs;
  }

  async served(): Promise<ServedResources> {
    const now = this.#clock.now();
    if (this.#known !== undefined && now - this.#known.at < this.#ttlMs) return this.#known.served;
    const served = new Set<string>();
    const groupVersions = new Set(this.#kinds.map((kind) => `${kind.group}/${kind.version}`));
    for (const groupVersion of groupVersions) {
      try {
        const list = await this.#client.request<DiscoveryList>({
          verb: 'get',
          path: `/apis/${groupVersion}`,
        });
        const names = new Set((list.resources ?? []).map((resource) => resource.name));
        for (const kind of this.#kinds) {
          if (`${kind.group}/${kind.version}` === groupVersion && names.has(kind.plural))
            served.add(servedName(kind));
        }
      } catch (error) {
        if (!isNotFound(error)) {
          // Unknown is not "absent": keep what was known rather than delete objects on a blip.
          this.#log.warn({ groupVersion, err: error }, 'API discovery failed');
          for (const kind of this.#kinds) {
            const name = servedName(kind);
            if (`${kind.group}/${kind.version}` === groupVersion && this.#known?.served.has(name))
              served.add(name);
          }
        }
      }
    }
    this.#known = { at: now, served };
    return served;
  }
}
