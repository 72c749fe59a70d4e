// Shared by the spool's unit tests: a temp directory per test file, and envelopes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';

/** A fresh directory under the system temp dir for this file's tests, removed after them; call in the tests. */
export function tempRoot(prefix: string): () => string {
  let root: string | undefined;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });
  return () => {
    if (root === undefined) throw new Error('tempRoot is read inside a test, after its before hook');
    return root;
  };
}

export function envelopeTo(recipients: readonly string[], receivedAt = 1000): InboundEnvelope {
  return {
    mailFrom: 'sender@example.org',
    recipients: recipients.map((address) => ({ address })),
    smtpUtf8: false,
    eightBitMime: false,
    client: { address: '127.0.0.1' },
    receivedAt,
  };
}
