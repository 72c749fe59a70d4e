// withDefaults() defaults like the apiserver: only inside objects that are present, into list items
// and map values, into defaults it has just set, never over a value given, never mutating its input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { boolean, integer, list, map, object, oneOf, type Schema } from '../../../operator/api/schema.ts';

const item = object('Item', 'An item.', {
  port: integer('A port.', { minimum: 1, maximum: 65535, default: 25 }),
  tls: oneOf('TLS.', ['On', 'Off'], { default: 'On' }),
});
const schema: Schema = object('Root', 'The root.', {
  replicas: integer('Replicas.', { minimum: 0, maximum: 9, default: 2 }),
  items: list('Items.', item, { maxItems: 4 }),
  byName: map('Items by name.', item, { maxProperties: 4 }),
  optional: object('Optional', 'Absent unless given.', { on: boolean('On.', true) }),
  nested: object(
    'Nested',
    'Created when absent.',
    {
      on: boolean('On.', false),
      inner: object(
        'Inner',
        'Inner.',
        { depth: integer('Depth.', { minimum: 0, maximum: 9, default: 3 }) },
        { default: {} },
      ),
    },
    { default: {} },
  ),
});

const cases: readonly (readonly [name: string, input: unknown, expected: unknown])[] = [
  [
    'an empty object gets top-level defaults and defaulted objects with their own defaults',
    {},
    { replicas: 2, nested: { on: false, inner: { depth: 3 } } },
  ],
  ['a given value is kept', { replicas: 0 }, { replicas: 0, nested: { on: false, inner: { depth: 3 } } }],
  [
    'list items are defaulted one by one',
    { items: [{}, { port: 587, tls: 'Off' }] },
    {
      replicas: 2,
      items: [
        { port: 25, tls: 'On' },
        { port: 587, tls: 'Off' },
      ],
      nested: { on: false, inner: { depth: 3 } },
    },
  ],
  [
    'map values are defaulted',
    { byName: { a: { tls: 'Off' } } },
    { replicas: 2, byName: { a: { port: 25, tls: 'Off' } }, nested: { on: false, inner: { depth: 3 } } },
  ],
  [
    'an optional object without a default is defaulted only when present',
    { optional: {} },
    { replicas: 2, optional: { on: true }, nested: { on: false, inner: { depth: 3 } } },
  ],
  [
    'unknown fields pass through untouched',
    { extra: { x: 1 } },
    { replicas: 2, extra: { x: 1 }, nested: { on: false, inner: { depth: 3 } } },
  ],
];

for (const [name, input, expected] of cases) {
  test(`withDefaults: ${name}`, () => {
    const before = structuredClone(input);
    assert.deepEqual(withDefaults(schema, input), expected);
    assert.deepEqual(input, before, 'the input is not mutated');
  });
}

test('withDefaults returns scalars and null as they are', () => {
  assert.equal(withDefaults(schema, null), null);
  assert.equal(withDefaults(integer('n.', { minimum: 0, maximum: 1 }), 1), 1);
});
