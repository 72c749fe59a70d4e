#!/usr/bin/env node
// mailfleet-relay --config relay.yaml [--check]
// The only place that reads the command line, creates the Registry and wires the pieces together.
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadRelaySettings, referencedFiles } from './config/load.ts';
import { startHealthServer, type HealthState } from './health.ts';
import { createLogger } from './log.ts';
import { createRelayMetrics } from './metrics.ts';
import { openSpool } from './queue/spool.ts';
import { createReloader } from './reload/reloader.ts';
import { watchFiles } from './reload/watch.ts';
import type { LiveSettings } from './smtp/live-settings.ts';
import { startRelay } from './smtp/server.ts';

const usage = 'usage: mailfleet-relay --config <relay.yaml> [--check]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.config) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const configPath = values.config;
  const loaded = await loadRelaySettings(configPath);
  if (!loaded.ok) {
    process.stderr.write(`${configPath}: invalid configuration (${loaded.errors.length} errors):\n`);
    for (const error of loaded.errors) process.stderr.write(`  ${error}\n`);
    return 1;
  }
  if (values.check) {
    process.stdout.write(`${configPath}: valid\n`);
    return 0;
  }
  await run(configPath, loaded.settings);
  return 0;
}

async function run(configPath: string, initial: LiveSettings): Promise<void> {
  const config = initial.config;
  const logger = createLogger(config.log.level);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailfleet_relay_' });
  const metrics = createRelayMetrics(registry);
  const health: HealthState = { phase: 'starting' };
  const spool = await openSpool({
    dir: config.queue.dir,
    minFreeBytes: config.queue.minFreeBytes,
    now: Date.now,
  });
  const http = await startHealthServer(config.http, registry, health, () => spool.hasSpace());
  let settings = initial;
  const relay = await startRelay({ settings, sink: spool, metrics, logger });
  const watcher = watchFiles([configPath, ...referencedFiles(config)], () => void reload());
  const reload = createReloader({
    configPath,
    current: () => settings,
    apply: (next) => {
      if (JSON.stringify(next.config.listeners) !== JSON.stringify(settings.config.listeners)) {
        logger.warn({ event: 'restart_needed' }, 'listener changes take effect at the next restart');
      }
      settings = next;
      relay.apply(next);
    },
    watched: (files) => {
      watcher.update(files);
    },
    logger,
    metrics,
  });
  health.phase = 'serving';
  logger.info(
    { event: 'started', smtpPorts: Object.fromEntries(relay.ports), httpPort: http.port, spool: spool.dir },
    'relay started',
  );
  process.on('SIGHUP', () => void reload());
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (health.phase === 'draining') return;
      health.phase = 'draining';
      logger.info({ event: 'draining', signal, openSessions: relay.openSessions() }, 'stopping');
      resolve();
    };
    process.on('SIGTERM', () => {
      stop('SIGTERM');
    });
    process.on('SIGINT', () => {
      stop('SIGINT');
    });
  });
  watcher.close();
  await relay.close(settings.config.limits.drainTimeoutSeconds * 1000);
  spool.close();
  await http.close();
  logger.info({ event: 'stopped' }, 'relay stopped');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `mailfleet-relay: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
