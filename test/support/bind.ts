// A real BIND 9 (`named` from Debian's bind9) on a loopback port, run as the test's own process with
// its configuration in a temporary directory (never the system service): authoritative for one zone
// that accepts RFC 2136 updates and zone transfers signed with a TSIG key, as external-dns's rfc2136
// provider needs. No recursion, no rndc, no other address.
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLogged } from './logged-process.ts';
import { freeTcpPort } from './smtp-sink.ts';

export interface Bind {
  /** `127.0.0.1:port`, the form Resolver.setServers and the operator's --dns-resolver take. */
  readonly server: string;
  readonly port: number;
  readonly zone: string;
  readonly tsig: { readonly name: string; readonly algorithm: 'hmac-sha256'; readonly secret: string };
  /** What named wrote to stderr (its log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function startBind(zone: string): Promise<Bind> {
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-bind-'));
  const tsig = {
    name: 'mailfleet-test',
    algorithm: 'hmac-sha256',
    secret: randomBytes(32).toString('base64'),
  } as const;
  await writeFile(
    join(dir, 'zone.db'),
    [
      '$TTL 5',
      `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 600 5`,
      `@ IN NS ns.${zone}.`,
      'ns IN A 127.0.0.1',
      '',
    ].join('\n'),
  );
  for (let attempt = 0; ; attempt += 1) {
    const port = await freeTcpPort();
    await writeFile(
      join(dir, 'named.conf'),
      `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-query { 127.0.0.1; };
};
controls { };
key "${tsig.name}" { algorithm ${tsig.algorithm}; secret "${tsig.secret}"; };
zone "${zone}" {
  type primary;
  file "${dir}/zone.db";
  allow-update { key "${tsig.name}"; };
  allow-transfer { key "${tsig.name}"; };
};
`,
    );
    // -g: foreground, log to stderr, no privilege change; -4: IPv4 only.
    const named = startLogged('/usr/sbin/named', ['-g', '-4', '-c', join(dir, 'named.conf')]);
    const server = `127.0.0.1:${port}`;
    if (await servesZone(server, zone, named.child)) {
      return {
        server,
        port,
        zone,
        tsig,
        log: named.log,
        async stop() {
          await named.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    named.child.kill('SIGKILL');
    await named.exited;
    if (attempt >= 2) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`named did not start: ${named.log()}`);
    }
  }
}

async function servesZone(
  server: string,
  zone: string,
  child: { exitCode: number | null; signalCode: NodeJS.Signals | null },
): Promise<boolean> {
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([server]);
  for (let tries = 0; tries < 100 && child.exitCode === null && child.signalCode === null; tries += 1) {
    try {
      await resolver.resolveSoa(zone);
      return true;
    } catch {
      await sleep(100);
    }
  }
  return false;
}
