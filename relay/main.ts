#!/usr/bin/env node
// mailfleet-relay --config relay.yaml [--check | --drain-and-exit]
// mailfleet-relay queue [--admin-url http://127.0.0.1:8026] [--admin-token-dir /tmp] <list|show|retry|delete|drain> ...
// The only place that reads the command line, creates the Registry and wires the pieces together.
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { queueEndpoint, queueUsage, runQueueCommand } from './admin/cli.ts';
import { startQueueAdmin } from './admin/server.ts';
import { defaultAdminTokenDir, readAdminToken } from './admin/token.ts';
import { loadRelaySettings, referencedFiles } from './config/load.ts';
import type { RelayConfig } from './config/types.ts';
import { createDeliveryMetrics } from './delivery/metrics.ts';
import { startDelivery, type DeliverySecrets } from './delivery/service.ts';
import { startHealthServer } from './health.ts';
import { createReadinessMetric, type HealthState } from './readiness.ts';
import { batchedLines, createLogger, reportDroppedLines, stdoutDestination } from './log.ts';
import { createRelayMetrics, createTlsCertificateMetrics } from './metrics.ts';
import { createQueueMetrics } from './queue/metrics.ts';
import { openSpool } from './queue/spool.ts';
import { SpoolFormatError } from './queue/spool-version.ts';
import { createReloader } from './reload/reloader.ts';
import { unknownKeyReread } from './reload/unknown-key.ts';
import { watchFiles } from './reload/watch.ts';
import type { LiveSettings } from './smtp/live-settings.ts';
import { startRelay } from './smtp/server.ts';

const usage = `usage: mailfleet-relay --config <relay.yaml> [--check | --drain-and-exit]
       mailfleet-relay queue [--admin-url URL] [--admin-token-dir DIR] <command> ...`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'queue') return queueCommand(argv.slice(1));
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      check: { type: 'boolean', default: false },
      'drain-and-exit': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
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
  if (values['drain-and-exit']) return drainAndExit(loaded.settings, loaded.secrets);
  await run(configPath, loaded.settings, loaded.secrets);
  return 0;
}

/**
 * A spool without its relay: the queue of a pod scaled away, mounted by the operator's drain Job.
 * No SMTP listener; delivery for up to limits.drainTimeoutSeconds, then what is left is handed to
 * delivery.drainPeers (the pods still running). Exits 0 once the spool is empty, 3 when mail is left.
 */
async function drainAndExit(initial: LiveSettings, secrets: DeliverySecrets): Promise<number> {
  const config = initial.config;
  const logger = stdoutLogger(config.log.level);
  const registry = new Registry();
  const health: HealthState = { phase: 'draining' };
  const spool = await openConfiguredSpool(config);
  const http = await startHealthServer(
    config.http,
    registry,
    health,
    () => false,
    () => spool.size(),
  );
  const found = spool.size();
  logger.info(
    { event: 'drain_only', messages: found, spool: spool.dir },
    'draining a spool without its relay',
  );
  const delivery = startSpoolDelivery(config, secrets, spool, logger, registry);
  spool.retryNow();
  const handoff = await delivery.drain(Date.now() + config.limits.drainTimeoutSeconds * 1000);
  const left = spool.size();
  logger.info(
    { event: 'drain_only_done', found, left, ...handoff },
    left === 0 ? 'spool empty' : 'mail left',
  );
  spool.close();
  await http.close();
  return left === 0 ? 0 : 3;
}

/**
 * The queue admin client; the endpoint is the running relay's (queue.adminPort, default 8026), its
 * token the file the relay wrote (queue.adminTokenDir, default /tmp).
 */
async function queueCommand(argv: readonly string[]): Promise<number> {
  const endpoint = queueEndpoint(argv);
  if ('problem' in endpoint) {
    process.stderr.write(`${endpoint.problem}\n${queueUsage}\n`);
    return 2;
  }
  let token: string;
  try {
    token = await readAdminToken(endpoint.tokenFile);
  } catch (error) {
    process.stderr.write(
      `cannot read the queue admin token ${endpoint.tokenFile} (the running relay writes it at start; run as the relay's user, or pass --admin-token-dir for another queue.adminTokenDir): ${String(error)}\n`,
    );
    return 1;
  }
  return runQueueCommand(endpoint.argv, {
    adminUrl: endpoint.adminUrl,
    token,
    fetch: globalThis.fetch,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

/** The relay's logger on stdout: batched lines, an asynchronous bounded destination, flushed at exit. */
function stdoutLogger(level: RelayConfig['log']['level']): ReturnType<typeof createLogger> {
  const stdout = stdoutDestination();
  const lines = batchedLines(stdout);
  process.on('exit', () => {
    lines.flush();
    stdout.flushSync();
  });
  const logger = createLogger(level, lines);
  reportDroppedLines(logger, stdout);
  return logger;
}

function openConfiguredSpool(config: RelayConfig): ReturnType<typeof openSpool> {
  return openSpool({
    dir: config.queue.dir,
    minFreeBytes: config.queue.minFreeBytes,
    now: Date.now,
    quarantineNewerSpool: config.queue.quarantineNewerSpool ?? false,
    commitDelayMs: config.queue.commitDelayMs,
  });
}

function startSpoolDelivery(
  config: RelayConfig,
  secrets: DeliverySecrets,
  spool: Awaited<ReturnType<typeof openSpool>>,
  logger: ReturnType<typeof createLogger>,
  registry: Registry,
): ReturnType<typeof startDelivery> {
  return startDelivery({
    config: { hostname: config.hostname, queue: config.queue, delivery: config.delivery },
    secrets,
    spool,
    logger,
    metrics: createDeliveryMetrics(registry),
    clock: Date.now,
    random: Math.random,
  });
}

async function run(configPath: string, initial: LiveSettings, secrets: DeliverySecrets): Promise<void> {
  const config = initial.config;
  const logger = stdoutLogger(config.log.level);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailfleet_relay_' });
  const metrics = createRelayMetrics(registry);
  const health: HealthState = { phase: 'starting' };
  const spool = await openConfiguredSpool(config);
  const { quarantined, quarantinedNewerSpool } = spool.recovery;
  if (quarantined.unparseable + quarantined.future_version + quarantinedNewerSpool > 0) {
    logger.warn(
      { event: 'spool_files_quarantined', ...quarantined, newerSpool: quarantinedNewerSpool },
      `spool files this relay cannot read were moved to ${config.queue.dir}/quarantine (mailfleet-relay queue quarantine list)`,
    );
  }
  const http = await startHealthServer(
    config.http,
    registry,
    health,
    () => spool.hasSpace(),
    () => spool.size(),
  );
  let settings = initial;
  createQueueMetrics(registry, spool, Date.now);
  createReadinessMetric(registry, health, () => spool.hasSpace());
  createTlsCertificateMetrics(registry, () => settings.tls);
  const rereadForUnknownKey = unknownKeyReread(
    () => {
      logger.info({ event: 'unknown_token_key' }, 'a token names an unknown key id; re-reading the config');
      void reload();
    },
    () => settings.config.tokenAuth?.unknownKeyRereadSeconds ?? 30,
    Date.now,
  );
  const testOnlyNoDecoyHash = process.env['MAILFLEET_TEST_ONLY_NO_DECOY_HASH'] === '1';
  if (testOnlyNoDecoyHash)
    logger.warn(
      { event: 'test_only_switch', name: 'MAILFLEET_TEST_ONLY_NO_DECOY_HASH' },
      'TEST ONLY: unknown AUTH names are refused without the decoy hash; their reply time tells which names exist',
    );
  const relay = await startRelay({
    settings,
    sink: spool,
    metrics,
    logger,
    onUnknownKey: () => {
      rereadForUnknownKey();
    },
    testOnlyNoDecoyHash,
  });
  spool.waitForSessions(() => relay.openSessions());
  const delivery = startSpoolDelivery(config, secrets, spool, logger, registry);
  const admin = await startQueueAdmin({
    spool,
    drain: (deadline) => delivery.drain(deadline),
    now: Date.now,
    port: config.queue.adminPort,
    tokenDir: config.queue.adminTokenDir ?? defaultAdminTokenDir,
    logger,
  });
  const watcher = watchFiles([configPath, ...referencedFiles(config)], () => void reload());
  const reload = createReloader({
    configPath,
    current: () => settings,
    apply: (next, nextSecrets) => {
      if (JSON.stringify(next.config.listeners) !== JSON.stringify(settings.config.listeners)) {
        logger.warn({ event: 'restart_needed' }, 'listener changes take effect at the next restart');
      }
      settings = next;
      relay.apply(next);
      delivery.updateSecrets(nextSecrets);
      enterPhase(next.config.retiring);
    },
    watched: (files) => {
      watcher.update(files);
    },
    logger,
    metrics,
  });
  // Retiring (the SmtpRelay is being deleted) or back to serving, as the config says; a relay that
  // starts retired (its pod restarted during the deletion) is retired from the start.
  function enterPhase(retiring: boolean): void {
    if (health.phase !== 'serving' && health.phase !== 'retiring' && health.phase !== 'starting') return;
    const next = retiring ? 'retiring' : 'serving';
    if (next === health.phase) return;
    health.phase = next;
    if (retiring) {
      const retried = spool.retryNow();
      logger.info({ event: 'retiring', retried }, 'retired: refusing new mail, delivering what is queued');
    } else logger.info({ event: 'serving' }, 'no longer retired: accepting mail');
  }
  enterPhase(config.retiring);
  logger.info(
    {
      event: 'started',
      smtpPorts: Object.fromEntries(relay.ports),
      httpPort: http.port,
      adminPort: admin.port,
      spool: spool.dir,
    },
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
  const drainDeadline = Date.now() + settings.config.limits.drainTimeoutSeconds * 1000;
  await relay.close(settings.config.limits.drainTimeoutSeconds * 1000);
  const handoff = await delivery.drain(drainDeadline);
  logger.info({ event: 'drained', ...handoff }, 'delivery drained');
  await admin.close();
  spool.close();
  await http.close();
  logger.info({ event: 'stopped' }, 'relay stopped');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      // A spool of a newer format is an operator decision, not a crash: the message says it all.
      `mailfleet-relay: ${error instanceof SpoolFormatError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
