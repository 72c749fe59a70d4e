// Checks that a relay of the realistic set really signed what it delivered: a few of the messages
// the sink dumped in one run are verified by dkimpy (an independent verifier) against the DKIM keys
// published on a private dnsmasq. Then the run's dumps are removed, so each run is checked alone.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyWithDkimpy } from '../test/support/dkimpy.ts';

export interface DkimSample {
  readonly messages: number;
  /** Signatures dkimpy found valid, and how many the sampled messages had to carry. */
  readonly signaturesPassed: number;
  readonly signaturesExpected: number;
  readonly failures: readonly string[];
}

/**
 * The message as the relay sent it, from one smtp-sink dump (pure): the sink's X-* records and the
 * Received header it adds are dropped, and its LF line ends become CRLF again.
 */
export function messageOfDump(dump: string): string {
  const lines = dump.split('\n');
  let index = 0;
  while (lines[index]?.startsWith('X-') === true) index += 1;
  if (lines[index]?.startsWith('Received:') === true) {
    index += 1;
    while (/^[ \t]/.test(lines[index] ?? '')) index += 1;
  }
  return lines.slice(index).join('\r\n');
}

/** Up to `count` items spread evenly over the list (pure). */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, index) => items[Math.floor((index * items.length) / count)] as T);
}

export async function verifyDumpedSample(
  dumpDirectory: string,
  count: number,
  signaturesPerMessage: number,
  dnsServer: string,
): Promise<DkimSample> {
  const files = (await readdir(dumpDirectory)).sort();
  const failures: string[] = [];
  let signaturesPassed = 0;
  const sample = spread(files, count);
  for (const file of sample) {
    const message = messageOfDump(await readFile(join(dumpDirectory, file), 'latin1'));
    const verdicts = (await verifyWithDkimpy(message, dnsServer)).trim().split('\n').filter(Boolean);
    const passed = verdicts.filter((line) => line.endsWith(' pass')).length;
    signaturesPassed += passed;
    if (verdicts.length !== signaturesPerMessage || passed !== verdicts.length) {
      failures.push(
        `dkimpy on a delivered message: ${verdicts.join(', ') || 'no signature'} (expected ${signaturesPerMessage} passing)`,
      );
    }
  }
  if (sample.length === 0) failures.push('no delivered message was dumped to check its DKIM signatures');
  await Promise.all(files.map((file) => rm(join(dumpDirectory, file), { force: true })));
  return {
    messages: sample.length,
    signaturesPassed,
    signaturesExpected: sample.length * signaturesPerMessage,
    failures,
  };
}
