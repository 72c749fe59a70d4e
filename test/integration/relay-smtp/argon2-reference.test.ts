// Argon2 hashes made now by Debian's `argon2` CLI (the reference implementation, installed by
// hack/system-deps.sh) verify with the relay's checker, for every variant.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { parsePasswordHash, passwordMatches } from '../../../relay/smtp/password-hash.ts';

function referenceHash(variant: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'argon2',
      ['saltysaltysalty', `-${variant}`, '-m', '10', '-t', '1', '-p', '2', '-e'],
      (error, stdout) => {
        if (error) reject(new Error(`argon2 failed: ${error.message}`));
        else resolve(stdout.trim());
      },
    );
    child.stdin?.end(password);
  });
}

for (const variant of ['id', 'i', 'd']) {
  test(`argon2${variant} hashes made now by the argon2 CLI verify (p=2, UTF-8 password)`, async () => {
    const encoded = await referenceHash(variant, 'pässwörd');
    const hash = parsePasswordHash(encoded);
    assert.ok(!('problem' in hash), encoded);
    assert.equal(await passwordMatches('pässwörd', hash), true);
    assert.equal(await passwordMatches('passwörd', hash), false);
  });
}
