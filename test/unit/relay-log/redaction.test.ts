import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../../relay/log.ts';
import { redactedValue, redactSecrets } from '../../../relay/log-redaction.ts';

function recordedLines(): { out: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { out, lines };
}

test('a log object without a secret field is passed on as it is, not copied', () => {
  const object = { event: 'received', queueId: 'Q1', size: 2048, client: { address: '10.0.0.1' } };
  assert.equal(redactSecrets(object), object);
});

test('password and key are censored at the top and one level down; the caller’s object is untouched', () => {
  const object = {
    event: 'x',
    password: 'hunter2',
    key: 'PRIVATE',
    auth: { user: 'app', password: 'p', key: 'k' },
    deeper: { level: { password: 'two levels down is not a path the relay logs' } },
    list: ['password', 'key'],
  };
  const before = structuredClone(object);
  assert.deepEqual(redactSecrets(object), {
    event: 'x',
    password: redactedValue,
    key: redactedValue,
    auth: { user: 'app', password: redactedValue, key: redactedValue },
    deeper: { level: { password: 'two levels down is not a path the relay logs' } },
    list: ['password', 'key'],
  });
  assert.deepEqual(object, before);
});

test('inherited fields are not own fields: nothing to censor', () => {
  const inherited = Object.create({ password: 'from the prototype' }) as Record<string, unknown>;
  inherited['event'] = 'y';
  assert.equal(redactSecrets(inherited), inherited);
});

test('the relay logger censors log objects and child bindings in the lines it writes', async () => {
  const { out, lines } = recordedLines();
  const logger = createLogger('info', out);
  logger.info({ event: 'auth', user: 'app', password: 'hunter2', tls: { key: 'PEM' } }, 'logged');
  logger.child({ key: 'child secret', session: 's1' }).info({ event: 'child' }, 'from a child');
  await new Promise((resolve) => setImmediate(resolve));
  const [first, second] = lines;
  assert.equal(lines.length, 2);
  assert.ok(first && second);
  assert.equal(first['password'], redactedValue);
  assert.deepEqual(first['tls'], { key: redactedValue });
  assert.equal(first['user'], 'app');
  assert.equal(second['key'], redactedValue);
  assert.equal(second['session'], 's1');
  assert.doesNotMatch(JSON.stringify(lines), /hunter2|PEM|child secret/);
});
