// Relay policy as pure functions with verdicts as data. The session gathers the facts (who the
// client is, what it asks for) and acts on the verdict; nothing here touches sockets or clocks.
import type { PolicyConfig, ServiceAccountGrant } from '../config/types.ts';
import { canonicalDomain, parseMailbox } from './address.ts';
import { replies, type SmtpReply } from './replies.ts';
import { serviceAccountUserPrefix } from './service-account-token.ts';

export type Verdict<T = undefined> =
  { readonly accept: true; readonly value: T } | { readonly accept: false; readonly reply: SmtpReply };

export interface ClientFacts {
  /** The client's address is in policy.allowedNetworks. */
  readonly inAllowedNetwork: boolean;
  /** The AUTH user, when the session authenticated: system:serviceaccount:<ns>:<name> for a token. */
  readonly user?: string;
}

const reject = (reply: SmtpReply): { accept: false; reply: SmtpReply } => ({ accept: false, reply });

/** May this client relay at all? Authenticated users and allowed networks only (case 5). */
export function mayRelay(client: ClientFacts): boolean {
  return client.user !== undefined || client.inAllowedNetwork;
}

/** MAIL FROM: resolves the declared sender domain the message is sent as (undefined for none). */
export function checkSender(
  policy: PolicyConfig,
  client: ClientFacts,
  mailFrom: string,
): Verdict<string | undefined> {
  if (!mayRelay(client)) return reject(replies.relayDenied);
  if (mailFrom === '') return { accept: true, value: undefined };
  const mailbox = parseMailbox(mailFrom);
  if (!mailbox.ok)
    return reject(mailbox.problem === 'routing' ? replies.recipientRouting : replies.badAddress);
  if (policy.senderDomains.length === 0) return { accept: true, value: undefined };
  const declared = policy.senderDomains.find((entry) => entry.domain.toLowerCase() === mailbox.domain);
  if (!declared) return reject(replies.senderDomainNotDeclared);
  if (client.user?.startsWith(serviceAccountUserPrefix) === true) {
    // A token identity is never matched against `users`, whose absence means every password user.
    if (!serviceAccountGranted(declared.serviceAccounts ?? [], client.user))
      return reject(replies.senderNotAllowedForServiceAccount);
  } else if (client.user !== undefined) {
    const allowedUsers = declared.users;
    if (allowedUsers !== undefined && !allowedUsers.includes(client.user)) {
      return reject(replies.senderNotAllowedForUser);
    }
  } else if (declared.allowNetworks === false) {
    return reject(replies.senderNotAllowedForUser);
  }
  return { accept: true, value: declared.domain.toLowerCase() };
}

/** Whether system:serviceaccount:<namespace>:<name> is granted: its whole namespace, or it by name. */
export function serviceAccountGranted(grants: readonly ServiceAccountGrant[], user: string): boolean {
  const [namespace, name, ...rest] = user.slice(serviceAccountUserPrefix.length).split(':');
  if (namespace === undefined || name === undefined || rest.length > 0) return false;
  return grants.some(
    (grant) => grant.namespace === namespace && (grant.name === undefined || grant.name === name),
  );
}

/**
 * The tenant a message is counted for: the namespace of a ServiceAccount identity when some
 * SenderDomain grants that namespace, "other" for any other namespace; undefined for password
 * users and unauthenticated clients.
 */
export function tenantNamespace(policy: PolicyConfig, user: string | undefined): string | undefined {
  const namespace = serviceAccountNamespace(user);
  if (namespace === undefined) return undefined;
  const granted = policy.senderDomains.some((domain) =>
    (domain.serviceAccounts ?? []).some((grant) => grant.namespace === namespace),
  );
  return granted ? namespace : 'other';
}

/** The namespace of a system:serviceaccount:<namespace>:<name> identity; undefined for any other user. */
export function serviceAccountNamespace(user: string | undefined): string | undefined {
  if (user?.startsWith(serviceAccountUserPrefix) !== true) return undefined;
  return user.slice(serviceAccountUserPrefix.length).split(':')[0];
}

/** RCPT TO: relay permission, address shape, domain lists and the recipient cap. */
export function checkRecipient(
  policy: PolicyConfig,
  client: ClientFacts,
  address: string,
  recipientsSoFar: number,
): Verdict<string> {
  if (!mayRelay(client)) return reject(replies.relayDenied);
  const mailbox = parseMailbox(address);
  if (!mailbox.ok)
    return reject(mailbox.problem === 'routing' ? replies.recipientRouting : replies.badAddress);
  if (recipientsSoFar >= policy.maxRecipients) return reject(replies.tooManyRecipients);
  const domain = mailbox.domain;
  if (policy.recipientDomainsDenied?.some((denied) => matchesDomain(domain, denied))) {
    return reject(replies.recipientDomainDenied);
  }
  const allowed = policy.recipientDomainsAllowed;
  if (allowed !== undefined && !allowed.some((entry) => matchesDomain(domain, entry))) {
    return reject(replies.recipientDomainDenied);
  }
  return { accept: true, value: domain };
}

/** SIZE= declared at MAIL FROM (case 8). */
export function checkDeclaredSize(policy: PolicyConfig, declaredSize: number | undefined): Verdict {
  return declaredSize !== undefined && declaredSize > policy.maxMessageBytes
    ? reject(replies.messageTooBig)
    : { accept: true, value: undefined };
}

/** A list entry matches the domain itself and its subdomains. */
function matchesDomain(domain: string, entry: string): boolean {
  const canonical = canonicalDomain(entry) ?? entry.toLowerCase();
  return domain === canonical || domain.endsWith(`.${canonical}`);
}
