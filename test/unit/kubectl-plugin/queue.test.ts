import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deleteArgv,
  drainArgv,
  listArgv,
  renderById,
  renderDrained,
  renderQueueList,
  renderRetryAll,
  retryArgv,
  type PodAnswer,
} from '../../../kubectl-plugin/queue.ts';

const ok = (pod: string, body: unknown): PodAnswer => ({
  pod,
  code: 0,
  stdout: `${JSON.stringify(body)}\n`,
  stderr: '',
});
const refused = (pod: string, error: string): PodAnswer => ({
  pod,
  code: 1,
  stdout: '',
  stderr: `${JSON.stringify({ error })}\n`,
});

const message = (queueId: string, ageSeconds: number, status = 'deferred') => ({
  queueId,
  mailFrom: 'app@example.com',
  size: 1234,
  ageSeconds,
  recipients: [
    {
      address: 'a@example.net',
      status,
      attempts: 2,
      nextAttemptAt: '2026-01-01T00:05:00.000Z',
      lastReply: '451 4.3.0 try later',
    },
  ],
});

test('the queue CLI command run in each pod', () => {
  assert.deepEqual(listArgv({ sender: 's@x', recipient: 'r@y', status: 'deferred', olderThan: '60' }), [
    'mailfleet-relay',
    'queue',
    'list',
    '--sender',
    's@x',
    '--recipient',
    'r@y',
    '--status',
    'deferred',
    '--older-than',
    '60',
  ]);
  assert.deepEqual(retryArgv(undefined), ['mailfleet-relay', 'queue', 'retry', '--all']);
  assert.deepEqual(retryArgv('Q1'), ['mailfleet-relay', 'queue', 'retry', 'Q1']);
  assert.deepEqual(deleteArgv('Q1'), ['mailfleet-relay', 'queue', 'delete', 'Q1']);
  assert.deepEqual(drainArgv('60'), ['mailfleet-relay', 'queue', 'drain', '--deadline', '60']);
});

test('renderQueueList: one table across pods; a pod that failed is named and sets the exit status', () => {
  const outcome = renderQueueList(
    [
      ok('r-0', { messages: [message('Q1', 30)] }),
      ok('r-1', { messages: [message('Q2', 7_300)] }),
      { pod: 'r-2', code: 1, stdout: '', stderr: 'error: unable to upgrade connection: container not found' },
    ],
    false,
  );
  const lines = outcome.out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^POD +QUEUE ID +FROM +AGE +SIZE +RECIPIENTS +NEXT ATTEMPT +LAST REPLY$/);
  assert.match(
    lines[1] ?? '',
    /^r-0 +Q1 +app@example\.com +30s +1234 +a@example\.net \(deferred, 2\) +2026-01-01T00:05:00\.000Z +451 4\.3\.0 try later$/,
  );
  assert.match(lines[2] ?? '', /^r-1 +Q2 .* 2h /);
  assert.equal(
    outcome.err,
    'pod r-2: error: unable to upgrade connection: container not found (exit status 1)\n',
  );
  assert.equal(outcome.exitCode, 1);
});

test('renderQueueList: JSON carries the pod of each message; an empty queue says so', () => {
  const json = renderQueueList([ok('r-0', { messages: [message('Q1', 1)] })], true);
  assert.deepEqual(JSON.parse(json.out), { messages: [{ pod: 'r-0', ...message('Q1', 1) }] });
  assert.deepEqual(renderQueueList([ok('r-0', { messages: [] })], false), {
    out: 'No messages queued.\n',
    err: '',
    exitCode: 0,
  });
  assert.equal(renderQueueList([ok('r-0', { unexpected: true })], false).exitCode, 1);
});

test('renderById: the pod holding the message acts; the others not holding it is no error', () => {
  const answers = [refused('r-0', 'queue id Q1 is not in the queue'), ok('r-1', { retried: 1 })];
  assert.deepEqual(renderById('retried', 'outbound', 'Q1', answers), {
    out: 'Q1 retried on pod r-1\n',
    err: '',
    exitCode: 0,
  });
  const nowhere = [
    refused('r-0', 'queue id Q9 is not in the queue'),
    refused('r-1', 'queue id Q9 is not in the queue'),
  ];
  assert.deepEqual(renderById('deleted', 'outbound', 'Q9', nowhere), {
    out: '',
    err: 'queue id Q9 is in no pod of SmtpRelay outbound (r-0, r-1)\n',
    exitCode: 1,
  });
  const broken = [refused('r-0', '"x" is not a queue id')];
  assert.deepEqual(renderById('deleted', 'outbound', 'x', broken), {
    out: '',
    err: 'pod r-0: "x" is not a queue id\n',
    exitCode: 1,
  });
});

test('renderRetryAll and renderDrained: per-pod counts', () => {
  const all = renderRetryAll([ok('r-0', { retried: 2 }), ok('r-1', { retried: 3 })]);
  assert.match(all.out, /^POD +RETRIED\nr-0 +2\nr-1 +3\n5 message\(s\) set to retry now\n$/);
  assert.equal(all.exitCode, 0);
  assert.deepEqual(renderDrained(ok('r-1', { handedOff: 4, remaining: 0 })), {
    out: 'pod r-1 drained: 4 handed to peers, 0 still queued\n',
    err: '',
    exitCode: 0,
  });
  assert.equal(renderDrained(refused('r-1', 'drain needs POST')).err, 'pod r-1: drain needs POST\n');
});
