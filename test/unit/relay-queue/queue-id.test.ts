import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQueueIdSource, isQueueId, shardOf } from '../../../relay/queue/queue-id.ts';
import { pooledRandomHex } from '../../../relay/queue/random-pool.ts';

test('queue ids: shard, then the time in base 36, then random hex; valid and distinct within one millisecond', () => {
  let time = 1_764_921_600_000;
  const source = createQueueIdSource(() => time, pooledRandomHex(8));
  const sameMillisecond = Array.from({ length: 300 }, () => source.next());
  assert.equal(new Set(sameMillisecond).size, 300);
  for (const id of sameMillisecond) {
    assert.ok(isQueueId(id), id);
    assert.equal(id.slice(2, 2 + time.toString(36).length), time.toString(36));
  }
  assert.equal(shardOf(sameMillisecond[0] ?? ''), '00');
  assert.equal(shardOf(sameMillisecond[299] ?? ''), '01', 'the shard moves on every 256 ids');
  time += 1;
  const later = source.next();
  assert.equal(
    later.slice(2, 2 + time.toString(36).length),
    time.toString(36),
    'a new millisecond, a new time',
  );
});
