// Every value of values.yaml is documented: each key has a comment, or is a map whose keys all
// have one; and every key is declared in values.schema.json (which rejects unknown ones).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMap, isScalar, parseDocument, type Pair } from 'yaml';
import { chartDir } from './helm.ts';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  $ref?: string;
}

// The yaml parser attaches the comment above the first key of a nested map to the map itself.
function undocumented(pair: Pair, path: string, commentAbove = ''): string[] {
  const key = isScalar(pair.key) ? String(pair.key.value) : '?';
  const here = path ? `${path}.${key}` : key;
  const comment = (isScalar(pair.key) ? (pair.key.commentBefore ?? '') : '') + commentAbove;
  if (comment.trim().length > 0) return [];
  if (isMap(pair.value) && pair.value.items.length > 0) {
    const map = pair.value;
    return map.items.flatMap((child, index) =>
      undocumented(child, here, index === 0 ? (map.commentBefore ?? '') : ''),
    );
  }
  return [here];
}

test('every value in values.yaml has a comment', async () => {
  const document = parseDocument(await readFile(join(chartDir, 'values.yaml'), 'utf8'));
  assert.ok(isMap(document.contents));
  assert.deepEqual(
    document.contents.items.flatMap((pair) => undocumented(pair, '')),
    [],
  );
});

test('every key of values.yaml is declared in values.schema.json', async () => {
  const schema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode & {
    definitions: Record<string, SchemaNode>;
  };
  const resolve = (node: SchemaNode): SchemaNode =>
    node.$ref ? (schema.definitions[node.$ref.replace('#/definitions/', '')] ?? {}) : node;
  const undeclared: string[] = [];
  const walk = (value: unknown, node: SchemaNode, path: string) => {
    const properties = resolve(node).properties;
    if (!properties || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key];
      if (childSchema === undefined) undeclared.push(`${path}${key}`);
      else walk(child, childSchema, `${path}${key}.`);
    }
  };
  walk(parseDocument(await readFile(join(chartDir, 'values.yaml'), 'utf8')).toJS(), schema, '');
  assert.deepEqual(undeclared, []);
});
