// What NOTES.txt tells a user to run on upgrade agrees with docs/install.md's "Upgrade": the CRD
// apply needs --force-conflicts (Helm's first install owns the CRD fields, so a plain server-side
// apply conflicts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, repoRoot } from './helm.ts';

function crdApplies(text: string): string[] {
  return text.match(/kubectl apply --server-side\b[^\n]*(\\\n[^\n]*)?/g) ?? [];
}

test('the CRD upgrade of NOTES.txt and of docs/install.md forces the conflicts', async () => {
  const notes = await readFile(join(chartDir, 'templates', 'NOTES.txt'), 'utf8');
  const install = await readFile(join(repoRoot, 'docs', 'install.md'), 'utf8');
  const upgrade = /^## Upgrade\n[\s\S]*?(?=^## )/m.exec(install)?.[0] ?? '';
  for (const [where, commands] of [
    ['NOTES.txt', crdApplies(notes)],
    ['install.md "Upgrade"', crdApplies(upgrade)],
  ] as const) {
    assert.ok(commands.length > 0, `${where} applies the CRDs`);
    for (const command of commands) assert.match(command, /--force-conflicts/, `${where}: ${command}`);
  }
});
