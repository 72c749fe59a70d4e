// The TypeScript emitter maps each schema form to its type, makes defaulted and required properties
// non-optional, names interfaces once, and refuses two different schemas under one name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KindDefinition } from '../../../operator/api/crd.ts';
import {
  boolean,
  integer,
  intOrString,
  list,
  map,
  object,
  oneOf,
  opaqueObject,
  string,
  type Schema,
} from '../../../operator/api/schema.ts';
import { typeScriptSource } from '../../../operator/api/typescript.ts';

function kindWith(spec: Schema): KindDefinition {
  return {
    kind: 'Widget',
    singular: 'widget',
    plural: 'widgets',
    shortNames: [],
    description: 'A widget.',
    spec,
    status: object('WidgetStatus', 'Status.', {}),
    printerColumns: [],
  };
}

const members: readonly (readonly [name: string, property: Schema, expected: string])[] = [
  ['a string', string('S.', { maxLength: 3 }), 'readonly field?: string;'],
  ['an enum', oneOf('E.', ['A', 'B']), 'readonly field?: "A" | "B";'],
  ['an integer', integer('I.', { minimum: 0, maximum: 1 }), 'readonly field?: number;'],
  ['a defaulted boolean', boolean('B.', false), 'readonly field: boolean;'],
  [
    'a list of strings',
    list('L.', string('S.', { maxLength: 3 }), { maxItems: 2 }),
    'readonly field?: readonly string[];',
  ],
  [
    'a list of enums',
    list('L.', oneOf('E.', ['A', 'B']), { maxItems: 2 }),
    'readonly field?: readonly ("A" | "B")[];',
  ],
  [
    'a map',
    map('M.', integer('I.', { minimum: 0, maximum: 1 }), { maxProperties: 2 }),
    'readonly field?: Readonly<Record<string, number>>;',
  ],
  ['a quantity', intOrString('Q.', { pattern: '^[0-9]+$', minimum: 0 }), 'readonly field?: number | string;'],
  ['a passed-through object', opaqueObject('O.'), 'readonly field?: Readonly<Record<string, unknown>>;'],
  ['a named object', object('Part', 'P.', {}), 'readonly field?: Part;'],
];

for (const [name, property, expected] of members) {
  test(`typeScriptSource: ${name}`, () => {
    const source = typeScriptSource([kindWith(object('WidgetSpec', 'Spec.', { field: property }))]);
    assert.ok(source.includes(expected), `expected ${expected} in\n${source}`);
  });
}

test('typeScriptSource: a required property is not optional, and the kind wraps spec and status', () => {
  const source = typeScriptSource([
    kindWith(
      object('WidgetSpec', 'Spec.', { field: string('S.', { maxLength: 3 }) }, { required: ['field'] }),
    ),
  ]);
  assert.ok(source.includes('readonly field: string;'));
  assert.ok(source.includes("readonly apiVersion: 'mailfleet.dev/v1alpha1';"));
  assert.ok(source.includes('readonly spec: WidgetSpec;'));
  assert.ok(source.includes('readonly status?: WidgetStatus;'));
});

test('typeScriptSource: one interface for a name used twice with the same members', () => {
  const part = () => object('Part', 'P.', { on: boolean('On.') });
  const source = typeScriptSource([kindWith(object('WidgetSpec', 'Spec.', { a: part(), b: part() }))]);
  assert.equal(source.match(/export interface Part /g)?.length, 1);
});

test('typeScriptSource: refuses two different schemas under one name', () => {
  const spec = object('WidgetSpec', 'Spec.', {
    a: object('Part', 'P.', { on: boolean('On.') }),
    b: object('Part', 'P.', { off: boolean('Off.') }),
  });
  assert.throws(() => typeScriptSource([kindWith(spec)]), /two different schemas are named Part/);
});
