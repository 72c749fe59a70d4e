// Starts the three targets of the realistic set, each registered with the caller's cleanups:
//   ceiling    the Node load generator into smtp-server doing STARTTLS + AUTH and nothing else;
//   Postfix    STARTTLS, Cyrus SASL (sasldb), the OpenDKIM milter, delivering to a dumping smtp-sink
//              (one instance with the RSA milter; for RSA + Ed25519 another with both milters);
//   mailfleet  STARTTLS, AUTH against the bcrypt users file, DKIM, delivering to a dumping smtp-sink.
// The DKIM keys are published on a private dnsmasq, where dkimpy looks them up.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startDnsmasq } from '../test/support/dnsmasq.ts';
import { freeLoopbackPort } from './free-port.ts';
import { startMailfleet } from './mailfleet.ts';
import type { RelayUnderTest } from './measure.ts';
import type { OpenDkim } from './opendkim.ts';
import { startOpenDkim } from './opendkim.ts';
import { startPostfix } from './postfix.ts';
import type { Signing } from './realistic.ts';
import { dkimParentDomain, tlsServerName } from './realistic.ts';
import { makeRealisticFixtures } from './realistic-fixtures.ts';
import type { Cleanups } from './cleanups.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { startCountingSink, startSmtpSink } from './smtp-sink.ts';

export interface RealisticTarget {
  readonly relay: RelayUnderTest;
  readonly sink: SmtpSink;
}

async function dumpingSink(directory: string, cleanups: Cleanups): Promise<SmtpSink> {
  await mkdir(directory);
  // smtp-sink writes as nobody when started as root.
  await chmod(directory, 0o777);
  const sink = await startSmtpSink({ dumpDirectory: directory });
  cleanups.add(() => sink.stop());
  return sink;
}

/** The targets each scenario runs against, by the signing it asks for; ceiling and mailfleet are shared. */
export type RealisticTargets = Record<Signing, readonly RealisticTarget[]>;

export async function startRealisticTargets(
  cleanups: Cleanups,
  withMailfleet: boolean,
): Promise<RealisticTargets> {
  const fixtures = await makeRealisticFixtures();
  cleanups.add(() => fixtures.remove());
  const dns = await startDnsmasq({ txt: fixtures.dkimRecords, localDomains: [dkimParentDomain] });
  cleanups.add(() => dns.stop());
  const tlsPair = { certFile: fixtures.certFile, keyFile: fixtures.keyFile };
  const secure = { serverName: tlsServerName, caPem: fixtures.caPem, credentials: fixtures.credentials };

  const ceilingPort = await freeLoopbackPort();
  const ceilingSink = await startCountingSink(
    process.execPath,
    [
      join(import.meta.dirname, 'tls-ceiling-server.ts'),
      String(ceilingPort),
      fixtures.certFile,
      fixtures.keyFile,
    ],
    ceilingPort,
  );
  cleanups.add(() => ceilingSink.stop());
  const ceiling: RealisticTarget = {
    relay: { name: 'ceiling', port: ceilingPort, secure },
    sink: ceilingSink,
  };

  const milters: OpenDkim[] = [];
  for (const algorithm of ['rsa', 'ed25519'] as const) {
    const milter = await startOpenDkim(
      join(fixtures.directory, `opendkim-${algorithm}`),
      fixtures.dkim,
      algorithm,
    );
    cleanups.add(() => milter.stop());
    milters.push(milter);
  }
  const startSigningPostfix = async (
    name: string,
    signing: readonly OpenDkim[],
  ): Promise<RealisticTarget> => {
    const dumps = join(fixtures.directory, `${name}-delivered`);
    const sink = await dumpingSink(dumps, cleanups);
    const postfix = await startPostfix({
      nextHopPort: sink.port,
      security: {
        ...tlsPair,
        sasldbFile: fixtures.sasldbFile,
        milterPorts: signing.map((milter) => milter.port),
      },
    });
    cleanups.add(() => postfix.stop());
    const relay: RelayUnderTest = {
      name: 'postfix',
      port: postfix.port,
      rootPid: postfix.masterPid,
      // The milters do Postfix's signing: their CPU and memory are counted with Postfix's.
      extraPids: signing.map((milter) => milter.pid),
      secure,
      dkimCheck: { dumpDirectory: dumps, dnsServer: dns.server },
    };
    return { relay, sink };
  };
  const [rsaMilter] = milters;
  if (rsaMilter === undefined) throw new Error('no RSA milter');
  const postfixRsa = await startSigningPostfix('postfix-rsa', [rsaMilter]);
  const postfixDual = await startSigningPostfix('postfix-dual', milters);

  if (withMailfleet) {
    const mailfleetDumps = join(fixtures.directory, 'mailfleet-delivered');
    const mailfleetSink = await dumpingSink(mailfleetDumps, cleanups);
    const mailfleet = await startMailfleet({
      nextHopPort: mailfleetSink.port,
      security: {
        ...tlsPair,
        usersFile: fixtures.usersFile,
        dkim: fixtures.dkim,
      },
    });
    cleanups.add(() => mailfleet.stop());
    const target: RealisticTarget = {
      relay: {
        name: 'mailfleet',
        port: mailfleet.port,
        rootPid: mailfleet.pid,
        secure,
        dkimCheck: { dumpDirectory: mailfleetDumps, dnsServer: dns.server },
      },
      sink: mailfleetSink,
    };
    return { rsa: [ceiling, postfixRsa, target], 'rsa+ed25519': [ceiling, postfixDual, target] };
  }
  return { rsa: [ceiling, postfixRsa], 'rsa+ed25519': [ceiling, postfixDual] };
}
