// One private key object per DKIM key instead of one per signature. mailauth (pinned to 7.1.0 in
// package.json) turns the PEM text it is given into a new KeyObject for every signature
// (`getPrivateKey` in lib/tools.js; it accepts no ready KeyObject), which for RSA-2048 doubled the
// cost of signing (docs/performance.md: 1.03 against 0.50 ms of CPU per 2 KB message, Ed25519 0.27
// against 0.15). Its DKIM signer takes `getPrivateKey` from lib/tools.js when it is first loaded,
// so replacing that export before mailauth's signer loads makes the signer use the memo below.
// lib/tools.js loads much of mailauth's dependencies, so it is loaded with the signer (sign.ts calls
// reuseKeyObjects first), not when this module is imported: a relay that never signs never loads it.
// This leans on a private internal of mailauth: test/unit/relay-dkim/key-objects.test.ts fails,
// saying so, when an upgrade moves it; the change worth proposing upstream is to accept a KeyObject.
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

interface MailauthTools {
  getPrivateKey: (key: string | Buffer) => KeyObject;
}

/** Keys of the running config and those of a reload or two; past this the memo starts over. */
const maxKeys = 64;

const keyObjects = new Map<string, KeyObject>();
let made = 0;

let installed = false;

/** Replaces mailauth's PEM parser with the memo; call it before mailauth's signer first loads. */
export function reuseKeyObjects(): void {
  if (installed) return;
  installed = true;
  const tools = createRequire(import.meta.url)('mailauth/lib/tools.js') as MailauthTools;
  const parse = tools.getPrivateKey;
  tools.getPrivateKey = (key) => {
    if (typeof key !== 'string') return parse(key);
    let keyObject = keyObjects.get(key);
    if (keyObject === undefined) {
      keyObject = parse(key);
      made += 1;
      if (keyObjects.size >= maxKeys) keyObjects.clear();
      keyObjects.set(key, keyObject);
    }
    return keyObject;
  };
}

/** How many key objects this thread has made (the test counts them). */
export function keyObjectsMade(): number {
  return made;
}
