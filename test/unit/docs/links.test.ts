// Every relative link in README.md and docs/ points at a file that exists (anchors aside).
import assert from 'node:assert/strict';
import { access, readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';

const repoRoot = resolve(import.meta.dirname, '../../..');

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return markdownFiles(path);
      return Promise.resolve(entry.name.endsWith('.md') ? [path] : []);
    }),
  );
  return nested.flat();
}

const files = [join(repoRoot, 'README.md'), ...(await markdownFiles(join(repoRoot, 'docs')))];

for (const file of files) {
  test(`links in ${file.slice(repoRoot.length + 1)} resolve`, async () => {
    // Code (fenced blocks and inline spans) holds patterns such as `[a-z](x)`, not links.
    const text = (await readFile(file, 'utf8')).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    const missing: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
      const path = resolve(dirname(file), target.split('#')[0] ?? '');
      await access(path).catch(() => missing.push(target));
    }
    assert.deepEqual(missing, []);
  });
}
