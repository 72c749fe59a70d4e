// startRelay: one smtp-server per listener, sharing the live settings, the sink, metrics and the
// per-IP connection counts. main.ts and the in-process tests start the relay through this alone.
import type { AddressInfo } from 'node:net';
import type { SMTPServerOptions } from 'smtp-server';
import type { ListenerConfig } from '../config/types.ts';
import type { RelayLogger } from '../log.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { MessageSink } from '../queue/message-sink.ts';
import { ConnectionSlots } from './connection-slots.ts';
import { RelayConnection, RelaySmtpServer } from './connection.ts';
import { commandDeadlineMs } from './command-deadline.ts';
import { replies, replyLine } from './replies.ts';
import { connectionErrorLog } from './client-errors.ts';
import type { LiveSettings } from './live-settings.ts';
import { createSessionHooks } from './session.ts';
import type { Clock } from '../clock.ts';

export interface StartRelayOptions {
  readonly settings: LiveSettings;
  readonly sink: MessageSink;
  readonly metrics: RelayMetrics;
  readonly logger: RelayLogger;
  readonly clock?: Clock;
  /** A token named an unknown key id (session.ts); main.ts re-reads the config, rate-limited. */
  readonly onUnknownKey?: () => void;
  /**
   * TEST ONLY (`MAILFLEET_TEST_ONLY_NO_DECOY_HASH=1` in the relay's environment): an unknown AUTH name
   * is refused at once, without the decoy hash, so case 30's negative control can show the timing
   * difference the decoy hides. Never set in a deployment; main.ts logs a warning when it is.
   */
  readonly testOnlyNoDecoyHash?: boolean;
}

export interface RunningRelay {
  /** Bound port of each listener by name (useful when the config asks for port 0). */
  readonly ports: ReadonlyMap<string, number>;
  /** Swaps policies, users, limits and certificates; open sessions continue with the new settings. */
  apply(settings: LiveSettings): void;
  openSessions(): number;
  /** Stops accepting, waits up to `graceMs` for open sessions, then closes the rest with 421. */
  close(graceMs: number): Promise<void>;
}

/** Longest command line accepted: AUTH PLAIN and SMTPUTF8 addresses fit; a 10 KB line does not (case 10). */
const MAX_COMMAND_LENGTH = 4096;

export async function startRelay(options: StartRelayOptions): Promise<RunningRelay> {
  let live = options.settings;
  const clock = options.clock ?? Date.now;
  const slots = new ConnectionSlots();
  const servers = new Map<string, RelaySmtpServer>();
  const ports = new Map<string, number>();
  const openSessions = (): number =>
    [...servers.values()].reduce((sum, server) => sum + server.connections.size, 0);
  for (const listener of live.config.listeners) {
    const server = createListener(listener, () => live, options, clock, slots);
    servers.set(listener.name, server);
    ports.set(listener.name, await listen(server, listener));
  }
  // The command deadline (case 31): idle and trickling clients give their slot back, sooner while
  // the relay is under stress. Checked once a second over every open connection.
  const sweeper = setInterval(() => {
    const { config, allowedNetworks } = live;
    const underStress = slots.underStress(config.limits);
    options.metrics.underStress.set(underStress ? 1 : 0);
    // Date.now, not the injected clock: the connections stamp their commands with it.
    const now = Date.now();
    for (const server of servers.values()) {
      for (const connection of server.connections) {
        if (!(connection instanceof RelayConnection)) continue;
        const waited = connection.commandWaitMs(now);
        const deadline = commandDeadlineMs(config.limits, {
          underStress,
          trusted: allowedNetworks.contains(connection.remoteAddress),
          authenticated: connection.session.user !== undefined,
        });
        if (waited === undefined || waited <= deadline) continue;
        options.logger.info(
          { event: 'command_timeout', session: connection.id, client: connection.remoteAddress, underStress },
          'no command in time, closing',
        );
        connection.closeWith(replies.commandTimeout);
      }
    }
  }, 1000);
  sweeper.unref();
  options.logger.info({ event: 'listening', ports: Object.fromEntries(ports) }, 'relay listening');
  return {
    ports,
    apply(settings) {
      live = settings;
      for (const server of servers.values()) {
        server.options.size = settings.config.policy.maxMessageBytes;
        server.options.maxClients = settings.config.limits.maxConnections;
        server.options.socketTimeout = settings.config.limits.commandTimeoutSeconds * 1000;
        server.options.authMethods = authMethods(settings.config);
        if (settings.tls) server.updateSecureContext({ ...settings.tls.defaultPem });
      }
    },
    openSessions,
    async close(graceMs) {
      clearInterval(sweeper);
      // smtp-server's own close() answers every further command with 421 at once, so sessions
      // could not finish: stop accepting first, give open sessions the grace period, then close.
      for (const server of servers.values()) server.server.close();
      const deadline = Date.now() + graceMs;
      while (openSessions() > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      await Promise.all(
        [...servers.values()].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.options.closeTimeout = 1;
              server.close(() => {
                resolve();
              });
            }),
        ),
      );
    },
  };
}

function createListener(
  listener: ListenerConfig,
  live: () => LiveSettings,
  options: StartRelayOptions,
  clock: Clock,
  slots: ConnectionSlots,
): RelaySmtpServer {
  const settings = live();
  const config = settings.config;
  const tls = settings.tls;
  const hasAuth = authMethods(config).length > 0 && listener.offerAuth !== false;
  const offersStartTls = tls !== undefined && listener.offerStartTls !== false;
  const hooks = createSessionHooks({
    listener,
    live,
    sink: options.sink,
    metrics: options.metrics,
    logger: options.logger,
    clock,
    onUnknownKey: options.onUnknownKey ?? (() => undefined),
    testOnlyNoDecoyHash: options.testOnlyNoDecoyHash === true,
  });
  const labels = { listener: listener.name };
  const disabled = [...(hasAuth ? [] : ['AUTH']), ...(offersStartTls ? [] : ['STARTTLS'])];
  const serverOptions: SMTPServerOptions = {
    ...hooks,
    name: config.hostname,
    banner: 'mailfleet',
    secure: listener.mode === 'implicit-tls',
    ...(tls ? { ...tls.defaultPem } : {}),
    SNICallback(servername, callback) {
      const contexts = live().tls;
      callback(null, contexts?.byServerName.get(servername.toLowerCase()));
    },
    hideSTARTTLS: !offersStartTls,
    disabledCommands: disabled,
    authMethods: authMethods(config),
    authOptional: !(listener.requireAuth ?? listener.mode === 'submission'),
    authRequiredMessage: replyLine(replies.authRequired),
    allowInsecureAuth: false,
    size: config.policy.maxMessageBytes,
    rejectOversized: false,
    useProxy: listener.proxyProtocolTrustedPeers ? [...listener.proxyProtocolTrustedPeers] : false,
    useXClient: false,
    useXForward: false,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    maxClients: config.limits.maxConnections,
    maxCommandLength: MAX_COMMAND_LENGTH,
    socketTimeout: config.limits.commandTimeoutSeconds * 1000,
    closeTimeout: config.limits.drainTimeoutSeconds * 1000,
    logger: false,
  };
  const server = new RelaySmtpServer(serverOptions, {
    admit: (address) => {
      const current = live();
      return slots.admit(address, current.allowedNetworks.contains(address), current.config.limits);
    },
    release: (address) => {
      slots.release(address);
    },
    greetingDelayMs: (address) => {
      const current = live();
      const limits = current.config.limits;
      const trusted = limits.allowedNetworksGreetingDelayMs;
      return trusted !== undefined && current.allowedNetworks.contains(address)
        ? trusted
        : limits.greetingDelayMs;
    },
    sessionTimeoutMs: config.limits.sessionTimeoutSeconds * 1000,
    // The 421 4.3.2 that follows is counted by onRefusal, as every catalogue refusal.
    retiring: () => live().config.retiring,
    onConnectionLimit: (limit, address) => {
      options.metrics.connectionLimitRefusals.inc({ ...labels, limit });
      options.logger.info({ event: 'connection_limit', limit, client: address }, 'connection refused');
    },
    authenticate: hooks.onAuth,
    onRefusal: (reply) => {
      options.metrics.rejections.inc({ ...labels, reason: reply.reason });
    },
    onEarlyBody: (session) => {
      options.logger.info(
        { event: 'pipelining_violation', session: session.id, client: session.remoteAddress },
        'body before 354',
      );
    },
  });
  server.on('error', connectionErrorLog(options.logger, listener.name));
  return server;
}

/** Passwords (PLAIN, LOGIN) with /auth, ServiceAccount tokens (OAUTHBEARER, XOAUTH2) with /tokenAuth. */
function authMethods(config: LiveSettings['config']): string[] {
  return [
    ...(config.auth ? ['PLAIN', 'LOGIN'] : []),
    ...(config.tokenAuth ? ['OAUTHBEARER', 'XOAUTH2'] : []),
  ];
}

function listen(server: RelaySmtpServer, listener: ListenerConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(listener.port, listener.address ?? '::', undefined, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}
