// How long a client may take to send its next command line (case 31). Pure.
// limits.commandTimeoutSeconds in general; while the relay is under stress, a client that is neither
// in policy.allowedNetworks nor authenticated gets limits.stressCommandTimeoutSeconds (when shorter), as Postfix
// shortens smtpd_timeout under stress: a slot held by an idle or trickling stranger comes back soon.
import type { LimitsConfig } from '../config/types.ts';

export interface DeadlineContext {
  readonly underStress: boolean;
  readonly trusted: boolean;
  readonly authenticated: boolean;
}

export function commandDeadlineMs(limits: LimitsConfig, context: DeadlineContext): number {
  const shortened = context.underStress && !context.trusted && !context.authenticated;
  const seconds = shortened
    ? Math.min(limits.stressCommandTimeoutSeconds, limits.commandTimeoutSeconds)
    : limits.commandTimeoutSeconds;
  return seconds * 1000;
}
