// mailfleet_relay_tls_certificate_expiry_timestamp_seconds: one series per configured certificate,
// from the settings in use at each scrape (so a reload that swaps certificates shows at once).
// Expected values come from openssl's own reading of the certificates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { loadRelaySettings } from '../../../relay/config/load.ts';
import { createTlsCertificateMetrics, tlsCertificateExpiryMetricName } from '../../../relay/metrics.ts';
import type { LiveSettings } from '../../../relay/smtp/live-settings.ts';
import { writeRelayConfig, type ConfigDocument } from '../../support/relay-process.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';

const cleanup: string[] = [];
after(() => Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true }))));

async function notAfterSeconds(certFile: string): Promise<number> {
  const { stdout } = await promisify(execFile)('openssl', ['x509', '-noout', '-enddate', '-in', certFile]);
  return Date.parse(stdout.trim().replace(/^notAfter=/, '')) / 1000;
}

async function settingsWith(certificates: readonly TestCertificates[]): Promise<LiveSettings> {
  const config: ConfigDocument = {
    hostname: 'relay.test',
    listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    tls: { certificates: certificates.map(({ certFile, keyFile }) => ({ certFile, keyFile })) },
  };
  const written = await writeRelayConfig(config);
  cleanup.push(written.dir);
  const loaded = await loadRelaySettings(written.configPath);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.settings;
}

function expirySeries(text: string): Record<string, number> {
  const pattern = new RegExp(`^${tlsCertificateExpiryMetricName}\\{certificate="(\\d+)"\\} (\\S+)$`, 'gm');
  const series: Record<string, number> = {};
  for (const [, index = '', value = ''] of text.matchAll(pattern)) series[index] = Number(value);
  return series;
}

test('the expiry of every configured certificate, following the settings in use', async () => {
  const first = await makeTestCertificates(['relay.test'], undefined, 'first');
  const second = await makeTestCertificates(['mail.test'], undefined, 'second');
  cleanup.push(first.dir, second.dir);
  const before = await settingsWith([first]);
  const reloaded = await settingsWith([second, first]);
  let current: LiveSettings | undefined = before;
  const registry = new Registry();
  createTlsCertificateMetrics(registry, () => current?.tls);

  assert.deepEqual(expirySeries(await registry.metrics()), { '0': await notAfterSeconds(first.certFile) });
  current = reloaded;
  assert.deepEqual(expirySeries(await registry.metrics()), {
    '0': await notAfterSeconds(second.certFile),
    '1': await notAfterSeconds(first.certFile),
  });
  current = undefined;
  assert.deepEqual(expirySeries(await registry.metrics()), {});
});
