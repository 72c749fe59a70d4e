import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { deliveryConfigSchema } from '../../../relay/config/delivery-schema.ts';
import { dkimKeyListSchema } from '../../../relay/config/dkim-schema.ts';
import { queueConfigSchema } from '../../../relay/config/queue-schema.ts';

// The same options the root config validation uses: strict schemas, defaults filled in.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });

test('queue and delivery sections fill in their defaults from an empty object', () => {
  const queue = {};
  assert.equal(ajv.compile(queueConfigSchema)(queue), true);
  assert.deepEqual(queue, {
    dir: '/var/spool/mailfleet',
    minFreeBytes: 268435456,
    maxLifetimeSeconds: 432000,
    delayWarningSeconds: 0,
    sendReports: true,
    adminPort: 8026,
    commitDelayMs: 5,
  });
  const delivery = {};
  assert.equal(ajv.compile(deliveryConfigSchema)(delivery), true);
  assert.equal((delivery as { mode: string }).mode, 'mx');
  assert.equal((delivery as { allowPrivateDestinations: boolean }).allowPrivateDestinations, false);
});

test('invalid sections are refused with the failing path', () => {
  const table: readonly [string, (value: unknown) => boolean, unknown, string][] = [
    ['smarthost mode without a host', ajv.compile(deliveryConfigSchema), { mode: 'smarthost' }, 'smarthost'],
    [
      'bad smarthost tls',
      ajv.compile(deliveryConfigSchema),
      { mode: 'smarthost', smarthost: { host: 'h', tls: 'maybe' } },
      '/smarthost/tls',
    ],
    ['bad drain peer', ajv.compile(deliveryConfigSchema), { drainPeers: ['no-port'] }, '/drainPeers/0'],
    ['relative spool dir', ajv.compile(queueConfigSchema), { dir: 'spool' }, '/dir'],
    ['commit delay past its bound', ajv.compile(queueConfigSchema), { commitDelayMs: 51 }, '/commitDelayMs'],
    [
      'unknown algorithm',
      ajv.compile(dkimKeyListSchema),
      [{ selector: 's', algorithm: 'rsa-sha1', privateKeyFile: '/k' }],
      '/0/algorithm',
    ],
  ];
  for (const [name, validate, value, path] of table) {
    const compiled = validate as ReturnType<typeof ajv.compile>;
    assert.equal(compiled(value), false, name);
    const paths = (compiled.errors ?? []).map(
      (error) => `${error.instancePath} ${JSON.stringify(error.params)}`,
    );
    assert.ok(
      paths.some((entry) => entry.includes(path)),
      `${name}: ${paths.join('; ')}`,
    );
  }
});
