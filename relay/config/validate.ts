// Validation at the boundary: parse YAML or JSON, check against the one schema (every error, each
// naming the path, the value and what is allowed), add the cross-field rules a schema cannot say
// well, and freeze the result.
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { relayConfigSchema } from './schema.ts';
import type { RelayConfig } from './types.ts';

export type ConfigResult =
  | { readonly ok: true; readonly config: RelayConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  strictRequired: false,
  verbose: true,
});
const validateSchema = ajv.compile(relayConfigSchema);

export function parseRelayConfig(text: string, source: string): ConfigResult {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    return { ok: false, errors: [`${source}: not valid YAML or JSON: ${String(error)}`] };
  }
  return validateRelayConfig(document, source);
}

export function validateRelayConfig(document: unknown, source: string): ConfigResult {
  const copy: unknown = structuredClone(document);
  if (!validateSchema(copy)) {
    return { ok: false, errors: (validateSchema.errors ?? []).map((error) => describe(error, copy, source)) };
  }
  const config = copy as RelayConfig;
  const errors = crossFieldErrors(config).map((message) => `${source}: ${message}`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: deepFreeze(config) };
}

function describe(error: ErrorObject, document: unknown, source: string): string {
  const path = error.instancePath === '' ? '(root)' : error.instancePath;
  const found = valueAt(document, error.instancePath);
  const value = found === undefined ? 'nothing' : JSON.stringify(found);
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  const message =
    error.keyword === 'pattern' && description
      ? `must be ${description}`
      : `${error.message ?? 'is invalid'}${allowedText(error, description)}`;
  return `${source}: ${path}: ${message}; got ${truncate(value)}`;
}

function allowedText(error: ErrorObject, description: string | undefined): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum') return ` (${JSON.stringify(params['allowedValues'])})`;
  if (error.keyword === 'additionalProperties')
    return ` (unknown field "${String(params['additionalProperty'])}")`;
  if (error.keyword === 'required') return '';
  return description ? ` (${description})` : '';
}

function valueAt(document: unknown, pointer: string): unknown {
  let current = document;
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function crossFieldErrors(config: RelayConfig): string[] {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  config.listeners.forEach((listener, index) => {
    const key = `${listener.address ?? '*'}:${listener.port}`;
    const earlier = seen.get(key);
    if (listener.port !== 0 && earlier !== undefined) {
      errors.push(
        `/listeners/${index}/port: ${listener.port} is already used by /listeners/${earlier}; ports must be distinct`,
      );
    }
    seen.set(key, index);
    if (listener.mode !== 'relay' && !config.tls) {
      errors.push(
        `/listeners/${index}/mode: "${listener.mode}" needs /tls (a certificate); add tls.certificates or use mode "relay"`,
      );
    }
    if (listener.requireTls === true && listener.offerStartTls === false) {
      errors.push(
        `/listeners/${index}/requireTls: true with offerStartTls false refuses every MAIL; drop one of them`,
      );
    }
    if (listener.offerAuth === false && (listener.mode === 'submission' || listener.requireAuth === true)) {
      errors.push(
        `/listeners/${index}/offerAuth: false on a listener that requires AUTH (${listener.mode === 'submission' ? 'mode "submission"' : 'requireAuth'}) refuses every MAIL`,
      );
    }
    if (listener.offerStartTls === false && listener.mode === 'submission') {
      errors.push(
        `/listeners/${index}/offerStartTls: false on a "submission" listener leaves AUTH, which needs TLS, unreachable`,
      );
    }
    if (listener.requireTls === true && !config.tls) {
      errors.push(
        `/listeners/${index}/requireTls: true needs /tls (a certificate) so clients can STARTTLS; without it every MAIL is refused`,
      );
    }
    if (listener.mode === 'submission' && !config.auth && !config.tokenAuth) {
      errors.push(
        `/listeners/${index}/mode: "submission" requires AUTH; add /auth with a usersFile or /tokenAuth`,
      );
    }
  });
  if (config.auth && !config.tls) {
    errors.push('/auth: AUTH is only offered over TLS, so /tls (a certificate) is required with it');
  }
  if (config.tokenAuth && !config.tls) {
    errors.push('/tokenAuth: AUTH is only offered over TLS, so /tls (a certificate) is required with it');
  }
  errors.push(...tokenAuthKeyErrors(config));
  const smarthost = config.delivery.mode === 'smarthost' ? config.delivery.smarthost : undefined;
  if (
    typeof smarthost?.credentialsFile === 'string' &&
    (smarthost.tls === 'opportunistic' || smarthost.tls === 'none')
  ) {
    errors.push(
      `/delivery/smarthost/credentialsFile: credentials are only sent inside TLS, but /delivery/smarthost/tls "${smarthost.tls}" can end in plaintext; use tls "required" or "implicit", or drop credentialsFile`,
    );
  }
  const { limits } = config;
  if ((limits.reservedConnectionsForAllowedNetworks ?? 0) >= limits.maxConnections) {
    errors.push(
      `/limits/reservedConnectionsForAllowedNetworks: ${String(limits.reservedConnectionsForAllowedNetworks)} leaves no slot of /limits/maxConnections (${String(limits.maxConnections)}) for other clients; use fewer`,
    );
  }
  const firstIndexOf = new Map<string, number>();
  for (const [index, domain] of config.policy.senderDomains.entries()) {
    // The policy acts on the first entry of a domain: a second one would be dead, or a takeover.
    const name = domain.domain.toLowerCase();
    const first = firstIndexOf.get(name);
    if (first === undefined) firstIndexOf.set(name, index);
    else
      errors.push(
        `/policy/senderDomains/${index}/domain: "${domain.domain}" is already /policy/senderDomains/${first}; list each domain once`,
      );
    if (domain.users && domain.users.length > 0 && !config.auth) {
      errors.push(`/policy/senderDomains/${index}/users: users are listed but /auth is not configured`);
    }
    if (domain.serviceAccounts && domain.serviceAccounts.length > 0 && !config.tokenAuth) {
      errors.push(
        `/policy/senderDomains/${index}/serviceAccounts: ServiceAccounts are listed but /tokenAuth is not configured`,
      );
    }
  }
  return errors;
}

/** Each key has the members of its kind, and no key id is listed twice. */
function tokenAuthKeyErrors(config: RelayConfig): string[] {
  const errors: string[] = [];
  const kids = new Set<string>();
  for (const [index, key] of (config.tokenAuth?.keys ?? []).entries()) {
    const needed = key.kty === 'RSA' ? (['n', 'e'] as const) : (['crv', 'x', 'y'] as const);
    const missing = needed.filter((member) => key[member] === undefined);
    if (missing.length > 0)
      errors.push(`/tokenAuth/keys/${index}: a ${key.kty} key needs ${missing.join(', ')}`);
    if (kids.has(key.kid)) errors.push(`/tokenAuth/keys/${index}/kid: "${key.kid}" is listed twice`);
    kids.add(key.kid);
  }
  return errors;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
