// The send context alone: what it carries into sendGroup, and the start-up warnings about a
// smarthost reached without TLS or with a certificate that is not verified (said once, here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { DeliveryConfig, SmarthostConfig } from '../../../relay/config/delivery-schema.ts';
import { createSigningPool } from '../../../relay/dkim/signing-pool.ts';
import { createDeliveryMetrics } from '../../../relay/delivery/metrics.ts';
import { createSendContext } from '../../../relay/delivery/send-context.ts';
import { createSessionPool } from '../../../relay/delivery/session-pool.ts';
import type { Spool } from '../../../relay/queue/spool.ts';

const base: DeliveryConfig = {
  mode: 'mx',
  dnsServers: [],
  mxPort: 25,
  mtaSts: false,
  allowPlaintextFallback: true,
  allowPrivateDestinations: false,
  concurrencyPerDestination: 2,
  maxConcurrentDeliveries: 4,
  retryInitialSeconds: 1,
  retryMaxSeconds: 2,
  connectTimeoutSeconds: 3,
  drainPeers: [],
};
const smarthost = (settings: Pick<SmarthostConfig, 'tls' | 'verifyCertificate'>): DeliveryConfig => ({
  ...base,
  mode: 'smarthost',
  smarthost: { host: 'smarthost.example.net', port: 587, ...settings },
});

function contextFor(delivery: DeliveryConfig): {
  context: ReturnType<typeof createSendContext>;
  warnings: Record<string, unknown>[];
} {
  const warnings: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => warnings.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const context = createSendContext({
    delivery,
    hostname: 'relay.mailfleet.test',
    // Only carried along: sendGroup reads bodies through it, nothing here does.
    spool: {} as Spool,
    pool: createSessionPool(delivery.concurrencyPerDestination, 5000),
    signingPool: createSigningPool(0),
    secrets: { dkimKeys: new Map(), smarthostAuth: { user: 'relay', pass: 'secret' } },
    metrics: createDeliveryMetrics(new Registry()),
    logger,
    now: () => 0,
    signal: new AbortController().signal,
  });
  return { context, warnings };
}

const cases: readonly (readonly [string, DeliveryConfig, (string | undefined)[]])[] = [
  ['MX delivery', base, []],
  ['smarthost with STARTTLS required, verified', smarthost({ tls: 'required' }), []],
  ['smarthost with TLS off', smarthost({ tls: 'none' }), ['tls-off']],
  [
    'smarthost with TLS off and verification off',
    smarthost({ tls: 'none', verifyCertificate: false }),
    ['tls-off'],
  ],
  [
    'smarthost with implicit TLS, not verified',
    smarthost({ tls: 'implicit', verifyCertificate: false }),
    ['tls-unverified'],
  ],
];

for (const [name, delivery, expected] of cases) {
  test(`createSendContext warnings: ${name}`, async () => {
    const { context, warnings } = contextFor(delivery);
    assert.deepEqual(
      warnings.map(({ event }) => event as string | undefined),
      expected,
    );
    for (const warning of warnings) assert.equal(warning['destination'], 'smarthost.example.net:587');
    await context.signingPool.close();
  });
}

test('the context carries the hostname as EHLO name, the secrets, and once-only flags of its own', async () => {
  const first = contextFor(base).context;
  const second = contextFor(base).context;
  assert.equal(first.heloName, 'relay.mailfleet.test');
  assert.deepEqual(first.smarthostAuth, { user: 'relay', pass: 'secret' });
  first.authWithheldLogged.value = true;
  assert.equal(second.authWithheldLogged.value, false, 'each service logs auth-withheld once for itself');
  assert.equal(first.authRefusedLogged.value, false);
  await first.signingPool.close();
  await second.signingPool.close();
});
