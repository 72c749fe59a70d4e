import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueHeap } from '../../../relay/queue/due-heap.ts';

test('DueHeap pops entries in due order whatever the insertion order', () => {
  const table: readonly number[][] = [
    [],
    [5],
    [3, 1, 2],
    [9, 8, 7, 6, 5, 4, 3, 2, 1],
    [1, 1, 0, 2, 2, 0],
    [10, 3, 7, 3, 15, 1, 12, 0, 4],
  ];
  for (const dues of table) {
    const heap = new DueHeap();
    dues.forEach((dueAt, index) => {
      heap.push({ dueAt, queueId: `q${index}` });
    });
    assert.equal(heap.size, dues.length);
    const popped: number[] = [];
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) popped.push(entry.dueAt);
    assert.deepEqual(
      popped,
      [...dues].sort((a, b) => a - b),
      dues.join(','),
    );
  }
});

test('peek shows the earliest entry without removing it', () => {
  const heap = new DueHeap();
  heap.push({ dueAt: 20, queueId: 'late' });
  heap.push({ dueAt: 10, queueId: 'early' });
  assert.equal(heap.peek()?.queueId, 'early');
  assert.equal(heap.size, 2);
});
