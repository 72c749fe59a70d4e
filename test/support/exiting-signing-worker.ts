// A stand-in for relay/dkim/signing-worker.ts that dies on its first request, for the signing
// pool's test of a thread that fails mid-signature.
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => {
  process.exit(3);
});
