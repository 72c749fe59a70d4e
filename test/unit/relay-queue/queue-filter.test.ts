// `queue list` filters, table-driven against one message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFilter, type QueueListFilter } from '../../../relay/queue/queue-filter.ts';
import type { QueuedMessage } from '../../../relay/queue/queued-message.ts';

const message: QueuedMessage = {
  queueId: '00abcdefgh',
  envelope: {
    mailFrom: 'Alerts@Example.org',
    recipients: [{ address: 'ops@x.test' }, { address: 'Done@y.test' }],
    smtpUtf8: false,
    eightBitMime: false,
    client: { address: '127.0.0.1' },
    receivedAt: 1000,
  },
  size: 10,
  recipients: [
    { recipient: { address: 'ops@x.test' }, status: 'deferred', attempts: 2, nextAttemptAt: 5000 },
    { recipient: { address: 'Done@y.test' }, status: 'delivered', attempts: 1, nextAttemptAt: 0 },
  ],
};

const cases: readonly (readonly [string, QueueListFilter, boolean])[] = [
  ['no filter', {}, true],
  ['sender, any case', { sender: 'alerts@example' }, true],
  ['another sender', { sender: 'billing' }, false],
  ['an open recipient, as a substring', { recipient: 'OPS@' }, true],
  ['a recipient already delivered does not count', { recipient: 'done@' }, false],
  ['status of an open recipient', { status: 'deferred' }, true],
  ['no open recipient has that status', { status: 'pending' }, false],
  ['old enough (exactly the age)', { olderThanMs: 2000 }, true],
  ['not old enough', { olderThanMs: 2001 }, false],
  ['every condition must hold', { sender: 'alerts', status: 'pending' }, false],
];

for (const [name, filter, expected] of cases) {
  test(`matchesFilter: ${name}`, () => {
    assert.equal(matchesFilter(message, filter, 3000), expected);
  });
}
