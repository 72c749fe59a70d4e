// What one attempt decides, pure and table-driven: per recipient the update, who is owed a failure
// report or a delay warning, and how a report that was or was not queued changes the updates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideAttempt,
  deferUnbounced,
  markDelayWarned,
  type IndexedReport,
  type ReportPolicy,
} from '../../../relay/delivery/attempt-decisions.ts';
import type { AttemptResult, GroupAttempt } from '../../../relay/delivery/attempt-result.ts';
import type { OutcomeContext } from '../../../relay/delivery/outcome.ts';
import type { DsnNotify } from '../../../relay/queue/message-sink.ts';
import type { QueuedMessage, RecipientState, RecipientUpdate } from '../../../relay/queue/queued-message.ts';

const context: OutcomeContext = {
  now: 100_000,
  receivedAt: 10_000,
  maxLifetimeMs: 3_600_000,
  backoff: { initialMs: 1000, maxMs: 60_000 },
  random: () => 0.5,
};
const reports: ReportPolicy = { sendReports: true, delayWarningMs: 60_000 };
const ok: AttemptResult = { kind: 'reply', code: 250, text: '2.0.0 ok' };
const later: AttemptResult = { kind: 'reply', code: 451, text: '4.3.0 later' };
const refused: AttemptResult = { kind: 'reply', code: 550, text: '5.1.1 no such user' };

function messageTo(
  recipients: readonly { address: string; notify?: DsnNotify[]; delayWarned?: boolean }[],
  mailFrom = 'sender@example.org',
): QueuedMessage {
  const inbound = recipients.map(({ address, notify }) => ({ address, ...(notify ? { notify } : {}) }));
  return {
    queueId: '00attempt001',
    envelope: {
      mailFrom,
      recipients: inbound,
      smtpUtf8: false,
      eightBitMime: false,
      client: { address: '127.0.0.1' },
      receivedAt: context.receivedAt,
    },
    size: 10,
    recipients: inbound.map((recipient, index): RecipientState => ({
      recipient,
      status: 'deferred',
      attempts: 1,
      nextAttemptAt: context.now,
      ...(recipients[index]?.delayWarned === true ? { delayWarned: true } : {}),
    })),
  };
}
const attempt = (destination: string, indexes: number[], results: AttemptResult[]): GroupAttempt => ({
  group: { destination, indexes },
  results,
});
const indexesOf = (reported: readonly IndexedReport[]): number[] => reported.map(({ index }) => index);

test('decideAttempt: one update per recipient attempted, across groups, with its destination', () => {
  const message = messageTo([{ address: 'a@x.test' }, { address: 'b@y.test' }, { address: 'c@x.test' }]);
  const { decided } = decideAttempt(
    message,
    [attempt('x.test', [0, 2], [ok, later]), attempt('y.test', [1], [refused])],
    context,
    reports,
  );
  assert.deepEqual(
    decided.map(({ destination, update }) => [destination, update.indexes, update.status, update.attempts]),
    [
      ['x.test', [0], 'delivered', 2],
      ['x.test', [2], 'deferred', 2],
      ['y.test', [1], 'bounced', 2],
    ],
  );
  assert.equal(decided[1]?.update.nextAttemptAt, context.now + 2000, 'backoff after the second attempt');
});

const reportCases: readonly (readonly [
  string,
  Parameters<typeof messageTo>,
  AttemptResult,
  ReportPolicy,
  { failed: number[]; delayed: number[] },
])[] = [
  ['a bounce is reported', [[{ address: 'a@x.test' }]], refused, reports, { failed: [0], delayed: [] }],
  [
    'no report when reports are off',
    [[{ address: 'a@x.test' }]],
    refused,
    { sendReports: false, delayWarningMs: 0 },
    { failed: [], delayed: [] },
  ],
  [
    'never to the null sender',
    [[{ address: 'a@x.test' }], ''],
    refused,
    reports,
    { failed: [], delayed: [] },
  ],
  [
    'NOTIFY=NEVER asks for none',
    [[{ address: 'a@x.test', notify: ['NEVER'] }]],
    refused,
    reports,
    { failed: [], delayed: [] },
  ],
  [
    'a deferral past the warning age is warned',
    [[{ address: 'a@x.test' }]],
    later,
    reports,
    { failed: [], delayed: [0] },
  ],
  [
    'once: a recipient already warned is not warned again',
    [[{ address: 'a@x.test', delayWarned: true }]],
    later,
    reports,
    { failed: [], delayed: [] },
  ],
  [
    'not before the warning age',
    [[{ address: 'a@x.test' }]],
    later,
    { sendReports: true, delayWarningMs: 120_000 },
    { failed: [], delayed: [] },
  ],
  ['a delivery owes nothing', [[{ address: 'a@x.test' }]], ok, reports, { failed: [], delayed: [] }],
];

for (const [name, message, result, policy, expected] of reportCases) {
  test(`decideAttempt reports: ${name}`, () => {
    const decided = decideAttempt(messageTo(...message), [attempt('x.test', [0], [result])], context, policy);
    assert.deepEqual({ failed: indexesOf(decided.failed), delayed: indexesOf(decided.delayed) }, expected);
  });
}

test('decideAttempt: a reported recipient carries the reply the sender will read', () => {
  const { failed } = decideAttempt(
    messageTo([{ address: 'a@x.test' }]),
    [attempt('x.test', [0], [refused])],
    context,
    reports,
  );
  assert.deepEqual(failed, [
    { index: 0, recipient: { address: 'a@x.test' }, reply: '550 5.1.1 no such user' },
  ]);
});

const updates: RecipientUpdate[] = [
  { indexes: [0], status: 'delivered', attempts: 1, nextAttemptAt: 5, reply: '250 ok' },
  { indexes: [1], status: 'bounced', attempts: 1, nextAttemptAt: 5, reply: '550 no' },
  { indexes: [2], status: 'deferred', attempts: 1, nextAttemptAt: 900, reply: '451 later' },
];
const reported = (index: number): IndexedReport => ({ index, recipient: { address: 'r@x.test' }, reply: '' });

test('deferUnbounced defers only the recipients whose bounce was not queued', () => {
  assert.deepEqual(deferUnbounced(updates, [reported(1)], 7000), [
    updates[0],
    {
      indexes: [1],
      status: 'deferred',
      attempts: 1,
      nextAttemptAt: 7000,
      reply: '550 no (bounce not queued yet)',
    },
    updates[2],
  ]);
});

test('markDelayWarned marks only deferred recipients that were warned', () => {
  assert.deepEqual(markDelayWarned(updates, [reported(1), reported(2)]), [
    updates[0],
    updates[1],
    { ...updates[2], delayWarned: true },
  ]);
  assert.deepEqual(markDelayWarned(updates, []), updates);
});
