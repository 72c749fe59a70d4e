// One Lease held in memory behind the client's request() (get/create/update with resourceVersion
// conflicts), so the elector can be driven on the fake clock; the test can hold its answers back
// to act while a request of the elector is in flight.
import { KubeApiError, type ApiRequest } from '../../../operator/kube/client.ts';
import type { LeaseSpec } from '../../../operator/kube/lease.ts';

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: LeaseSpec;
}

export class InMemoryLeaseApi {
  lease: StoredLease | undefined;
  /** Every write the elector sent, in order: the holder it wrote. */
  readonly writes: string[] = [];
  #version = 0;
  #held: (() => void)[] = [];
  #holding = false;

  get holder(): string | undefined {
    return this.lease?.spec.holderIdentity;
  }

  /** Answers wait until release() from now on. */
  hold(): void {
    this.#holding = true;
  }

  get waiting(): number {
    return this.#held.length;
  }

  release(): void {
    this.#holding = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  /** Another replica writes the lease (as holder, or '' to release it). */
  setHolder(holder: string, renewTime: string): void {
    this.#store({ holderIdentity: holder, leaseDurationSeconds: 15, renewTime, leaseTransitions: 1 });
  }

  async request<T>(request: ApiRequest): Promise<T> {
    if (this.#holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    const body = request.body as { metadata?: { resourceVersion?: string }; spec: LeaseSpec } | undefined;
    if (request.verb === 'get') {
      if (this.lease === undefined) throw new KubeApiError('get', request.path, 404, { reason: 'NotFound' });
      return structuredClone(this.lease) as T;
    }
    if (body === undefined) throw new Error(`${request.verb} ${request.path} without a body`);
    if (request.verb === 'create' && this.lease !== undefined) {
      throw new KubeApiError('create', request.path, 409, { reason: 'AlreadyExists' });
    }
    if (
      request.verb === 'update' &&
      body.metadata?.resourceVersion !== this.lease?.metadata.resourceVersion
    ) {
      throw new KubeApiError('update', request.path, 409, { reason: 'Conflict' });
    }
    this.writes.push(body.spec.holderIdentity ?? '');
    this.#store(body.spec);
    return structuredClone(this.lease) as T;
  }

  #store(spec: LeaseSpec): void {
    this.#version += 1;
    this.lease = {
      metadata: { name: 'lease', namespace: 'ns', resourceVersion: String(this.#version) },
      spec: structuredClone(spec),
    };
  }
}
