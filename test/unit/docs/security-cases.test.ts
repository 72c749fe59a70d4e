// docs/security.md maps every case of docs/security-cases.md, by number and name, to its tests: a
// case added, renamed or dropped on one side fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

const docs = join(import.meta.dirname, '..', '..', '..', 'docs');

test('docs/security.md has one row per case of docs/security-cases.md, under the same name', async () => {
  const cases = [
    ...(await readFile(join(docs, 'security-cases.md'), 'utf8')).matchAll(/^(\d+)\. \*\*([^*]+)\*\*/gm),
  ];
  const rows = [
    ...(await readFile(join(docs, 'security.md'), 'utf8')).matchAll(/^\| (\d+)\s+\| ([^|]+?)\s+\|/gm),
  ];
  assert.equal(cases.length, 42);
  const listed = (matches: RegExpExecArray[]): string[] =>
    matches
      .map(([, number, name]) => ({ number: Number(number), name: name ?? '' }))
      .sort((a, b) => a.number - b.number)
      .map(({ number, name }) => `${String(number)} ${name}`);
  assert.deepEqual(listed(rows), listed(cases));
});
