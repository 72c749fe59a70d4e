// A private OpenDKIM milter (Debian's opendkim) for the realistic Postfix: its own config, key and
// signing tables and pid file under the caller's directory, listening on a loopback port, stopped
// by its own pid. Signs relaxed/relaxed like mailfleet, by the From: domain. OpenDKIM 2.11 signs
// with one algorithm per instance (SignatureAlgorithm is global), so RSA + Ed25519 takes two
// milters in a row, one per algorithm, the way dual-signing Postfix setups run it.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeLoopbackPort, waitForListener } from './free-port.ts';
import type { DkimKeyFiles } from './realistic.ts';
import { dkimDomains } from './realistic.ts';

export interface OpenDkim {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export type OpenDkimAlgorithm = 'rsa' | 'ed25519';

/** KeyTable and SigningTable lines for the bench's sender domains with keys of this algorithm (pure). */
export function openDkimTables(
  keys: DkimKeyFiles,
  algorithm: OpenDkimAlgorithm,
): { keyTable: string; signingTable: string } {
  const keyLines: string[] = [];
  const signingLines: string[] = [];
  for (const domain of Object.values(dkimDomains)) {
    const selector = algorithm === 'rsa' ? domain.rsaSelector : domain.ed25519Selector;
    const entries: [string, string, string][] =
      selector === undefined ? [] : [[`${domain.name}-${algorithm}`, selector, keys[algorithm]]];
    for (const [name, selector, file] of entries) {
      keyLines.push(`${name} ${domain.name}:${selector}:${file}`);
      signingLines.push(`*@${domain.name} ${name}`);
    }
  }
  return { keyTable: `${keyLines.join('\n')}\n`, signingTable: `${signingLines.join('\n')}\n` };
}

/** A signing milter with these keys and this algorithm. */
export async function startOpenDkim(
  directory: string,
  keys: DkimKeyFiles,
  algorithm: OpenDkimAlgorithm,
): Promise<OpenDkim> {
  await mkdir(directory, { recursive: true });
  const { keyTable, signingTable } = openDkimTables(keys, algorithm);
  await writeFile(join(directory, 'KeyTable'), keyTable);
  await writeFile(join(directory, 'SigningTable'), signingTable);
  return runOpenDkim(directory, [
    'Mode s',
    `KeyTable file:${join(directory, 'KeyTable')}`,
    `SigningTable refile:${join(directory, 'SigningTable')}`,
    `SignatureAlgorithm ${algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256'}`,
    'InternalHosts 127.0.0.1',
    // The keys sit in a temp dir under /tmp, a world-writable parent that OpenDKIM's safe-key check
    // refuses (a file-permission check at load, no work per message).
    'RequireSafeKeys no',
  ]);
}

/**
 * A verifying milter: checks every DKIM-Signature against these TXT records (its TestPublicKeys,
 * instead of DNS) and adds `Authentication-Results: <authservId>; dkim=pass|fail …` for each.
 */
export async function startVerifyingOpenDkim(
  directory: string,
  records: readonly { readonly name: string; readonly text: string }[],
  authservId: string,
): Promise<OpenDkim> {
  await mkdir(directory, { recursive: true });
  const keysFile = join(directory, 'public-keys');
  await writeFile(keysFile, records.map((record) => `${record.name} ${record.text}\n`).join(''));
  return runOpenDkim(directory, ['Mode v', `TestPublicKeys ${keysFile}`, `AuthservID ${authservId}`]);
}

async function runOpenDkim(directory: string, settings: readonly string[]): Promise<OpenDkim> {
  const port = await freeLoopbackPort();
  const config = [
    'Syslog no',
    'Canonicalization relaxed/relaxed',
    `Socket inet:${port}@127.0.0.1`,
    `PidFile ${join(directory, 'opendkim.pid')}`,
    'UMask 007',
    ...settings,
  ];
  await writeFile(join(directory, 'opendkim.conf'), `${config.join('\n')}\n`);
  const child = spawn('/usr/sbin/opendkim', ['-f', '-x', join(directory, 'opendkim.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  const started = await Promise.race([
    waitForListener(port, 10_000).then(
      () => 'listening' as const,
      () => 'silent' as const,
    ),
    exited.then(() => 'exited' as const),
  ]);
  if (started !== 'listening' || child.pid === undefined) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`opendkim did not start (${started}): ${stderr}`);
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
