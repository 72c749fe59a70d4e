// Which write errors the SMTP side is told are a full spool (452 4.3.1), table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutOfSpace, SpoolFullError, spoolWriteError } from '../../../relay/queue/spool-full.ts';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

const cases: readonly (readonly [string, unknown, boolean])[] = [
  ['ENOSPC (the filesystem is full)', errno('ENOSPC'), true],
  ['EDQUOT (the quota is used up)', errno('EDQUOT'), true],
  ['EIO', errno('EIO'), false],
  ['an error without a code', new Error('client went away'), false],
  ['undefined', undefined, false],
];

for (const [name, error, full] of cases) {
  test(`spoolWriteError: ${name}`, () => {
    let refreshes = 0;
    const space = {
      refresh: () => {
        refreshes += 1;
        return Promise.resolve(false);
      },
    };
    assert.equal(isOutOfSpace(error), full);
    const reported = spoolWriteError(error, '/spool', '00abcdefgh', space);
    if (full) {
      assert.ok(reported instanceof SpoolFullError);
      assert.equal(reported.name, 'SpoolFullError');
      assert.equal(reported.message, 'spool /spool ran out of space while writing 00abcdefgh');
      assert.equal(reported.cause, error);
      assert.equal(refreshes, 1, 'free space is checked anew at once');
    } else {
      assert.equal(reported, error);
      assert.equal(refreshes, 0);
    }
  });
}
