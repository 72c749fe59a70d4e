import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, percentile, ratio } from '../../../bench/stats.ts';

test('percentile is the nearest rank', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => 100 - index);
  const cases = [
    { samples: [], fraction: 0.5, expected: undefined },
    { samples: [7], fraction: 0.99, expected: 7 },
    { samples: hundred, fraction: 0.5, expected: 50 },
    { samples: hundred, fraction: 0.99, expected: 99 },
    { samples: hundred, fraction: 1, expected: 100 },
    { samples: [3, 1, 2], fraction: 0, expected: 1 },
  ];
  for (const { samples, fraction, expected } of cases)
    assert.equal(percentile(samples, fraction), expected, `${fraction} of ${samples.length}`);
});

test('median ignores missing values', () => {
  const cases = [
    { values: [], expected: undefined },
    { values: [undefined], expected: undefined },
    { values: [5, 1, 3], expected: 3 },
    { values: [4, 1, 3, 2], expected: 2.5 },
    { values: [undefined, 9, 1], expected: 5 },
  ];
  for (const { values, expected } of cases) assert.equal(median(values), expected, JSON.stringify(values));
});

test('ratio is undefined without both figures or with a zero denominator', () => {
  const cases = [
    { numerator: 6, denominator: 3, expected: 2 },
    { numerator: undefined, denominator: 3, expected: undefined },
    { numerator: 6, denominator: undefined, expected: undefined },
    { numerator: 6, denominator: 0, expected: undefined },
  ];
  for (const { numerator, denominator, expected } of cases)
    assert.equal(ratio(numerator, denominator), expected);
});
