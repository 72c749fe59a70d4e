import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replyLine, withoutInterrupted, type AttemptResult } from '../../../relay/delivery/attempt-result.ts';
import { retryDelayMs } from '../../../relay/delivery/backoff.ts';
import { classify } from '../../../relay/delivery/classify.ts';
import { decideOutcome, delayWarningDue } from '../../../relay/delivery/outcome.ts';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';
import {
  applyUpdates,
  type RecipientState,
  type RecipientUpdate,
} from '../../../relay/queue/queued-message.ts';
import { decodeUpdates, encodeUpdate } from '../../../relay/queue/spool-format.ts';

const classifications: readonly [string, AttemptResult, string][] = [
  ['250', { kind: 'reply', code: 250, text: '2.0.0 ok' }, 'delivered'],
  ['251', { kind: 'reply', code: 251, text: 'forwarded' }, 'delivered'],
  ['421', { kind: 'reply', code: 421, text: '4.3.2 shutting down' }, 'deferred'],
  ['450', { kind: 'reply', code: 450, text: '4.2.0 mailbox busy' }, 'deferred'],
  ['452', { kind: 'reply', code: 452, text: '4.5.3 too many' }, 'deferred'],
  ['550', { kind: 'reply', code: 550, text: '5.1.1 no such user' }, 'bounced'],
  ['554', { kind: 'reply', code: 554, text: '5.7.1 rejected' }, 'bounced'],
  ['network', { kind: 'network', text: 'ECONNREFUSED' }, 'deferred'],
  ['tls', { kind: 'tls', text: 'certificate expired' }, 'deferred'],
  ['auth withheld', { kind: 'auth-withheld', text: 'no TLS' }, 'deferred'],
  ['auth refused 535', { kind: 'auth-refused', code: 535, text: '5.7.8 bad credentials' }, 'deferred'],
  ['auth refused 534', { kind: 'auth-refused', code: 534, text: '5.7.9 mechanism too weak' }, 'deferred'],
  ['auth refused 538', { kind: 'auth-refused', code: 538, text: '5.7.11 encryption required' }, 'deferred'],
  ['dns temporary', { kind: 'dns', permanent: false, text: 'SERVFAIL' }, 'deferred'],
  ['dns permanent', { kind: 'dns', permanent: true, text: 'NXDOMAIN' }, 'bounced'],
  ['forbidden', { kind: 'forbidden-destination', text: '127.0.0.1' }, 'bounced'],
  ['interrupted', { kind: 'interrupted', text: 'the relay is stopping' }, 'deferred'],
];

for (const [name, result, verdict] of classifications) {
  test(`classify ${name} → ${verdict}`, () => {
    assert.equal(classify(result), verdict);
  });
}

test('replyLine gives synthetic enhanced codes and never keeps CR or LF', () => {
  const table: readonly [AttemptResult, string][] = [
    [{ kind: 'forbidden-destination', text: '10.0.0.1' }, '550 5.4.4 destination not allowed: 10.0.0.1'],
    [{ kind: 'tls', text: 'bad\r\ncert' }, '451 4.7.5 TLS failed, not sent in plaintext: bad cert'],
    [{ kind: 'auth-withheld', text: 'no TLS' }, '451 4.7.0 credentials withheld: no TLS'],
    [
      { kind: 'auth-refused', code: 535, text: '5.7.8 no' },
      "451 4.7.0 the next hop refused the relay's credentials (535 5.7.8 no)",
    ],
    [{ kind: 'reply', code: 550, text: '5.1.1 a\nb' }, '550 5.1.1 a b'],
    [{ kind: 'interrupted', text: 'delivery interrupted' }, '451 4.3.2 delivery interrupted'],
  ];
  for (const [result, line] of table) assert.equal(replyLine(result), line);
});

test('withoutInterrupted leaves out only the recipients whose attempt the relay cut short', () => {
  const delivered: AttemptResult = { kind: 'reply', code: 250, text: '2.0.0 ok' };
  const cut: AttemptResult = { kind: 'interrupted', text: 'the relay is stopping' };
  const refused: AttemptResult = { kind: 'reply', code: 550, text: '5.1.1 no' };
  assert.deepEqual(
    withoutInterrupted([
      { group: { destination: 'a.test', indexes: [0, 2] }, results: [delivered, cut] },
      { group: { destination: 'b.test', indexes: [1] }, results: [cut] },
      { group: { destination: 'c.test', indexes: [3, 4] }, results: [refused, delivered] },
    ]),
    [
      { group: { destination: 'a.test', indexes: [0] }, results: [delivered] },
      { group: { destination: 'c.test', indexes: [3, 4] }, results: [refused, delivered] },
    ],
  );
  assert.deepEqual(
    withoutInterrupted([{ group: { destination: 'b.test', indexes: [1] }, results: [cut] }]),
    [],
  );
});

test('retryDelayMs doubles per attempt, caps, and jitters by ±25%', () => {
  const policy = { initialMs: 1000, maxMs: 10_000 };
  const table: readonly [number, number, number][] = [
    [1, 0.5, 1000],
    [2, 0.5, 2000],
    [3, 0.5, 4000],
    [5, 0.5, 10_000],
    [40, 0.5, 10_000],
    [1, 0, 750],
    [1, 0.999999, 1250],
  ];
  for (const [attempts, random, expected] of table) {
    assert.equal(
      retryDelayMs(attempts, policy, () => random),
      expected,
      `attempt ${attempts} random ${random}`,
    );
  }
});

const state: RecipientState = {
  recipient: { address: 'a@x.test' },
  status: 'pending',
  attempts: 0,
  nextAttemptAt: 0,
};
const context = {
  now: 10_000,
  receivedAt: 0,
  maxLifetimeMs: 100_000,
  backoff: { initialMs: 1000, maxMs: 50_000 },
  random: () => 0.5,
};

test('decideOutcome: delivered, deferred with the next attempt, bounced on 5xx and on expiry', () => {
  const delivered = decideOutcome(0, state, { kind: 'reply', code: 250, text: 'ok' }, context);
  assert.deepEqual(delivered.update, {
    indexes: [0],
    status: 'delivered',
    attempts: 1,
    nextAttemptAt: 10_000,
    reply: '250 ok',
  });

  const deferred = decideOutcome(
    2,
    { ...state, attempts: 2 },
    { kind: 'reply', code: 451, text: '4.3.0 later' },
    context,
  );
  assert.deepEqual(deferred.update, {
    indexes: [2],
    status: 'deferred',
    attempts: 3,
    nextAttemptAt: 14_000,
    reply: '451 4.3.0 later',
  });

  const bounced = decideOutcome(0, state, { kind: 'reply', code: 550, text: '5.1.1 unknown' }, context);
  assert.equal(bounced.update.status, 'bounced');
  assert.equal(bounced.expired, false);

  const expired = decideOutcome(
    0,
    { ...state, attempts: 7 },
    { kind: 'network', text: 'refused' },
    { ...context, now: 90_000 },
  );
  assert.equal(expired.verdict, 'bounced');
  assert.equal(expired.expired, true);
  assert.match(expired.update.reply ?? '', /queue lifetime expired/);
});

test('delayWarningDue: once per recipient, only for deferrals past the threshold, as NOTIFY allows', () => {
  const hour = 3_600_000;
  const envelope: InboundEnvelope = {
    mailFrom: 'sender@example.org',
    recipients: [{ address: 'a@x.test' }],
    smtpUtf8: false,
    eightBitMime: false,
    client: { address: '127.0.0.1' },
    receivedAt: 0,
  };
  const state: RecipientState = {
    recipient: { address: 'a@x.test' },
    status: 'deferred',
    attempts: 3,
    nextAttemptAt: 0,
  };
  const deferred: RecipientUpdate = {
    indexes: [0],
    status: 'deferred',
    attempts: 4,
    nextAttemptAt: 5 * hour,
  };
  const table: [string, RecipientState, RecipientUpdate, InboundEnvelope, number, number, boolean][] = [
    ['past 4 h, deferred', state, deferred, envelope, 4 * hour, 4 * hour, true],
    ['not yet 4 h', state, deferred, envelope, 4 * hour - 1, 4 * hour, false],
    ['warnings off', state, deferred, envelope, 9 * hour, 0, false],
    ['already warned', { ...state, delayWarned: true }, deferred, envelope, 9 * hour, 4 * hour, false],
    [
      'bounced, not delayed',
      state,
      { indexes: [0], status: 'bounced', attempts: 4, nextAttemptAt: 0 },
      envelope,
      9 * hour,
      4 * hour,
      false,
    ],
    [
      'NOTIFY=FAILURE only',
      { ...state, recipient: { address: 'a@x.test', notify: ['FAILURE'] } },
      deferred,
      envelope,
      9 * hour,
      4 * hour,
      false,
    ],
    ['null sender', state, deferred, { ...envelope, mailFrom: '' }, 9 * hour, 4 * hour, false],
  ];
  for (const [name, recipientState, update, env, now, threshold, expected] of table) {
    assert.equal(delayWarningDue(recipientState, update, env, now, threshold), expected, name);
  }
});

test('delayWarned is kept in the state log and stays set over later updates', () => {
  const warned = {
    indexes: [0],
    status: 'deferred',
    attempts: 2,
    nextAttemptAt: 9,
    delayWarned: true,
  } as const;
  const later = { indexes: [0], status: 'deferred', attempts: 3, nextAttemptAt: 19 } as const;
  const replayed = decodeUpdates(encodeUpdate(warned) + encodeUpdate(later));
  assert.deepEqual(replayed, [warned, later]);
  const start: RecipientState[] = [
    { recipient: { address: 'a@x.test' }, status: 'pending', attempts: 0, nextAttemptAt: 0 },
  ];
  assert.equal(applyUpdates(start, replayed)[0]?.delayWarned, true);
  assert.equal(applyUpdates(start, [later])[0]?.delayWarned, undefined);
});
