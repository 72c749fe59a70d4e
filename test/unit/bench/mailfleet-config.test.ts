// The benchmark's relay config must be one the relay accepts: checked against the relay's own schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { mailfleetBenchConfig } from '../../../bench/mailfleet-config.ts';
import { deliveryConfigSchema } from '../../../relay/config/delivery-schema.ts';
import { queueConfigSchema } from '../../../relay/config/queue-schema.ts';
import { validateRelayConfig } from '../../../relay/config/validate.ts';

const settings = {
  port: 2525,
  nextHopPort: 2626,
  spoolDirectory: '/tmp/bench/spool',
  stalledDelivery: false,
};
const configs = [
  mailfleetBenchConfig(settings),
  mailfleetBenchConfig({ ...settings, stalledDelivery: true }),
];

test('the benchmark relay configs pass the relay config validation', () => {
  for (const config of configs) {
    const result = validateRelayConfig(config, 'bench');
    assert.deepEqual(result.ok ? [] : result.errors, []);
  }
});

test('its queue and delivery sections pass their own schemas', () => {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validateQueue = ajv.compile(queueConfigSchema);
  const validateDelivery = ajv.compile(deliveryConfigSchema);
  for (const config of configs) {
    assert.ok(
      validateQueue(structuredClone(config['queue'])),
      `queue: ${ajv.errorsText(validateQueue.errors)}`,
    );
    assert.ok(
      validateDelivery(structuredClone(config['delivery'])),
      `delivery: ${ajv.errorsText(validateDelivery.errors)}`,
    );
  }
});
