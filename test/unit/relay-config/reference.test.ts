import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { format, resolveConfig } from 'prettier';
import { relayConfigReference } from '../../../relay/config/reference.ts';

const docPath = new URL('../../../docs/relay-config.md', import.meta.url).pathname;

test('docs/relay-config.md is the reference rendered from the schema (regenerate when this fails)', async () => {
  const options = await resolveConfig(docPath);
  const expected = await format(relayConfigReference(), { ...options, filepath: docPath });
  assert.equal(await readFile(docPath, 'utf8'), expected);
});

test('every field of the schema appears in the reference', () => {
  const reference = relayConfigReference();
  for (const field of [
    'hostname',
    'listeners[].mode',
    'policy.bareLineEndings',
    'limits.greetingDelayMs',
    'queue.dir',
    'delivery.mode',
  ]) {
    assert.ok(reference.includes(`| \`${field}\` |`), `${field} missing`);
  }
});
