import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unknownKeyReread } from '../../../relay/reload/unknown-key.ts';

test('a burst of unknown key ids re-reads the config once per interval', () => {
  let now = 1_000_000;
  let rereads = 0;
  const onUnknownKey = unknownKeyReread(
    () => {
      rereads += 1;
    },
    () => 30,
    () => now,
  );
  const answers = Array.from({ length: 100 }, () => onUnknownKey());
  assert.equal(rereads, 1);
  assert.deepEqual(answers.filter(Boolean).length, 1);
  now += 29_999;
  assert.equal(onUnknownKey(), false);
  now += 1;
  assert.equal(onUnknownKey(), true);
  assert.equal(rereads, 2);
});
