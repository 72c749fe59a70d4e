// Every example, defaulted as the apiserver would (withDefaults), satisfies the structural part of
// its kind's schema (types, enums, patterns, bounds): a fast check without an apiserver. The CEL
// rules are exercised against the real apiserver in test/integration/api.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { apiKinds } from '../../../operator/api/kinds.ts';
import type { Schema } from '../../../operator/api/schema.ts';

const examplesDir = resolve(import.meta.dirname, '../../../examples');
const ajv = new Ajv({ allErrors: true, strict: false });
for (const keyword of [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
]) {
  ajv.addKeyword(keyword);
}

/** The schema with unknown fields refused at every level, as the apiserver's strict field validation does. */
function closed(schema: Schema): Record<string, unknown> {
  const { properties, items, ...rest } = schema;
  return {
    ...rest,
    ...(properties
      ? {
          properties: Object.fromEntries(
            Object.entries(properties).map(([key, child]) => [key, closed(child)]),
          ),
          additionalProperties: false,
        }
      : {}),
    ...(items ? { items: closed(items) } : {}),
  };
}

function validatorOf(kindName: string) {
  const kind = apiKinds.find((candidate) => candidate.kind === kindName);
  assert.ok(kind, `unknown kind ${kindName}`);
  const validate = ajv.compile(closed(kind.spec));
  return (spec: unknown) => ({ valid: validate(withDefaults(kind.spec, spec)), errors: validate.errors });
}

// examples/clients/ holds the sending workloads (Pods, Deployments), which the real API server
// checks in test/integration/api/client-manifests.test.ts.
const files = (await readdir(examplesDir, { recursive: true }))
  .filter((file) => file.endsWith('.yaml') && !file.startsWith('clients/'))
  .sort();

test('there are examples of both kinds', async () => {
  const kinds = new Set<unknown>();
  for (const file of files)
    kinds.add((parse(await readFile(join(examplesDir, file), 'utf8')) as { kind: unknown }).kind);
  assert.deepEqual([...kinds].sort(), apiKinds.map((kind) => kind.kind).sort());
});

for (const file of files) {
  test(`${file} satisfies its schema once defaulted`, async () => {
    const example = parse(await readFile(join(examplesDir, file), 'utf8')) as { kind: string; spec: unknown };
    const { valid, errors } = validatorOf(example.kind)(example.spec);
    assert.ok(valid, JSON.stringify(errors, null, 2));
  });
}

const broken: readonly (readonly [name: string, kind: string, spec: unknown, path: string])[] = [
  [
    'an unknown TLS mode',
    'SmtpRelay',
    { listeners: [{ name: 'smtp', port: 25, tls: 'SSL' }] },
    '/listeners/0/tls',
  ],
  [
    'a misspelt nested field',
    'SmtpRelay',
    { listeners: [{ name: 'smtp', port: 25, tsl: 'None' }] },
    '/listeners/0',
  ],
  ['a port out of range', 'SmtpRelay', { listeners: [{ name: 'smtp', port: 0 }] }, '/listeners/0/port'],
  ['an invalid domain', 'SenderDomain', { domain: 'example..com' }, '/domain'],
];

for (const [name, kindName, spec, path] of broken) {
  test(`the offline check refuses ${name}`, () => {
    const { valid, errors } = validatorOf(kindName)(spec);
    assert.equal(valid, false);
    assert.ok(
      errors?.some((error) => error.instancePath === path),
      JSON.stringify(errors),
    );
  });
}
