// Leader election on a Lease so that two operator replicas can run: only the holder runs the
// workers. The holder renews every retry period and steps down when it has not managed to renew
// within the renew deadline (shorter than the lease duration, so it stops before a standby may take
// over); a standby takes the lease once it has seen no renewal for a whole lease duration; on
// shutdown the holder releases the lease so a standby takes over at once.
// With a fence, each term opens it and each renew extends it to the renew deadline, and stepping
// down closes it first, so this replica's writes stop before anyone else may lead. Once stop() has
// begun the elector writes no lease but the release: it never starts a term again.
import type { Log } from '../log.ts';
import { isConflict, isNotFound, type KubeClient } from './client.ts';
import { sleep, type Clock } from './clock.ts';
import type { LeadershipFence } from './fence.ts';
import {
  decideLease,
  leaderElectionTimingsProblem,
  releasedLease,
  sameLeaseRecord,
  type LeaderElectionConfig,
  type LeaseObservation,
  type LeaseSpec,
} from './lease.ts';
import { coreResources, collectionPath, objectPath, type KubeObject } from './resource.ts';

export interface LeaderElectionOptions extends LeaderElectionConfig {
  readonly client: Pick<KubeClient, 'request'>;
  readonly clock: Clock;
  readonly log: Log;
  /** Opened while this replica leads; the client's writes pass only through an open term. */
  readonly fence?: LeadershipFence;
  readonly onStartedLeading: () => void;
  /** stop() waits for the returned promise (the workers draining) before it releases the lease. */
  readonly onStoppedLeading: () => void | Promise<void>;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

type Attempt =
  { readonly result: 'held'; readonly writtenAt: number } | { readonly result: 'held-by-another' | 'failed' };

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #abort = new AbortController();
  #observation: LeaseObservation = { spec: undefined, observedAt: 0 };
  #leading = false;
  #lastRenewAt = 0;
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    const problem = leaderElectionTimingsProblem(options);
    if (problem !== undefined) throw new Error(problem);
    this.#options = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops campaigning for good; a leader steps down, waits for onStoppedLeading, and releases the
   * lease. The release is tried even when not leading: an acquire that was in flight when stop()
   * began may have written the lease just now.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (this.#leading) await this.#stepDown('shutting down');
    await this.#release();
  }

  async #run(): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.#options;
    while (!this.#abort.signal.aborted) {
      const attempt = await this.#tryAcquireOrRenew();
      const now = clock.now();
      // stop() takes over from here: it steps down and releases.
      if (this.#stopping()) break;
      if (attempt.result === 'held') {
        // From when the write was sent: the apiserver stored it no earlier, and a standby counts
        // its lease duration from when it read it.
        this.#lastRenewAt = attempt.writtenAt;
        this.#options.fence?.extend(attempt.writtenAt + renewDeadlineMs);
        if (!this.#leading) {
          this.#leading = true;
          this.#options.log.info(
            { lease: this.#options.name, identity: this.#options.identity },
            'became leader',
          );
          this.#options.onStartedLeading();
        }
      } else if (
        this.#leading &&
        (attempt.result === 'held-by-another' || now - this.#lastRenewAt >= renewDeadlineMs)
      ) {
        void this.#stepDown(
          attempt.result === 'held-by-another' ? 'another replica holds the lease' : 'renew deadline passed',
        );
      }
      await sleep(clock, retryPeriodMs, this.#abort.signal);
    }
  }

  #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  async #stepDown(why: string): Promise<void> {
    this.#leading = false;
    this.#options.fence?.close(why);
    this.#options.log.warn(
      { lease: this.#options.name, identity: this.#options.identity, why },
      'stopped leading',
    );
    try {
      await this.#options.onStoppedLeading();
    } catch (error) {
      this.#options.log.warn({ lease: this.#options.name, err: error }, 'stopping the leader failed');
    }
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
      if (decision.action === 'wait') return { result: 'held-by-another' };
      // stop() has begun while the lease was read: no new term, and no renew to undo.
      if (this.#stopping()) return { result: 'failed' };
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
          unfenced: true,
        });
      } else {
        await client.request({
          verb: 'update',
          path: objectPath(coreResources.lease, this.#key()),
          body: lease,
          timeoutMs: this.#requestTimeoutMs(),
          unfenced: true,
        });
      }
      this.#observation = { spec: decision.spec, observedAt: now };
      return { result: 'held', writtenAt: now };
    } catch (error) {
      // A conflict means another replica wrote first: it holds the lease now.
      if (isConflict(error)) return { result: 'held-by-another' };
      this.#options.log.warn({ lease: this.#options.name, err: error }, 'lease update failed');
      return { result: 'failed' };
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
        unfenced: true,
      });
    } catch (error) {
      this.#options.log.warn({ lease: this.#options.name, err: error }, 'releasing the lease failed');
    }
  }

  #key() {
    return { namespace: this.#options.namespace, name: this.#options.name };
  }
}
