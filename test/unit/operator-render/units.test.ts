import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalQuantity,
  parseByteQuantity,
  parseDurationSeconds,
} from '../../../operator/render/units.ts';

test('byte quantities', () => {
  const cases: [number | string, number][] = [
    [1024, 1024],
    ['1024', 1024],
    ['512Ki', 524_288],
    ['25Mi', 26_214_400],
    ['30Mi', 31_457_280],
    ['1Gi', 1_073_741_824],
    ['20Gi', 21_474_836_480],
    ['500k', 500_000],
    ['1.5Mi', 1_572_864],
    ['2M', 2_000_000],
    ['0.1k', 100],
  ];
  for (const [quantity, bytes] of cases) assert.equal(parseByteQuantity(quantity), bytes, String(quantity));
});

test('byte quantities that are not: the error names the value', () => {
  for (const quantity of ['', '10MB', '-1', 'Mi', '1.5.5Gi', '100m']) {
    assert.throws(() => parseByteQuantity(quantity), new RegExp(`"${quantity.replace('.', '\\.')}" is not`));
  }
});

test('durations', () => {
  const cases: [string, number][] = [
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['120h', 432_000],
    ['72h', 259_200],
    ['250ms', 0.25],
    ['1m30s500ms', 90.5],
    ['0s', 0],
  ];
  for (const [duration, seconds] of cases) assert.equal(parseDurationSeconds(duration), seconds, duration);
});

test('durations that are not: the error names the value', () => {
  for (const duration of ['', '5', '1d', '1h 30m', '-5m', '1.5h']) {
    assert.throws(() => parseDurationSeconds(duration), /is not a duration/);
  }
});

test('quantities in the form the apiserver serialises them (resource.Quantity)', () => {
  const cases: [number | string, string][] = [
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['20Gi', '20Gi'],
    ['128Mi', '128Mi'],
    ['0.5Ki', '512'],
    ['1023Ki', '1023Ki'],
    ['100m', '100m'],
    ['250m', '250m'],
    ['1000m', '1'],
    ['0.5', '500m'],
    [1, '1'],
    [1000, '1k'],
    ['1500', '1500'],
    ['2048', '2048'],
    ['1000k', '1M'],
    ['0', '0'],
    [0.25, '250m'],
  ];
  for (const [quantity, canonical] of cases)
    assert.equal(canonicalQuantity(quantity), canonical, String(quantity));
  assert.throws(() => canonicalQuantity('10MB'), /"10MB" is not a quantity/);
});
