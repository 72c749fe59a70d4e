// Golden files: every object rendered from each SmtpRelay example, as YAML, in
// test/golden/<example>/<kind>-<name>.yaml. `UPDATE_GOLDEN=1 node --test <this file>` rewrites them;
// review the diff like code.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { renderSmtpRelay } from '../../../operator/render/smtp-relay-objects.ts';
import { boundDomainsOf, everyOptionalKindServed, exampleSecrets, relayExamples } from './fixtures.ts';

const goldenDir = resolve(import.meta.dirname, '../../golden');
const update = process.env['UPDATE_GOLDEN'] === '1';

for (const { file, relay } of relayExamples) {
  test(`golden: examples/${file}.yaml`, async () => {
    const secrets = exampleSecrets();
    const { objects } = renderSmtpRelay({
      relay,
      domains: boundDomainsOf(relay),
      secrets: (name) => secrets.get(name),
      relayImage: 'ghcr.io/mailfleet/relay:0.1.0',
      clusterDomain: 'cluster.local',
      served: everyOptionalKindServed,
    });
    const expected = new Map(
      objects.map(({ object }) => [
        `${(object.kind ?? '').toLowerCase()}-${object.metadata?.name ?? ''}.yaml`,
        stringify(object, { lineWidth: 0 }),
      ]),
    );
    assert.equal(expected.size, objects.length, 'two objects of one kind share a name');
    const dir = join(goldenDir, file);
    if (update) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      for (const [name, text] of expected) await writeFile(join(dir, name), text);
    }
    const present = (await readdir(dir)).sort();
    assert.deepEqual(
      present,
      [...expected.keys()].sort(),
      `golden files of ${file} (UPDATE_GOLDEN=1 to rewrite)`,
    );
    for (const [name, text] of expected) {
      assert.equal(
        text,
        await readFile(join(dir, name), 'utf8'),
        `${file}/${name} (UPDATE_GOLDEN=1 to rewrite)`,
      );
    }
  });
}
