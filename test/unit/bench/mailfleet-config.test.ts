// The benchmark's relay config must be one the relay accepts: checked against the relay's own schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { mailfleetBenchConfig } from '../../../bench/mailfleet-config.ts';
import { deliveryConfigSchema } from '../../../relay/config/delivery-schema.ts';
import { queueConfigSchema } from '../../../relay/config/queue-schema.ts';
import { validateRelayConfig } from '../../../relay/config/validate.ts';

const config = mailfleetBenchConfig({ port: 2525, nextHopPort: 2626, spoolDirectory: '/tmp/bench/spool' });

test('the benchmark relay config passes the relay config validation', () => {
  const result = validateRelayConfig(config, 'bench');
  assert.deepEqual(result.ok ? [] : result.errors, []);
});

test('its queue and delivery sections pass their own schemas', () => {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const cases = [
    { name: 'queue', schema: queueConfigSchema, section: config['queue'] },
    { name: 'delivery', schema: deliveryConfigSchema, section: config['delivery'] },
  ];
  for (const { name, schema, section } of cases) {
    const validate = ajv.compile(schema);
    assert.ok(validate(structuredClone(section)), `${name}: ${ajv.errorsText(validate.errors)}`);
  }
});
