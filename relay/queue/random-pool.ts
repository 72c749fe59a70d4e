// Random hex for queue ids, drawn from a pool refilled a few kilobytes at a time: one call into the
// CSPRNG per several hundred ids instead of one per message.
import { randomFillSync } from 'node:crypto';

const poolBytes = 4096;

export function pooledRandomHex(bytesPerId: number): () => string {
  const pool = Buffer.alloc(poolBytes);
  let offset = poolBytes;
  return () => {
    if (offset + bytesPerId > poolBytes) {
      randomFillSync(pool);
      offset = 0;
    }
    const hex = pool.toString('hex', offset, offset + bytesPerId);
    offset += bytesPerId;
    return hex;
  };
}
