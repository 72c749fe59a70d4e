// The AUTH hook: refused at once while the client's failures are over their limit (case 29), then a
// password (PLAIN, LOGIN) against the users table or a ServiceAccount token (OAUTHBEARER, XOAUTH2)
// against tokenAuth's keys; a failure is counted, logged, held back by the throttle's delay, and
// closes the connection after auth.maxFailuresPerConnection.
import type { SMTPServerAuthenticationResponse } from 'smtp-server';
import { setTimeout as sleep } from 'node:timers/promises';
import { authRefusal, recordAuthFailure, type AuthFailureBuckets } from './auth-throttle.ts';
import type { RelayAuthentication, RelayAuthHook } from './connection.ts';
import type { LiveSettings } from './live-settings.ts';
import { replies, settle } from './replies.ts';
import type { TokenFailureReason } from './service-account-token.ts';
import type { SessionContext } from './session-context.ts';
import { verifyPassword } from './users.ts';

const tokenMethods = new Set<RelayAuthentication['method']>(['OAUTHBEARER', 'XOAUTH2']);

type AuthOutcome =
  | { readonly user: string; readonly pod?: string | undefined }
  | { readonly user?: undefined; readonly reason?: TokenFailureReason; readonly detail?: string };

export function authHook(context: SessionContext): RelayAuthHook {
  const { deps, labels, state } = context;
  const { metrics, logger } = deps;
  return (auth, session, callback) => {
    settle<SMTPServerAuthenticationResponse>(
      async () => {
        const live = deps.live();
        const now = deps.clock();
        const username = auth.username ?? '';
        const buckets: AuthFailureBuckets = {
          perAddress: live.limiters.authFailuresPerIp,
          perAddressUser: live.limiters.authFailuresPerIpUser,
        };
        const refusedBy = authRefusal(buckets, session.remoteAddress, username, now);
        if (refusedBy !== undefined) {
          metrics.authFailures.inc({ ...labels, reason: 'rate_limited' });
          metrics.rateLimitHits.inc({ ...labels, key: refusedBy });
          throw context.rejection(session, replies.authRateLimited);
        }
        const outcome = tokenMethods.has(auth.method)
          ? await verifyToken(live, auth.accessToken ?? '', now)
          : {
              user: (await verifyPassword(
                live.users,
                username,
                auth.password ?? '',
                { ttlMs: (live.config.auth?.loginCacheSeconds ?? 0) * 1000, now },
                deps.testOnlyNoDecoyHash === true,
              ))
                ? username
                : undefined,
            };
        if (outcome.user !== undefined) {
          logger.info(
            {
              event: 'authenticated',
              session: session.id,
              user: outcome.user,
              method: auth.method,
              ...('pod' in outcome && outcome.pod !== undefined ? { pod: outcome.pod } : {}),
            },
            'AUTH ok',
          );
          return { user: outcome.user };
        }
        const delayMs = recordAuthFailure(buckets, session.remoteAddress, username, deps.clock());
        const tokenFailure = 'reason' in outcome ? outcome.reason : undefined;
        metrics.authFailures.inc({ ...labels, reason: tokenFailure ? 'bad_token' : 'bad_credentials' });
        if (tokenFailure) metrics.tokenAuthFailures.inc({ ...labels, reason: tokenFailure });
        if (tokenFailure === 'unknown_key') deps.onUnknownKey();
        const failures = state.authFailed(session);
        logger.info(
          {
            event: 'auth_failed',
            session: session.id,
            client: session.remoteAddress,
            user: username,
            method: auth.method,
            ...(tokenFailure
              ? { reason: tokenFailure, detail: 'detail' in outcome ? outcome.detail : '' }
              : {}),
            failures,
            delayMs,
          },
          'AUTH failed',
        );
        if (delayMs > 0) {
          metrics.authFailureDelay.observe(labels, delayMs / 1000);
          // Not ref'd: a held-back reply never keeps a stopping relay alive.
          await sleep(delayMs, undefined, { ref: false });
        }
        const allowed = live.config.auth?.maxFailuresPerConnection ?? 3;
        if (failures >= allowed) throw context.rejection(session, replies.authFailedClosing);
        throw context.rejection(session, replies.authFailed);
      },
      callback,
      context.unexpected(session),
    );
  };
}

/** A ServiceAccount token's identity, or why it was refused. */
async function verifyToken(live: LiveSettings, token: string, now: number): Promise<AuthOutcome> {
  const verifier = live.tokenVerifier;
  if (verifier === undefined) return { reason: 'unknown_issuer', detail: 'tokenAuth is not configured' };
  const verdict = await verifier.verify(token, now);
  return verdict.ok
    ? { user: verdict.identity.user, pod: verdict.identity.pod }
    : { reason: verdict.reason, detail: verdict.detail };
}
