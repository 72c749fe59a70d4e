// DKIM signing on worker threads (relay/dkim/signing-pool.ts): the threads sign exactly as the main
// thread does, a thread that dies fails only its own requests, and the relay still signs every
// message in the main thread when the threads cannot. dkim.test.ts verifies the signatures
// end to end with dkimpy; these tests compare with the main thread's own signatures.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, test } from 'node:test';
import type { DkimKey } from '../../../relay/dkim/keys.ts';
import { splitAndHashRelaxed } from '../../../relay/dkim/relaxed-body.ts';
import { signMessage } from '../../../relay/dkim/sign.ts';
import { createSigningPool } from '../../../relay/dkim/signing-pool.ts';
import { Readable } from 'node:stream';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import {
  enqueue,
  envelopeFor,
  messageText,
  startHarness,
  type Harness,
  type HarnessOptions,
} from './harness.ts';

const keys: readonly DkimKey[] = [
  {
    selector: 'rsa',
    algorithm: 'rsa-sha256',
    privateKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  },
  {
    selector: 'ed',
    algorithm: 'ed25519-sha256',
    privateKeyPem: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  },
];
const body = Buffer.from(messageText('news@signer.test', 'reader@x.test', 'threaded'));
const signTime = new Date('2026-12-02T03:00:00Z');

const sinks: SmtpSink[] = [];
after(async () => {
  await Promise.all(sinks.map((sink) => sink.stop()));
});

test('a signing thread makes the very signatures the main thread makes (RSA and Ed25519)', async () => {
  const pool = createSigningPool(2);
  try {
    const prepared = splitAndHashRelaxed(body);
    assert.ok(prepared, 'the test message takes the fast path');
    const threaded = await Promise.all([
      ...[1, 2].map(() => pool.sign({ senderDomain: 'Signer.Test', keys, message: body, signTime })),
      // As delivery sends it: the header section and the body hash computed in the main thread.
      pool.sign({ senderDomain: 'Signer.Test', keys, message: prepared, signTime }),
    ]);
    const inProcess = await signMessage(
      new Map([['signer.test', keys]]),
      'signer.test',
      () => Readable.from([body]),
      signTime,
    );
    assert.deepEqual(inProcess.errors, []);
    assert.match(inProcess.signatures, /a=rsa-sha256[\s\S]*a=ed25519-sha256/);
    for (const result of threaded) assert.deepEqual(result, inProcess);
  } finally {
    await pool.close();
  }
});

const testWorker = (name: string) => new URL(`../../support/${name}.ts`, import.meta.url);
const request = { senderDomain: 'signer.test', keys, message: body, signTime };

test('a thread that dies fails what it was signing; the next request gets a new thread', async () => {
  const pool = createSigningPool(1, testWorker('signing-worker-answers-then-exits'));
  try {
    await assert.rejects(pool.sign(request), /answered by the test worker/);
    await assert.rejects(pool.sign(request), /exited with code 3$/);
    await assert.rejects(pool.sign(request), /answered by the test worker/, 'a new thread answers');
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.sign(request), /pool is closed/);
});

test('a thread that cannot start turns the pool off instead of starting one per message', async () => {
  const pool = createSigningPool(2, testWorker('signing-worker-exits-at-start'));
  try {
    await assert.rejects(pool.sign(request), /exited with code 3; DKIM signing threads are off/);
    assert.equal(pool.size, 0, 'callers now sign in their own thread');
    await assert.rejects(pool.sign(request), /off since one failed to start/);
  } finally {
    await pool.close();
  }
});

/**
 * Sends one message from signer.test through a relay (harness) delivering to a real smtp-sink,
 * checks it arrived RSA-signed, and hands the harness and queue id to `check` before closing it.
 */
async function sendSigned(
  options: Pick<HarnessOptions, 'signingPool'> & { readonly signingThreads?: number },
  check: (harness: Harness, queueId: string) => Promise<void>,
): Promise<void> {
  const sink = await startSmtpSink();
  sinks.push(sink);
  const harness = await startHarness({
    delivery: {
      smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
      ...(options.signingThreads === undefined ? {} : { signingThreads: options.signingThreads }),
    },
    dkimKeys: new Map([['signer.test', keys]]),
    ...(options.signingPool === undefined ? {} : { signingPool: options.signingPool }),
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('news@signer.test', ['reader@x.test'], { senderDomain: 'signer.test' }),
      messageText('news@signer.test', 'reader@x.test', 'signed'),
    );
    const [dumped] = await sink.waitForMessages(1, 10_000);
    assert.match(dumped?.raw ?? '', /DKIM-Signature: [^\n]*a=rsa-sha256/);
    await check(harness, queueId);
  } finally {
    await harness.close();
  }
}

test('with signingThreads 0 the relay signs in the main thread, without a warning', async () => {
  await sendSigned({ signingThreads: 0 }, async (harness) => {
    await harness.waitForEmptyQueue(5000);
    assert.equal(harness.logs().filter((line) => String(line['event']).startsWith('dkim-')).length, 0);
  });
});

test('when the threads cannot sign, the relay signs in the main thread and says so', async () => {
  const closedPool = createSigningPool(1);
  await closedPool.close();
  await sendSigned({ signingPool: closedPool }, async (harness, queueId) => {
    const warning = await harness.waitForLog((line) => line['event'] === 'dkim-thread-failed', 1000);
    assert.equal(warning['queueId'], queueId);
    assert.equal(harness.logs().filter((line) => line['event'] === 'dkim-failed').length, 0);
  });
});
