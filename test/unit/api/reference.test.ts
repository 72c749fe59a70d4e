// The field reference lists every field path of both kinds with its default, and every CEL rule at
// the path the apiserver reports it on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiKinds } from '../../../operator/api/kinds.ts';
import { referenceMarkdown } from '../../../operator/api/reference.ts';

const markdown = referenceMarkdown(apiKinds);

const expectedRows: readonly (readonly [path: string, fragment: string])[] = [
  ['spec.replicas', '| `2` |'],
  ['spec.listeners[].auth', '| `Required` |'],
  ['spec.listeners[].tls', 'one of `StartTLS`, `Implicit`, `None`'],
  ['spec.clientNetworks', 'unique items'],
  ['spec.delivery.maxQueueLifetime', '| `120h` |'],
  ['spec.limits.messageSize', '| `25Mi` |'],
  ['spec.dkim.algorithms', '| `["RSA2048"]` |'],
  ['status.conditions', 'unique by type'],
];

for (const [path, fragment] of expectedRows) {
  test(`the reference documents ${path}`, () => {
    const row = markdown.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
    assert.ok(row, `no row for ${path}`);
    assert.ok(row.includes(fragment), `${row} lacks ${fragment}`);
  });
}

const expectedRules = [
  '- `spec.listeners[].tls`: a listener offering AUTH must use TLS',
  '- `spec.tls`: set exactly one of secretRef or issuerRef',
  '- `spec.clientNetworks[]`: must be a network in CIDR notation',
  '- `spec.dkim.rotation.overlap`: overlap must be shorter than interval',
];

for (const rule of expectedRules) {
  test(`the reference lists the rule ${rule.slice(2, 40)}…`, () => {
    assert.ok(markdown.includes(rule), rule);
  });
}

test('the reference has one section per kind', () => {
  assert.deepEqual(
    markdown.split('\n').filter((line) => line.startsWith('## ')),
    apiKinds.map((kind) => `## ${kind.kind}`),
  );
});
