// Connection slots (case 31): the per-address limit first, then the global limit less the slots
// reserved for policy.allowedNetworks; stress from the threshold on; and the command deadline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LimitsConfig } from '../../../relay/config/types.ts';
import { commandDeadlineMs } from '../../../relay/smtp/command-deadline.ts';
import { ConnectionSlots, reservedSlots, type SlotLimits } from '../../../relay/smtp/connection-slots.ts';

const limits: SlotLimits = { maxConnections: 10, maxConnectionsPerIp: 3, stressThreshold: 0.8 };

test('the per-address limit is checked before the global one', () => {
  const slots = new ConnectionSlots();
  for (let i = 0; i < 3; i++) assert.deepEqual(slots.admit('192.0.2.1', false, limits), { admitted: true });
  assert.deepEqual(slots.admit('192.0.2.1', false, limits), { admitted: false, limit: 'per_ip' });
  assert.deepEqual(slots.admit('192.0.2.2', false, limits), { admitted: true });
});

test('strangers stop at maxConnections less the reserved slots; trusted clients may take those', () => {
  const slots = new ConnectionSlots();
  assert.equal(reservedSlots(limits), 1, '10% of maxConnections when not set');
  for (let i = 0; i < 9; i++) assert.ok(slots.admit(`192.0.2.${String(i)}`, false, limits).admitted);
  assert.deepEqual(slots.admit('192.0.2.100', false, limits), { admitted: false, limit: 'global' });
  assert.deepEqual(slots.admit('10.0.0.1', true, limits), { admitted: true });
  assert.deepEqual(slots.admit('10.0.0.2', true, limits), { admitted: false, limit: 'global' });
  slots.release('192.0.2.0');
  assert.deepEqual(slots.admit('10.0.0.2', true, limits), { admitted: true });
});

test('an explicit reservation replaces the 10% default; zero reserves nothing', () => {
  const none = { ...limits, reservedConnectionsForAllowedNetworks: 0 };
  const slots = new ConnectionSlots();
  for (let i = 0; i < 10; i++) assert.ok(slots.admit(`192.0.2.${String(i)}`, false, none).admitted);
  assert.equal(slots.admit('192.0.2.200', false, none).admitted, false);
  assert.equal(reservedSlots({ ...limits, reservedConnectionsForAllowedNetworks: 4 }), 4);
});

test('release gives the slot back to its address and to the total, never below zero', () => {
  const slots = new ConnectionSlots();
  slots.admit('192.0.2.1', false, limits);
  slots.release('192.0.2.1');
  slots.release('192.0.2.1');
  assert.equal(slots.open(), 0);
  for (let i = 0; i < 3; i++) assert.ok(slots.admit('192.0.2.1', false, limits).admitted);
});

test('under stress from the threshold on', () => {
  const slots = new ConnectionSlots();
  for (let i = 0; i < 7; i++) slots.admit(`192.0.2.${String(i)}`, false, limits);
  assert.equal(slots.underStress(limits), false);
  slots.admit('192.0.2.7', false, limits);
  assert.equal(slots.underStress(limits), true);
});

const deadlineLimits = { commandTimeoutSeconds: 300, stressCommandTimeoutSeconds: 10 } as LimitsConfig;
for (const [underStress, trusted, authenticated, seconds] of [
  [false, false, false, 300],
  [true, false, false, 10],
  [true, true, false, 300],
  [true, false, true, 300],
  [false, true, true, 300],
] as const) {
  test(`command deadline: stress ${String(underStress)}, trusted ${String(trusted)}, authenticated ${String(authenticated)} → ${String(seconds)} s`, () => {
    assert.equal(commandDeadlineMs(deadlineLimits, { underStress, trusted, authenticated }), seconds * 1000);
  });
}

test('under stress the deadline only shortens: a command timeout below the stress one stays', () => {
  const short = { commandTimeoutSeconds: 2, stressCommandTimeoutSeconds: 10 } as LimitsConfig;
  assert.equal(commandDeadlineMs(short, { underStress: true, trusted: false, authenticated: false }), 2000);
});
