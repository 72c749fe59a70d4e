// Password hashes the AUTH users file may hold: bcrypt (`$2a$`, `$2b$`, `$2y$`) and Argon2 in its
// PHC string form (`$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>`, as the `argon2` CLI and most
// libraries print it; also argon2i and argon2d). Argon2 is checked with Node's own crypto.argon2,
// so no native add-on is needed. Parsing is pure; checking a password is the only I/O-free async work.
import { argon2, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const bcryptHash = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const argon2Hash =
  /^\$(argon2id|argon2i|argon2d)\$v=19\$m=([0-9]{1,7}),t=([0-9]{1,3}),p=([0-9]{1,3})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{16,})$/;

export interface Argon2Parameters {
  readonly algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly tag: Buffer;
}

export type PasswordHash =
  | { readonly kind: 'bcrypt'; readonly hash: string }
  | { readonly kind: 'argon2'; readonly parameters: Argon2Parameters };

/** Limits that keep one login from costing the relay seconds or gigabytes. */
const maxArgon2MemoryKiB = 262_144;
const maxArgon2Passes = 16;

/** The hash, or why it is not one the relay accepts (never echoing the text: it may be a password). */
export function parsePasswordHash(text: string): PasswordHash | { readonly problem: string } {
  if (bcryptHash.test(text)) return { kind: 'bcrypt', hash: text };
  const match = argon2Hash.exec(text);
  if (match === null) {
    return {
      problem:
        'the password must be a bcrypt hash ($2a$/$2b$/$2y$, cost 04-31) or an Argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); plaintext is refused',
    };
  }
  const [, algorithm, memory, passes, parallelism, salt, tag] = match as unknown as [
    string,
    Argon2Parameters['algorithm'],
    string,
    string,
    string,
    string,
    string,
  ];
  const parameters: Argon2Parameters = {
    algorithm,
    memoryKiB: Number(memory),
    passes: Number(passes),
    parallelism: Number(parallelism),
    salt: Buffer.from(salt, 'base64'),
    tag: Buffer.from(tag, 'base64'),
  };
  if (
    parameters.parallelism < 1 ||
    parameters.passes < 1 ||
    parameters.memoryKiB < 8 * parameters.parallelism
  ) {
    return { problem: 'the Argon2 parameters are out of range (p ≥ 1, t ≥ 1, m ≥ 8·p)' };
  }
  if (parameters.memoryKiB > maxArgon2MemoryKiB || parameters.passes > maxArgon2Passes) {
    return {
      problem: `the Argon2 cost is above what the relay accepts (m ≤ ${maxArgon2MemoryKiB}, t ≤ ${maxArgon2Passes})`,
    };
  }
  return { kind: 'argon2', parameters };
}

function argon2Tag(password: string, parameters: Argon2Parameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      parameters.algorithm,
      {
        message: Buffer.from(password, 'utf8'),
        nonce: parameters.salt,
        parallelism: parameters.parallelism,
        tagLength: parameters.tag.length,
        memory: parameters.memoryKiB,
        passes: parameters.passes,
      },
      (error, tag) => {
        if (error) reject(error);
        else resolve(tag);
      },
    );
  });
}

export async function passwordMatches(password: string, hash: PasswordHash): Promise<boolean> {
  if (hash.kind === 'bcrypt') return bcrypt.compare(password, hash.hash);
  const tag = await argon2Tag(password, hash.parameters);
  return tag.length === hash.parameters.tag.length && timingSafeEqual(tag, hash.parameters.tag);
}
