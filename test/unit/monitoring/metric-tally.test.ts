import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createRelayMetrics } from '../../../relay/metrics.ts';

/** The value of one series in the registry's exposition, undefined when it has no such line. */
async function series(registry: Registry, line: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test('tallied counters reach their prom-client series when read, once each', async () => {
  const registry = new Registry();
  const metrics = createRelayMetrics(registry);
  metrics.tallies.messagesReceived.add('submission');
  metrics.tallies.messagesReceived.add('submission');
  metrics.tallies.messagesReceived.add('relay');
  metrics.tallies.senderDomainMessages.add('example.org');
  metrics.tallies.connections.add('submission');
  const received = 'mailfleet_relay_messages_received_total{listener="submission"}';
  assert.equal(await series(registry, received), 2);
  assert.equal(await series(registry, 'mailfleet_relay_messages_received_total{listener="relay"}'), 1);
  assert.equal(
    await series(registry, 'mailfleet_relay_sender_domain_messages_total{sender_domain="example.org"}'),
    1,
  );
  assert.equal(await series(registry, 'mailfleet_relay_connections_total{listener="submission"}'), 1);
  assert.equal(await series(registry, received), 2, 'a second read adds nothing twice');
  metrics.tallies.messagesReceived.add('submission');
  assert.equal(await series(registry, received), 3);
  assert.deepEqual((await metrics.messagesReceived.get()).values.map((value) => value.value).sort(), [1, 3]);
});

test('the open-sessions gauge follows opens and closes, per listener', async () => {
  const registry = new Registry();
  const metrics = createRelayMetrics(registry);
  metrics.tallies.activeSessions.add('submission', 1);
  metrics.tallies.activeSessions.add('submission', 1);
  metrics.tallies.activeSessions.add('relay', 1);
  metrics.tallies.activeSessions.add('submission', -1);
  assert.equal(await series(registry, 'mailfleet_relay_sessions_active{listener="submission"}'), 1);
  assert.equal(await series(registry, 'mailfleet_relay_sessions_active{listener="relay"}'), 1);
  metrics.tallies.activeSessions.add('relay', -1);
  assert.equal(await series(registry, 'mailfleet_relay_sessions_active{listener="relay"}'), 0);
});
