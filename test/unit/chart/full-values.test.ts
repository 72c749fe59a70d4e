// ci/full-values.yaml sets every value of values.yaml (docs/install.md and the file itself say so,
// and the lint, render and dry-run tests rely on it to exercise every template branch). A value
// under a free-form object of the schema (such as metrics.serviceMonitor.tlsConfig) counts as set
// when the object is set.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { chartDir, fullValuesPath } from './helm.ts';

interface SchemaNode {
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

type Values = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The dotted paths of the leaves of `values` (an empty object or a list is a leaf). */
function leafPaths(values: Values, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return isObject(value) && Object.keys(value).length > 0 ? leafPaths(value, path) : [path];
  });
}

/** The paths of `defaults` that `values` leaves unset, a set free-form object covering its keys. */
export function unsetPaths(defaults: Values, values: Values, schema: SchemaNode): string[] {
  return leafPaths(defaults).filter((path) => {
    let node: unknown = values;
    let schemaNode: SchemaNode | undefined = schema;
    for (const key of path.split('.')) {
      if (!isObject(node) || !(key in node)) return true;
      node = node[key];
      schemaNode = schemaNode?.properties?.[key];
      if (schemaNode !== undefined && schemaNode.properties === undefined) return false;
    }
    return false;
  });
}

const cases = [
  { name: 'everything set', defaults: { a: { b: 1, c: '' } }, values: { a: { b: 2, c: 'x' } }, unset: [] },
  { name: 'a leaf missing', defaults: { a: { b: 1, c: '' } }, values: { a: { b: 2 } }, unset: ['a.c'] },
  { name: 'a section missing', defaults: { a: { b: 1 }, d: {} }, values: { a: { b: 1 } }, unset: ['d'] },
  { name: 'a free-form object set', defaults: { f: { skip: true } }, values: { f: { other: 1 } }, unset: [] },
] as const;
const caseSchema: SchemaNode = { properties: { a: { properties: { b: {}, c: {} } }, d: {}, f: {} } };

for (const { name, defaults, values, unset } of cases) {
  test(`unsetPaths: ${name}`, () => {
    assert.deepEqual(unsetPaths(defaults, values, caseSchema), unset);
  });
}

test('ci/full-values.yaml sets every value of values.yaml', async () => {
  const defaults = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as Values;
  const full = parse(await readFile(fullValuesPath, 'utf8')) as Values;
  const schema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;
  assert.deepEqual(unsetPaths(defaults, full, schema), []);
});
