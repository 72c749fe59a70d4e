// Every shell block of README.md and docs/ is classified (test/unit/docs/command-blocks.ts); the
// ones that run here run with bash -euo pipefail from the repository root and must succeed and print
// what their comments say; the ones that cannot run on a test machine are listed with why.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { blocks, repoRoot, shellBlocks } from './command-blocks.ts';

const run = promisify(execFile);
const found = await shellBlocks();

test('every shell block of the docs is run here or listed with why it cannot be', (t) => {
  assert.deepEqual(
    [...found.keys()].filter((key) => !(key in blocks)),
    [],
    'blocks without a line in `blocks`',
  );
  assert.deepEqual(
    Object.keys(blocks).filter((key) => !found.has(key)),
    [],
    'lines for blocks that are gone',
  );
  for (const [key, entry] of Object.entries(blocks))
    if (!entry.runs) t.diagnostic(`not run: ${key} (${entry.because})`);
});

for (const [key, entry] of Object.entries(blocks)) {
  if (!entry.runs || entry.where !== 'here') continue;
  test(`runs: ${key}`, async () => {
    const body = found.get(key);
    assert.ok(body !== undefined, key);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', body], {
      cwd: repoRoot,
      env: { ...process.env, ...entry.env },
    });
    assert.match(stdout, entry.prints);
  });
}
