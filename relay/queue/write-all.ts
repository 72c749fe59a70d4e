// A synchronous writev of every byte: writev may write less than asked (a signal, a nearly full
// disk), so the rest is written until nothing is left or a write throws.
import { writevSync } from 'node:fs';

export function writeAllSync(fd: number, buffers: readonly Buffer[], bytes: number): void {
  let remaining = bytes;
  let pending = [...buffers];
  while (remaining > 0) {
    const written = writevSync(fd, pending);
    remaining -= written;
    if (remaining > 0) pending = unwritten(pending, written);
  }
}

function unwritten(buffers: readonly Buffer[], written: number): Buffer[] {
  let skip = written;
  const remaining: Buffer[] = [];
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    remaining.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return remaining;
}
