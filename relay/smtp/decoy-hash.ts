// The hash a password is checked against when the AUTH user name is unknown (case 30). It has the
// algorithm and cost of the users file's own hashes, so a wrong name costs what a wrong password
// costs and the reply time cannot tell which names exist. It is made without hashing anything: a
// random salt and a random digest of the right shape make passwordMatches() do the full work of a
// real check and never match. Pure: the random bytes come in as a parameter.
import type { PasswordHash } from './password-hash.ts';

export type RandomBytes = (size: number) => Buffer;

const bcryptAlphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** What a relay whose users file is empty compares against: the cost bcryptjs itself defaults to. */
const emptyFileCost = 10;

/**
 * A decoy shaped like the most common hash in `hashes` (ties: the first in file order). A file that
 * mixes costs cannot hide every name: the most common shape hides the most of them.
 */
export function decoyHash(hashes: Iterable<PasswordHash>, random: RandomBytes): PasswordHash {
  const counts = new Map<string, { model: PasswordHash; count: number }>();
  for (const hash of hashes) {
    const key = shapeOf(hash);
    const seen = counts.get(key);
    if (seen) seen.count += 1;
    else counts.set(key, { model: hash, count: 1 });
  }
  let chosen: { model: PasswordHash; count: number } | undefined;
  for (const entry of counts.values()) if (!chosen || entry.count > chosen.count) chosen = entry;
  return chosen ? decoyLike(chosen.model, random) : bcryptDecoy('2b', emptyFileCost, random);
}

function shapeOf(hash: PasswordHash): string {
  if (hash.kind === 'bcrypt') return `bcrypt:${bcryptCost(hash.hash)}`;
  const { algorithm, memoryKiB, passes, parallelism, salt, tag } = hash.parameters;
  return `${algorithm}:${memoryKiB}:${passes}:${parallelism}:${salt.length}:${tag.length}`;
}

function decoyLike(model: PasswordHash, random: RandomBytes): PasswordHash {
  if (model.kind === 'bcrypt') return bcryptDecoy(model.hash.slice(1, 3), bcryptCost(model.hash), random);
  const parameters = model.parameters;
  return {
    kind: 'argon2',
    parameters: {
      ...parameters,
      salt: random(parameters.salt.length),
      tag: random(parameters.tag.length),
    },
  };
}

/** `$2b$12$` then 22 characters of salt and 31 of digest, all random (`version` is 2a, 2b or 2y). */
function bcryptDecoy(version: string, cost: number, random: RandomBytes): PasswordHash {
  const characters = [...random(53)].map((byte) => bcryptAlphabet[byte & 63] ?? '.').join('');
  return { kind: 'bcrypt', hash: `$${version}$${String(cost).padStart(2, '0')}$${characters}` };
}

/** The cost field of a bcrypt hash the parser accepted (`$2b$12$…` → 12). */
function bcryptCost(hash: string): number {
  return Number(hash.slice(4, 6));
}
