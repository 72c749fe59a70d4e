// The operator's entry point and the one place that wires it together: options → logger → API
// client → metrics → controller manager (informers, work queues) → leader election → HTTP endpoint
// (probes) and, when secure, the HTTPS metrics endpoint with its certificate (mounted or generated),
// and a graceful stop on SIGTERM (workers stop, the lease is released, the caches close).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startHttpEndpoint } from './http.ts';
import { Applier } from './kube/apply.ts';
import { defaultBackoff } from './kube/backoff.ts';
import { KubeClient } from './kube/client.ts';
import { systemClock, type Clock } from './kube/clock.ts';
import { ControllerManager, type Controller } from './kube/controller.ts';
import { EventRecorder } from './kube/events.ts';
import { LeadershipFence } from './kube/fence.ts';
import { LeaderElector } from './kube/leader.ts';
import { StatusWriter } from './kube/status.ts';
import type { KubeTools } from './kube/tools.ts';
import { createLogger, type Log } from './log.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';
import { startSecureMetricsEndpoint } from './metrics-endpoint.ts';
import { parseOptions, usage, type OperatorOptions } from './options.ts';
import { senderDomainController } from './reconcile/sender-domain.ts';
import { txtLookup } from './reconcile/sender-domain-dns-lookup.ts';
import { dnsEndpointPublisher } from './reconcile/sender-domain-publish.ts';
import { smtpRelayController } from './reconcile/smtp-relay.ts';
import { selfSignedCertificate, type SelfSignedCertificate } from './self-signed-certificate.ts';

/** What a controller factory gets: the client and writers, the options and the metrics. */
export interface ControllerTools extends KubeTools {
  readonly options: OperatorOptions;
  readonly metrics: OperatorMetrics;
}

export type ControllerFactory = (tools: ControllerTools) => readonly Controller[];

/**
 * The reconcilers the operator runs, added here as they land (issue #4, part 2), built from the
 * tools (the relay image, the DNS resolver and the cluster domain are in `tools.options`).
 */
export const operatorControllers: ControllerFactory = (tools) => [
  senderDomainController({
    ...tools,
    lookupTxt: txtLookup(tools.options.dnsResolver),
    publisher: dnsEndpointPublisher(tools),
    dnsPublishing: tools.options.dnsPublishing,
    observer: tools.metrics,
  }),
  smtpRelayController({
    ...tools,
    relayImage: tools.options.relayImage,
    clusterDomain: tools.options.clusterDomain,
    operatorNamespace: tools.options.ownNamespace,
    testOnlySkipDeletionDrain: tools.options.testOnlySkipDeletionDrain,
  }),
];

export interface RunningOperator {
  readonly httpPort: number;
  /** The HTTPS metrics port, when metrics are secure. */
  readonly metricsPort: number | undefined;
  readonly manager: ControllerManager;
  stop(): Promise<void>;
}

export async function startOperator(
  options: OperatorOptions,
  controllers: ControllerFactory,
  log: Log,
  clock: Clock = systemClock,
): Promise<RunningOperator> {
  const config = new KubeConfig();
  if (options.kubeconfig === undefined) config.loadFromDefault();
  else config.loadFromFile(options.kubeconfig);
  const client = new KubeClient(config);
  const queueDepths: { read: () => [string, number][] } = { read: () => [] };
  const metrics = createOperatorMetrics(() => queueDepths.read());
  client.onRequest((verb, code) => {
    metrics.apiRequest(verb, code);
  });
  const manager = new ControllerManager({
    client,
    clock,
    log,
    namespaces: options.namespaces,
    resyncPeriodMs: options.resyncPeriodMs,
    backoff: defaultBackoff,
    defaultConcurrency: options.concurrency,
    observer: metrics,
  });
  queueDepths.read = () => manager.queueDepths();
  const tools: ControllerTools = {
    options,
    client,
    clock,
    log,
    applier: new Applier(client),
    status: new StatusWriter(client, clock),
    events: new EventRecorder({
      client,
      clock,
      log,
      component: 'mailfleet-operator',
      instance: options.leaderElection.identity,
    }),
    metrics,
  };
  for (const controller of controllers(tools)) manager.register(controller);
  if (options.testOnlySkipDeletionDrain) {
    log.warn(
      { setting: 'MAILFLEET_TEST_ONLY_SKIP_DELETION_DRAIN' },
      'TEST ONLY: deleted relays go without draining their queues; accepted mail can be lost',
    );
  }

  const election = options.leaderElection;
  let elector: LeaderElector | undefined;
  if (election.enabled) {
    // Every write of ours but the lease goes through the fence: none after the lease is lost.
    const fence = new LeadershipFence(clock);
    if (options.testOnlyNoWriteFence) {
      log.warn(
        { setting: 'MAILFLEET_TEST_ONLY_NO_WRITE_FENCE' },
        'TEST ONLY: writes go out without the leader fence; a replica that lost its lease may still write',
      );
    } else {
      client.fenceWrites(fence);
    }
    elector = new LeaderElector({
      client,
      clock,
      log,
      fence,
      ...election,
      onStartedLeading: () => {
        metrics.setLeader(true);
        manager.startWorkers();
      },
      onStoppedLeading: () => {
        metrics.setLeader(false);
        return manager.stopWorkers();
      },
    });
  }

  const http = await startHttpEndpoint({
    host: options.http.host,
    port: options.http.port,
    registry: options.metrics.secure ? undefined : metrics.registry,
    ready: () => manager.synced,
    log,
  });
  const secureMetrics = options.metrics.secure
    ? await startSecureMetricsEndpoint({
        host: options.http.host,
        port: options.metrics.port,
        ...(await servingCertificate(options.metrics.certDir)),
        registry: metrics.registry,
        client,
        clock,
        log,
      })
    : undefined;
  log.info(
    {
      namespaces: options.namespaces ?? 'all',
      leaderElection: election.enabled,
      identity: election.identity,
      httpPort: http.port,
      metricsPort: secureMetrics?.port ?? http.port,
      metricsSecure: options.metrics.secure,
    },
    'operator starting',
  );

  const stopping = new AbortController();
  const started = (async () => {
    await manager.startInformers(stopping.signal);
    if (stopping.signal.aborted) return;
    log.info({}, 'caches synced');
    if (elector !== undefined) {
      elector.start();
    } else {
      metrics.setLeader(true);
      manager.startWorkers();
    }
  })();

  return {
    httpPort: http.port,
    metricsPort: secureMetrics?.port,
    manager,
    async stop() {
      stopping.abort();
      await started;
      // The elector first, so no term can start during shutdown; it stops the workers before it
      // releases the lease, so the next leader never overlaps with a reconcile of ours.
      await elector?.stop();
      await manager.stop();
      await http.close();
      await secureMetrics?.close();
      log.info({}, 'operator stopped');
    },
  };
}

/** The mounted serving certificate (`tls.crt`, `tls.key` in `certDir`), or a self-signed one. */
async function servingCertificate(certDir: string | undefined): Promise<SelfSignedCertificate> {
  if (certDir === undefined) {
    return selfSignedCertificate({
      commonName: 'mailfleet-operator',
      dnsNames: ['mailfleet-operator', 'localhost'],
      now: new Date(),
      validityDays: 365,
    });
  }
  return {
    certificatePem: await readFile(join(certDir, 'tls.crt'), 'utf8'),
    privateKeyPem: await readFile(join(certDir, 'tls.key'), 'utf8'),
  };
}

async function main(): Promise<void> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const parsed = parseOptions(
    process.argv.slice(2),
    process.env,
    `${hostname()}-${randomBytes(4).toString('hex')}`,
  );
  if (!parsed.ok) {
    process.stderr.write(
      `mailfleet-operator: invalid configuration:\n${parsed.errors.map((error) => `  ${error}`).join('\n')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const log = createLogger(parsed.options.logLevel);
  const operator = await startOperator(parsed.options, operatorControllers, log);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    operator.stop().then(
      () => {
        // Pooled keep-alive connections to the apiserver would hold the process open a while.
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.main) await main();
