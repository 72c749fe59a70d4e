// The API schemas keep the rules the apiserver and kubectl explain depend on: a description on every
// field, bounded strings and lists (CEL cost estimation), messages on every CEL rule, type names on
// every object with properties; and the shared patterns accept and refuse what they document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  domainNamePattern,
  durationPattern,
  emailPattern,
  hostPattern,
  quantityPattern,
} from '../../../operator/api/common.ts';
import { apiKinds } from '../../../operator/api/kinds.ts';
import { typeNameOf, type Schema } from '../../../operator/api/schema.ts';

function* nodes(schema: Schema, path: string): Generator<[string, Schema]> {
  yield [path, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (schema.items) yield* nodes(schema.items, `${path}[]`);
  if (schema.additionalProperties) yield* nodes(schema.additionalProperties, `${path}.*`);
}

const everyNode = apiKinds.flatMap((kind) => [
  ...nodes(kind.spec, `${kind.kind}.spec`),
  ...nodes(kind.status, `${kind.kind}.status`),
]);

const hygiene: readonly (readonly [rule: string, broken: (schema: Schema) => boolean])[] = [
  ['has a description', (schema) => schema.description.trim().length < 3],
  ['ends its description with a full stop', (schema) => !/[.)]$/.test(schema.description.trim())],
  [
    'bounds a free string with maxLength',
    (schema) => schema.type === 'string' && !schema.enum && schema.maxLength === undefined,
  ],
  ['bounds a list with maxItems', (schema) => schema.type === 'array' && schema.maxItems === undefined],
  [
    'bounds a map with maxProperties',
    (schema) => schema.additionalProperties !== undefined && schema.maxProperties === undefined,
  ],
  [
    'names the interface of an object with properties',
    (schema) => !!schema.properties && !typeNameOf(schema),
  ],
  [
    'gives every CEL rule a message',
    (schema) => (schema['x-kubernetes-validations'] ?? []).some((rule) => rule.message.length < 10),
  ],
  [
    'bounds integers',
    (schema) => schema.type === 'integer' && (schema.minimum === undefined || schema.maximum === undefined),
  ],
];

for (const [rule, broken] of hygiene) {
  test(`every schema node ${rule}`, () => {
    const offenders = everyNode.filter(([, schema]) => broken(schema)).map(([path]) => path);
    assert.deepEqual(offenders, []);
  });
}

test('a default is never given to a required property', () => {
  const offenders = everyNode.flatMap(([path, schema]) =>
    (schema.required ?? [])
      .filter((name) => schema.properties?.[name]?.default !== undefined)
      .map((name) => `${path}.${name}`),
  );
  assert.deepEqual(offenders, []);
});

const patternCases: readonly (readonly [
  name: string,
  pattern: string,
  valid: readonly string[],
  invalid: readonly string[],
])[] = [
  [
    'duration',
    durationPattern,
    ['30s', '5m', '1h30m', '120h', '250ms'],
    ['', '5d', '1.5h', '-5m', '5', 'h', '5 m'],
  ],
  [
    'quantity',
    quantityPattern,
    ['1048576', '25Mi', '10Gi', '1.5Gi', '500k'],
    ['', '25MB', '-1', 'Mi', '10 Gi', '1e6'],
  ],
  [
    'domain name',
    domainNamePattern,
    ['example.com', 'mail.example.co.uk', 'xn--bcher-kva.example', 'a-b.example'],
    ['example', 'Example.com', 'example..com', '-example.com', 'example.com.', 'example.123', 'exa_mple.com'],
  ],
  [
    'host',
    hostPattern,
    ['smtp.example.com', 'relay', '192.0.2.10'],
    ['smtp://relay', 'relay:25', '', 'Relay'],
  ],
  [
    'e-mail address',
    emailPattern,
    ['dmarc@example.com', 'a+b@sub.example'],
    ['example.com', 'a@b@c', '<a@b>', 'a b@c'],
  ],
];

for (const [name, pattern, valid, invalid] of patternCases) {
  test(`the ${name} pattern accepts what it documents and refuses the rest`, () => {
    const regex = new RegExp(pattern);
    assert.deepEqual(
      valid.filter((value) => !regex.test(value)),
      [],
      'refused but valid',
    );
    assert.deepEqual(
      invalid.filter((value) => regex.test(value)),
      [],
      'accepted but invalid',
    );
  });
}
