// mailfleet's DKIM signatures (RSA-2048, and RSA-2048 + Ed25519, each key object made once per key:
// relay/dkim/key-objects.ts) verified by two independent verifiers: OpenDKIM as a milter of the
// Postfix mailfleet delivers to (its Authentication-Results header), and dkimpy on what arrives.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { messageOfDump } from '../../../bench/dkim-sample.ts';
import { startMailfleet } from '../../../bench/mailfleet.ts';
import { startVerifyingOpenDkim } from '../../../bench/opendkim.ts';
import { startPostfix } from '../../../bench/postfix.ts';
import type { Signing } from '../../../bench/realistic.ts';
import {
  dkimDomains,
  dkimParentDomain,
  expectedSignatures,
  senderOf,
  tlsServerName,
} from '../../../bench/realistic.ts';
import { makeRealisticFixtures } from '../../../bench/realistic-fixtures.ts';
import { Cleanups } from '../../../bench/run.ts';
import { runClients } from '../../../bench/smtp-probe.ts';
import { startSmtpSink } from '../../../bench/smtp-sink.ts';
import { verifyWithDkimpy } from '../../support/dkimpy.ts';
import { startDnsmasq } from '../../support/dnsmasq.ts';

const perDomain = 3;
const authservId = 'verifier.bench.example';

test('OpenDKIM and dkimpy pass every signature mailfleet makes, RSA-2048 and Ed25519', async (t) => {
  const cleanups = new Cleanups();
  t.after(() => cleanups.runAll());
  const fixtures = await makeRealisticFixtures();
  cleanups.add(() => fixtures.remove());
  const dns = await startDnsmasq({ txt: fixtures.dkimRecords, localDomains: [dkimParentDomain] });
  cleanups.add(() => dns.stop());
  const verifier = await startVerifyingOpenDkim(
    join(fixtures.directory, 'verifier'),
    fixtures.dkimRecords,
    authservId,
  );
  cleanups.add(() => verifier.stop());
  const dumps = join(fixtures.directory, 'verified');
  await mkdir(dumps);
  await chmod(dumps, 0o777);
  const sink = await startSmtpSink({ dumpDirectory: dumps });
  cleanups.add(() => sink.stop());
  const postfix = await startPostfix({ nextHopPort: sink.port, milterPort: verifier.port });
  cleanups.add(() => postfix.stop());
  const relay = await startMailfleet({
    nextHopPort: postfix.port,
    security: {
      certFile: fixtures.certFile,
      keyFile: fixtures.keyFile,
      usersFile: fixtures.usersFile,
      dkim: fixtures.dkim,
    },
  });
  cleanups.add(() => relay.stop());

  const signings = Object.keys(dkimDomains) as Signing[];
  for (const signing of signings) {
    const sent = await runClients(
      {
        port: relay.port,
        payloadBytes: 2048,
        reuseConnection: true,
        maxMessages: perDomain,
        secure: {
          tlsVersion: 'TLSv1.3',
          serverName: tlsServerName,
          caPem: fixtures.caPem,
          credentials: fixtures.credentials,
          sender: senderOf(signing),
        },
      },
      1,
    );
    assert.deepEqual(sent.failures, [], signing);
  }
  const total = perDomain * signings.length;
  assert.equal(
    await sink.waitForDelivered(total, 60_000),
    total,
    'every message went through Postfix and its milter',
  );

  const files = await readdir(dumps);
  assert.equal(files.length, total);
  for (const file of files) {
    const message = messageOfDump(await readFile(join(dumps, file), 'latin1'));
    const signing = signings.find((candidate) => message.includes(`From: <${senderOf(candidate)}>`));
    assert.ok(signing !== undefined, `a sender of the test in ${file}`);
    const expected = expectedSignatures(signing);
    const results = message
      .split(/\r\n(?![ \t])/)
      .filter((header) => header.startsWith(`Authentication-Results: ${authservId}`))
      .join(' ');
    const passes = results.match(/dkim=pass/g) ?? [];
    assert.equal(passes.length, expected, `OpenDKIM on a message of ${signing}: ${results}`);
    assert.doesNotMatch(results, /dkim=(fail|neutral|temperror|permerror)/, results);
    const dkimpy = (await verifyWithDkimpy(message, dns.server)).trim().split('\n');
    assert.equal(
      dkimpy.filter((line) => line.endsWith(' pass')).length,
      expected,
      `dkimpy: ${dkimpy.join(', ')}`,
    );
  }
});
