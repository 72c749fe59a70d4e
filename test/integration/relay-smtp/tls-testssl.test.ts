// Case 33 as an outside reviewer checks it: Debian's testssl.sh against the STARTTLS and the
// implicit-TLS listener of a relay on loopback (RSA certificate, so static-RSA suites would show).
// Protocols, cipher categories, server defaults, vulnerabilities and renegotiation; no finding of
// severity LOW or worse. Findings about the throwaway test certificate itself (self-signed, valid
// for two days, no CRL or OCSP URI: ids cert_*) say nothing of the TLS profile and are left out.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTlsProfileRelay, type TlsProfileRelay } from '../../support/tls-profile-relay.ts';

const run = promisify(execFile);
let relay: TlsProfileRelay;

before(async () => {
  relay = await startTlsProfileRelay();
});

after(async () => {
  await relay.stop();
});

interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
}

const weak = new Set(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

/** testssl.sh's JSON findings for one listener; about 20 s each on 2 cores. */
async function scan(listener: 'smtp' | 'smtps'): Promise<Finding[]> {
  const jsonFile = join(relay.relay.dir, `testssl-${listener}.json`);
  const target = `127.0.0.1:${relay.relay.port(listener)}`;
  await run(
    'testssl',
    [
      '--quiet',
      '--color',
      '0',
      '--warnings',
      'off',
      '--nodns',
      'none',
      '--protocols',
      '--std',
      '--server-defaults',
      '--vulnerable',
      '--renegotiation',
      '--jsonfile',
      jsonFile,
      ...(listener === 'smtp' ? ['--starttls', 'smtp'] : []),
      target,
    ],
    { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: unknown) => {
    // testssl.sh exits non-zero when it has findings; the JSON file is what counts.
    if ((error as { killed?: boolean }).killed === true) throw error;
  });
  return JSON.parse(await readFile(jsonFile, 'utf8')) as Finding[];
}

for (const listener of ['smtp', 'smtps'] as const) {
  test(
    `case 33: testssl.sh finds nothing weak or vulnerable on the ${listener === 'smtp' ? 'STARTTLS' : 'implicit-TLS'} listener`,
    { timeout: 180_000 },
    async () => {
      const findings = await scan(listener);
      const byId = new Map(findings.map((finding) => [finding.id, finding.finding]));
      assert.equal(byId.get('TLS1_2'), 'offered', 'the scan reached the TLS layer');
      assert.equal(byId.get('TLS1_3'), 'offered with final');
      assert.match(byId.get('secure_client_renego') ?? '', /^not vulnerable/);
      const reported = findings.filter(
        (finding) => weak.has(finding.severity) && !finding.id.startsWith('cert_'),
      );
      assert.deepEqual(
        reported.map((finding) => `${finding.severity} ${finding.id}: ${finding.finding}`),
        [],
      );
    },
  );
}
