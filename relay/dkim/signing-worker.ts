// A DKIM signing thread of the signing pool (signing-pool.ts): signs each message it is sent (or
// its header section and body hash) with the keys sent along, exactly as the main thread would
// (sign.ts), and answers with the result.
import { parentPort } from 'node:worker_threads';
import type { SigningAnswer, SigningMessage } from './signing-pool.ts';
import { signMessage } from './sign.ts';

const port = parentPort;
if (port === null) throw new Error('signing-worker.ts runs as a worker thread of the signing pool');

port.on('message', (message: SigningMessage) => {
  const domain = message.senderDomain.toLowerCase();
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  const source = message.bodyHash === undefined ? bytes : { header: bytes, bodyHash: message.bodyHash };
  signMessage(new Map([[domain, message.keys]]), domain, source, new Date(message.signTime)).then(
    (result) => {
      port.postMessage({ id: message.id, result } satisfies SigningAnswer);
    },
    (error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: message.id, error: text } satisfies SigningAnswer);
    },
  );
});
