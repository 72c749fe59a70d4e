import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../../operator/kube/clock.ts';

test('a timer beyond setTimeout’s range does not fire at once (no busy loop on a 90-day requeue)', async () => {
  let fired = false;
  const timer = systemClock.setTimer(
    () => {
      fired = true;
    },
    90 * 24 * 3_600_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  timer.cancel();
  assert.equal(fired, false);
});
