// The real external-dns (built from the Go module proxy by hack/external-dns.sh) as a local process:
// its CRD source reads the DNSEndpoints of one namespace from the test API server, and its RFC 2136
// provider writes them to a BIND 9 on loopback with the server's TSIG key. Its DNSEndpoint CRD is
// installed from external-dns's own source, never written by hand.
//
// `--registry=noop`: external-dns takes every TXT record of the zone as its own, so the zone holds
// only what the test's DNSEndpoints ask for. The TXT registry (its default) does not work for TXT
// records with the rfc2136 provider: it wrote its ownership records (`txt-<name>`) but never found
// them again for TXT-type records ("missing owner label" in its debug log), so it never deleted a
// withdrawn record, and it wrote none for the zone apex (the SPF record). docs/dns.md says how to run
// it in production with that in mind.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { freeTcpPort } from './smtp-sink.ts';
import type { Bind } from './bind.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

/** The external-dns binary and the DNSEndpoint CRD of the same version (built once per machine). */
export async function externalDnsTools(): Promise<{ binary: string; crd: string }> {
  const script = join(repoRoot, 'hack', 'external-dns.sh');
  const binary = (await run('bash', [script], { maxBuffer: 1 << 24 })).stdout.trim();
  const crd = (await run('bash', [script, 'crd'])).stdout.trim();
  return { binary, crd };
}

export type ExternalDns = Pick<LoggedProcess, 'log' | 'stop'>;

export async function startExternalDns(options: {
  readonly binary: string;
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly bind: Bind;
}): Promise<ExternalDns> {
  const { bind } = options;
  const metricsPort = await freeTcpPort();
  const externalDns: ExternalDns = startLogged(options.binary, [
    `--kubeconfig=${options.kubeconfig}`,
    '--source=crd',
    `--namespace=${options.namespace}`,
    '--provider=rfc2136',
    '--rfc2136-host=127.0.0.1',
    `--rfc2136-port=${bind.port}`,
    `--rfc2136-zone=${bind.zone}`,
    `--rfc2136-tsig-keyname=${bind.tsig.name}`,
    `--rfc2136-tsig-secret=${bind.tsig.secret}`,
    `--rfc2136-tsig-secret-alg=${bind.tsig.algorithm}`,
    '--rfc2136-tsig-axfr',
    `--domain-filter=${bind.zone}`,
    '--managed-record-types=TXT',
    '--registry=noop',
    '--policy=sync',
    '--interval=1s',
    `--metrics-address=127.0.0.1:${metricsPort}`,
    '--log-level=debug',
  ]);
  return externalDns;
}
