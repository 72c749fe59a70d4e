// Queue ids carry their shard directory in the first two characters, so a message is found without
// any scan. Consecutive ids share a shard for a while: messages accepted together land in one
// directory, and the group commit needs one directory fsync for all of them.
import type { Clock } from '../clock.ts';

export const shardCount = 64;
const idsPerShardRun = 256;
const queueIdPattern = /^[0-9a-f]{2}[0-9a-z]{8,24}$/;

export interface QueueIdSource {
  next(): string;
}

export function createQueueIdSource(now: Clock, randomHex: () => string): QueueIdSource {
  let counter = 0;
  // The time in base 36, written once per millisecond: a large number's toString(36) is V8's slow path.
  let lastTime = Number.NaN;
  let lastTimeText = '';
  return {
    next() {
      const shard = Math.floor(counter / idsPerShardRun) % shardCount;
      counter += 1;
      const time = now();
      if (time !== lastTime) {
        lastTime = time;
        lastTimeText = time.toString(36);
      }
      return `${shardName(shard)}${lastTimeText}${randomHex()}`;
    },
  };
}

export function shardName(shard: number): string {
  return shard.toString(16).padStart(2, '0');
}

export function shardOf(queueId: string): string {
  return queueId.slice(0, 2);
}

/** Whether a string can be a queue id (also what keeps admin input out of other paths). */
export function isQueueId(value: string): boolean {
  return queueIdPattern.test(value);
}
