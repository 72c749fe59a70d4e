// Queue administration end to end: the CLI against the admin endpoint of a live spool.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { runQueueCommand } from '../../../relay/admin/cli.ts';
import { startQueueAdmin } from '../../../relay/admin/server.ts';
import { readAdminToken } from '../../../relay/admin/token.ts';
import { freeTcpPort } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

test('list, show, retry, delete and drain through the CLI', async () => {
  const deadHop = await freeTcpPort();
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: deadHop, tls: 'none' }, retryInitialSeconds: 600 },
  });
  const logger = (await import('pino')).pino({ level: 'silent' });
  const admin = await startQueueAdmin({
    spool: harness.spool,
    drain: (deadline) => harness.service.drain(deadline),
    now: () => Date.now(),
    port: 0,
    tokenDir: tmpdir(),
    logger,
  });
  const token = await readAdminToken(admin.tokenFile);
  const output: string[] = [];
  const run = (...argv: string[]) =>
    runQueueCommand(argv, {
      adminUrl: `http://127.0.0.1:${admin.port}`,
      token,
      fetch: globalThis.fetch,
      out: (text) => output.push(text),
      err: (text) => output.push(`ERR ${text}`),
    });
  try {
    const first = await enqueue(
      harness.spool,
      envelopeFor('alice@example.org', ['bob@x.test']),
      messageText('alice@example.org', 'bob@x.test', 'one'),
    );
    const second = await enqueue(
      harness.spool,
      envelopeFor('carol@example.org', ['dan@y.test']),
      messageText('carol@example.org', 'dan@y.test', 'two'),
    );
    await harness.waitForLog((line) => line['event'] === 'deferred' && line['queueId'] === second, 10_000);
    await harness.waitForLog((line) => line['event'] === 'deferred' && line['queueId'] === first, 10_000);

    assert.equal(await run('list', '--sender', 'carol', '--status', 'deferred'), 0);
    const listed = JSON.parse(output.pop() ?? '{}') as {
      messages: { queueId: string; recipients: { attempts: number }[] }[];
    };
    assert.deepEqual(
      listed.messages.map((message) => message.queueId),
      [second],
    );
    assert.equal(listed.messages[0]?.recipients[0]?.attempts, 1);

    assert.equal(await run('show', first), 0);
    assert.equal((JSON.parse(output.pop() ?? '{}') as { queueId: string }).queueId, first);

    assert.equal(await run('retry', first), 0);
    assert.deepEqual(JSON.parse(output.pop() ?? '{}'), { retried: 1 });
    await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === first && line['attempts'] === 2,
      10_000,
    );

    assert.equal(await run('delete', second), 0);
    assert.equal(harness.spool.show(second), undefined);
    output.pop();
    assert.equal(await run('show', second), 1);
    assert.match(output.pop() ?? '', /is not in the queue/);

    assert.equal(await run('drain', '--deadline', '0'), 0);
    assert.deepEqual(JSON.parse(output.pop() ?? '{}'), { handedOff: 0, remaining: 1 });
    assert.equal(await run('bogus'), 2);
  } finally {
    await admin.close();
    await harness.close();
  }
});
