// A stand-in for relay/dkim/signing-worker.ts that answers its first request with an error answer
// and dies on the second (the signing pool's test of a thread that fails mid-signature).
import { parentPort } from 'node:worker_threads';

let requests = 0;
parentPort?.on('message', (message: { id: number }) => {
  requests += 1;
  if (requests > 1) process.exit(3);
  parentPort?.postMessage({ id: message.id, error: 'answered by the test worker' });
});
