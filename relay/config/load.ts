// Reads the config file and every file it references (users, certificates, DKIM keys, smarthost
// credentials) into LiveSettings and the delivery secrets, or the complete list of what is wrong.
// Used at start, by --check, and by every reload, so a reload that breaks any of them is refused.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { DeliverySecrets } from '../delivery/service.ts';
import { loadDkimKeyring } from '../dkim/keys.ts';
import { buildLiveSettings, type LiveSettings, type TlsContexts } from '../smtp/live-settings.ts';
import { parseUsersFile, type UserTable } from '../smtp/users.ts';
import { defaultTls12Ciphers, tls12CipherListProblem, tlsSecureOptions } from './tls-profile.ts';
import type { RelayConfig } from './types.ts';
import { parseRelayConfig } from './validate.ts';

export type LoadResult =
  | { readonly ok: true; readonly settings: LiveSettings; readonly secrets: DeliverySecrets }
  | {
      readonly ok: false;
      readonly errors: readonly string[];
      /** The files a valid config names, some unreadable: a reload watches them so it retries when they arrive. */
      readonly referencedFiles?: readonly string[];
    };

export async function loadRelaySettings(configPath: string, previous?: LiveSettings): Promise<LoadResult> {
  const text = await readText(configPath);
  if (typeof text !== 'string') return { ok: false, errors: [text.error] };
  const parsed = parseRelayConfig(text, configPath);
  if (!parsed.ok) return parsed;
  const config = parsed.config;
  const [users, tls, secrets] = await Promise.all([
    loadUsers(config),
    loadTls(config),
    loadDeliverySecrets(config),
  ]);
  const errors = [
    ...(users.ok ? [] : users.errors),
    ...(tls.ok ? [] : tls.errors),
    ...(typeof secrets === 'string' ? [secrets] : []),
  ];
  if (!users.ok || !tls.ok || typeof secrets === 'string') {
    return { ok: false, errors, referencedFiles: referencedFiles(config) };
  }
  return { ok: true, settings: buildLiveSettings(config, users.users, tls.contexts, previous), secrets };
}

/** Every file the config references: a change to any of them triggers a reload. */
export function referencedFiles(config: RelayConfig): string[] {
  return [
    ...(config.auth ? [config.auth.usersFile] : []),
    ...(config.tls?.certificates.flatMap((certificate) => [certificate.certFile, certificate.keyFile]) ?? []),
    ...config.policy.senderDomains.flatMap((domain) => (domain.dkim ?? []).map((key) => key.privateKeyFile)),
    ...(config.delivery.smarthost?.credentialsFile === undefined
      ? []
      : [config.delivery.smarthost.credentialsFile]),
  ];
}

/** DKIM keys and smarthost credentials, or what is wrong with them. */
async function loadDeliverySecrets(config: RelayConfig): Promise<DeliverySecrets | string> {
  const readText = (path: string): Promise<string> => readFile(path, 'utf8');
  try {
    const dkimKeys = await loadDkimKeyring(config.policy.senderDomains, readText);
    const credentialsFile = config.delivery.smarthost?.credentialsFile;
    if (credentialsFile === undefined) return { dkimKeys };
    const line = (await readText(credentialsFile)).split(/\r?\n/)[0] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) {
      return `/delivery/smarthost/credentialsFile: ${credentialsFile} must hold one line \`username:password\``;
    }
    return { dkimKeys, smarthostAuth: { user: line.slice(0, colon), pass: line.slice(colon + 1) } };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function readText(path: string): Promise<string | { error: string }> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    return { error: `${path}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
}

/**
 * The users table last parsed from each path, with its text: a reload that finds the same text keeps
 * the same table, and with it the table's recent-login cache and decoy hash (users.ts). Only a
 * changed file starts them afresh.
 */
const parsedUsers = new Map<string, { readonly text: string; readonly users: UserTable }>();

async function loadUsers(
  config: RelayConfig,
): Promise<{ ok: true; users: UserTable } | { ok: false; errors: readonly string[] }> {
  if (!config.auth) return { ok: true, users: new Map() };
  const path = config.auth.usersFile;
  const text = await readText(path);
  if (typeof text !== 'string') return { ok: false, errors: [`/auth/usersFile: ${text.error}`] };
  const previous = parsedUsers.get(path);
  if (previous?.text === text) return { ok: true, users: previous.users };
  const parsed = parseUsersFile(text, path);
  if (parsed.ok) parsedUsers.set(path, { text, users: parsed.users });
  return parsed;
}

async function loadTls(
  config: RelayConfig,
): Promise<{ ok: true; contexts: TlsContexts | undefined } | { ok: false; errors: readonly string[] }> {
  if (!config.tls) return { ok: true, contexts: undefined };
  const { certificates } = config.tls;
  // The schema defaults it; a config built in code may leave it out.
  const minVersion = config.tls.minVersion ?? 'TLSv1.2';
  const ciphers = config.tls.ciphers ?? defaultTls12Ciphers;
  const cipherProblem = tls12CipherListProblem(ciphers);
  if (cipherProblem !== undefined) return { ok: false, errors: [cipherProblem] };
  const profile = { minVersion, ciphers, secureOptions: tlsSecureOptions };
  const errors: string[] = [];
  const byServerName = new Map<string, SecureContext>();
  let defaultPem: { key: string; cert: string } | undefined;
  const expiresAt: number[] = [];
  for (const [index, certificate] of certificates.entries()) {
    const [cert, key] = await Promise.all([readText(certificate.certFile), readText(certificate.keyFile)]);
    if (typeof cert !== 'string' || typeof key !== 'string') {
      for (const failed of [cert, key]) {
        if (typeof failed !== 'string') errors.push(`/tls/certificates/${index}: ${failed.error}`);
      }
      continue;
    }
    try {
      const context = createSecureContext({ key, cert, ...profile });
      expiresAt.push(new X509Certificate(cert).validToDate.getTime() / 1000);
      defaultPem ??= { key, cert };
      for (const name of certificate.serverNames ?? []) byServerName.set(name.toLowerCase(), context);
    } catch (error) {
      errors.push(
        `/tls/certificates/${index}: ${certificate.certFile} and ${certificate.keyFile} are not a matching PEM certificate and key: ${(error as Error).message}`,
      );
    }
  }
  if (errors.length > 0 || !defaultPem) return { ok: false, errors };
  return { ok: true, contexts: { defaultPem: { ...defaultPem, ...profile }, byServerName, expiresAt } };
}
