// Everything sendGroup needs, built once when delivery starts: the MX router, the session and
// signing pools, the secrets of the moment. A smarthost reached without TLS, or with TLS but an
// unverified certificate, is said once here, at start, not on every message.
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/delivery-schema.ts';
import type { DkimKeyring } from '../dkim/keys.ts';
import type { SigningPool } from '../dkim/signing-pool.ts';
import type { Spool } from '../queue/spool.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { createMxRouter } from './mx-route.ts';
import type { SendContext } from './send-group.ts';
import type { SessionPool } from './session-pool.ts';
import type { Clock } from '../clock.ts';

export interface DeliverySecrets {
  readonly dkimKeys: DkimKeyring;
  readonly smarthostAuth?: { readonly user: string; readonly pass: string };
}

export interface SendContextOptions {
  readonly delivery: DeliveryConfig;
  /** The relay's hostname: EHLO name. */
  readonly hostname: string;
  readonly spool: Spool;
  readonly pool: SessionPool;
  readonly signingPool: SigningPool;
  readonly secrets: DeliverySecrets;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  readonly now: Clock;
  readonly signal: AbortSignal;
}

export function createSendContext(options: SendContextOptions): SendContext {
  const { delivery, hostname, logger } = options;
  warnOfWeakSmarthostTls(delivery, logger);
  return {
    delivery,
    heloName: hostname,
    spool: options.spool,
    pool: options.pool,
    mxRouter: createMxRouter({
      dnsServers: delivery.dnsServers,
      port: delivery.mxPort,
      allowPrivateDestinations: delivery.allowPrivateDestinations,
      mtaSts: delivery.mtaSts,
      connectTimeoutMs: delivery.connectTimeoutSeconds * 1000,
      heloName: hostname,
    }),
    dkimKeys: options.secrets.dkimKeys,
    signingPool: options.signingPool,
    smarthostAuth: options.secrets.smarthostAuth,
    metrics: options.metrics,
    authWithheldLogged: { value: false },
    authRefusedLogged: { value: false },
    logger,
    now: options.now,
    signal: options.signal,
  };
}

function warnOfWeakSmarthostTls(delivery: DeliveryConfig, logger: Logger): void {
  const smarthost = delivery.mode === 'smarthost' ? delivery.smarthost : undefined;
  const destination = smarthost && `${smarthost.host}:${String(smarthost.port)}`;
  if (smarthost?.tls === 'none') {
    logger.warn(
      { event: 'tls-off', destination },
      'TLS to the smarthost is off (tls: none): every message goes to it in plaintext',
    );
  }
  if (smarthost !== undefined && smarthost.tls !== 'none' && smarthost.verifyCertificate === false) {
    logger.warn(
      { event: 'tls-unverified', destination },
      "the smarthost's certificate is not verified (verifyCertificate: false): encrypted, but open to an active attacker",
    );
  }
}
