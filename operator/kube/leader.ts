// Leader election on a Lease so that two operator replicas can run: only the holder runs the
// workers. The holder renews every retry period and steps down when it has not managed to renew
// within the renew deadline (shorter than the lease duration, so it stops before a standby may take
// over); a standby takes the lease once it has seen no renewal for a whole lease duration; on
// shutdown the holder releases the lease so a standby takes over at once.
import { errorMessage, type Log } from '../log.ts';
import { isConflict, isNotFound, type KubeClient } from './client.ts';
import { sleep, type Clock } from './clock.ts';
import {
  decideLease,
  releasedLease,
  sameLeaseRecord,
  type LeaseObservation,
  type LeaseSpec,
} from './lease.ts';
import { coreResources, collectionPath, objectPath, type KubeObject } from './resource.ts';

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderElectionOptions extends LeaderElectionConfig {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Log;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

type Attempt = 'held' | 'held-by-another' | 'failed';

/** Refuses timings under which two replicas could lead at once; names the values. */
export function checkLeaderElectionTimings(config: LeaderElectionConfig): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = config;
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
    throw new Error(
      `leader election needs 0 < retry period < renew deadline < lease duration, got retry period ${retryPeriodMs} ms, renew deadline ${renewDeadlineMs} ms, lease duration ${leaseDurationMs} ms`,
    );
  }
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #abort = new AbortController();
  #observation: LeaseObservation = { spec: undefined, observedAt: 0 };
  #leading = false;
  #lastRenewAt = 0;
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    checkLeaderElectionTimings(options);
    this.#options = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader steps down and releases the lease. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (this.#leading) {
      this.#stepDown('shutting down');
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.#options;
    while (!this.#abort.signal.aborted) {
      const attempt = await this.#tryAcquireOrRenew();
      const now = clock.now();
      if (attempt === 'held') {
        this.#lastRenewAt = now;
        if (!this.#leading && !this.#stopping()) {
          this.#leading = true;
          this.#options.log.info(
            { lease: this.#options.name, identity: this.#options.identity },
            'became leader',
          );
          this.#options.onStartedLeading();
        }
      } else if (
        this.#leading &&
        (attempt === 'held-by-another' || now - this.#lastRenewAt >= renewDeadlineMs)
      ) {
        this.#stepDown(
          attempt === 'held-by-another' ? 'another replica holds the lease' : 'renew deadline passed',
        );
      }
      await sleep(clock, retryPeriodMs, this.#abort.signal);
    }
  }

  #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  #stepDown(why: string): void {
    this.#leading = false;
    this.#options.log.warn(
      { lease: this.#options.name, identity: this.#options.identity, why },
      'stopped leading',
    );
    this.#options.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { client, clock, identity, leaseDurationMs } = this.#options;
    try {
      const current = await this.#read();
      const now = clock.now();
      if (!sameLeaseRecord(current?.spec, this.#observation.spec)) {
        this.#observation = { spec: current?.spec, observedAt: now };
      }
      const decision = decideLease(this.#observation, identity, now, leaseDurationMs);
      if (decision.action === 'wait') return 'held-by-another';
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          ...this.#key(),
          ...(current?.metadata?.resourceVersion
            ? { resourceVersion: current.metadata.resourceVersion }
            : {}),
        },
        spec: decision.spec,
      };
      if (decision.action === 'create') {
        await client.request({
          verb: 'create',
          path: collectionPath(coreResources.lease, this.#options.namespace),
          body: lease,
          timeoutMs: this.#requestTimeoutMs(),
        });
      } else {
        await client.request({
          verb: 'update',
          path: objectPath(coreResources.lease, this.#key()),
          body: lease,
          timeoutMs: this.#requestTimeoutMs(),
        });
      }
      this.#observation = { spec: decision.spec, observedAt: now };
      return 'held';
    } catch (error) {
      // A conflict means another replica wrote first: it holds the lease now.
      if (isConflict(error)) return 'held-by-another';
      this.#options.log.warn(
        { lease: this.#options.name, error: errorMessage(error) },
        'lease update failed',
      );
      return 'failed';
    }
  }

  /** A leader's request may not outlast its renew deadline: a hung apiserver must not keep it leading. */
  #requestTimeoutMs(): number {
    const { renewDeadlineMs, clock } = this.#options;
    if (!this.#leading) return renewDeadlineMs;
    return Math.max(50, this.#lastRenewAt + renewDeadlineMs - clock.now());
  }

  async #read(): Promise<Lease | undefined> {
    try {
      return await this.#options.client.request<Lease>({
        verb: 'get',
        path: objectPath(coreResources.lease, this.#key()),
        timeoutMs: this.#requestTimeoutMs(),
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #release(): Promise<void> {
    try {
      const current = await this.#read();
      if (current?.spec?.holderIdentity !== this.#options.identity) return;
      await this.#options.client.request({
        verb: 'update',
        path: objectPath(coreResources.lease, this.#key()),
        body: { ...current, spec: releasedLease(current.spec, this.#options.clock.now()) },
      });
    } catch (error) {
      this.#options.log.warn(
        { lease: this.#options.name, error: errorMessage(error) },
        'releasing the lease failed',
      );
    }
  }

  #key() {
    return { namespace: this.#options.namespace, name: this.#options.name };
  }
}
