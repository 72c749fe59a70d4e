// Source routes (`<@a.example,@b.example:user@c.example>`, RFC 5321 appendix C) in MAIL FROM and
// RCPT TO are refused (case 32). smtp-server removes the route before any hook sees the address,
// so the raw command line is inspected: RelayConnection marks the session for the command in
// flight, and the MAIL and RCPT hooks refuse it with a reply from the catalogue. Pure.
import type { SMTPServerSession } from 'smtp-server';

/** `MAIL FROM:` or `RCPT TO:`, then a path whose first character after `<` is `@`. */
const routedPath = /^[A-Za-z]+ +[A-Za-z]+ *: *< *@/;

/** Whether a raw MAIL FROM or RCPT TO command line carries a source route. */
export function hasSourceRoute(command: Buffer): boolean {
  return routedPath.test(command.toString('latin1'));
}

/** Sessions whose MAIL or RCPT command now being handled carried a source route. */
const routedCommands = new WeakSet<SMTPServerSession>();

/** Called by RelayConnection for each MAIL and RCPT before smtp-server parses it. */
export function noteSourceRoute(session: SMTPServerSession, command: Buffer): void {
  if (hasSourceRoute(command)) routedCommands.add(session);
  else routedCommands.delete(session);
}

/** Whether the MAIL or RCPT command the session's hook is judging carried a source route. */
export function commandHadSourceRoute(session: SMTPServerSession): boolean {
  return routedCommands.has(session);
}
