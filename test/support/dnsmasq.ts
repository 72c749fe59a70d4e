// The real dnsmasq on a loopback port, authoritative for the records a test gives it (MX, A, AAAA,
// TXT) and refusing everything else (no upstream, no /etc/hosts).
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { freeTcpPort } from './smtp-sink.ts';

export interface DnsRecords {
  readonly mx?: readonly {
    readonly domain: string;
    readonly exchange: string;
    readonly preference: number;
  }[];
  readonly a?: readonly { readonly name: string; readonly address: string }[];
  readonly txt?: readonly { readonly name: string; readonly text: string }[];
  /** Domains answered only from these records (NXDOMAIN / no data otherwise, never REFUSED). */
  readonly localDomains?: readonly string[];
}

export interface Dnsmasq {
  /** `127.0.0.1:port`, the form delivery.dnsServers and Resolver.setServers take. */
  readonly server: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** `port`: listen there (to restart a server with new records where resolvers already point). */
export async function startDnsmasq(records: DnsRecords, options: { port?: number } = {}): Promise<Dnsmasq> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--log-facility=-',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...(records.localDomains ?? ['test']).map((domain) => `--local=/${domain}/`),
    ...(records.mx ?? []).map((mx) => `--mx-host=${mx.domain},${mx.exchange},${mx.preference}`),
    ...(records.a ?? []).map((record) => `--host-record=${record.name},${record.address}`),
    ...(records.txt ?? []).map((record) => `--txt-record=${record.name},${txtStrings(record.text)}`),
  ];
  for (let attempt = 0; ; attempt += 1) {
    const port = options.port ?? (await freeTcpPort());
    const child = spawn('/usr/sbin/dnsmasq', [`--port=${port}`, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((done) =>
      child.once('exit', () => {
        done();
      }),
    );
    const server = `127.0.0.1:${port}`;
    if (await answers(server, exited)) {
      return {
        server,
        port,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) throw new Error(`dnsmasq did not start: ${stderr}`);
  }
}

/** TXT data longer than 255 bytes is split into several character-strings (DKIM RSA keys are). On
 * the command line dnsmasq keeps quotes literally and splits at commas, so text must hold no comma. */
function txtStrings(text: string): string {
  const chunks = text.match(/.{1,250}/g) ?? [''];
  return chunks.join(',');
}

async function answers(server: string, exited: Promise<void>): Promise<boolean> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  const child = { dead: false };
  void exited.then(() => {
    child.dead = true;
  });
  for (let tries = 0; tries < 50 && !child.dead; tries += 1) {
    try {
      await resolver.resolve4('probe.invalid');
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED' || code === 'ESERVFAIL')
        return true;
    }
    await new Promise((wait) => setTimeout(wait, 50));
  }
  return false;
}
