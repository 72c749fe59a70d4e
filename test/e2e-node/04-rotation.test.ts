// Real node: credentials rotated in place. A new users Secret (a second user) and a new TLS Secret
// (a certificate from another CA) reach the running relay pods through the kubelet's volume updates;
// the pods take them without a restart (same pod UIDs, same restart counts).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { authArgs, fleet, relayHost } from '../node/fleet.ts';
import { password, swaks } from '../node/mail-fleet.ts';
import { pods, type PodView } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';
import { makeTestCertificates } from '../support/tls.ts';

const cluster = sharedCluster();
const work = await mkdtemp(join(tmpdir(), 'mailfleet-rotate-'));
after(() => rm(work, { recursive: true, force: true }));
const { namespace, relay } = fleet;
const relaySelector = `app.kubernetes.io/instance=${relay}`;

const identities = (list: readonly PodView[]) =>
  list
    .map((p) => `${p.metadata.name} ${p.metadata.uid} ${p.status.containerStatuses?.[0]?.restartCount ?? -1}`)
    .sort();

async function replaceSecret(args: readonly string[]): Promise<void> {
  const manifest = await kubectl(cluster, [
    '-n',
    namespace,
    'create',
    'secret',
    ...args,
    '--dry-run=client',
    '-o',
    'json',
  ]);
  await kubectl(
    cluster,
    ['-n', namespace, 'apply', '--server-side', '--force-conflicts', '-f', '-'],
    manifest,
  );
}

test('real node: the users Secret rotated: a new user authenticates on every pod, none restarts', async () => {
  const before = identities(await pods(cluster, namespace, relaySelector));
  const opsPassword = 'e2e-ops-password';
  await replaceSecret([
    'generic',
    `${relay}-users`,
    `--from-literal=users=app:${bcrypt.hashSync(password, 10)}\nops:${bcrypt.hashSync(opsPassword, 10)}\n`,
  ]);
  const started = Date.now();
  const asOps = [
    ...['--server', `${relayHost}:587`, '--tls', ...authArgs('ops', opsPassword)],
    ...['--from', 'app@demo.example', '--to', 'x@dest.example', '--quit-after', 'AUTH'],
  ];
  // Each connection lands on some pod: ten successes in a row cover the fleet with high probability.
  await eventually(
    'the new user authenticates ten times in a row',
    async () => {
      for (let i = 0; i < 10; i++)
        if (!(await swaks(cluster, namespace, 'client-auth', asOps)).ok) return false;
      return true;
    },
    180_000,
  );
  console.log(`users Secret rotation took effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(identities(await pods(cluster, namespace, relaySelector)), before, 'no pod restarted');
});

test('real node: the TLS Secret rotated: every pod serves the new certificate, none restarts', async () => {
  const before = identities(await pods(cluster, namespace, relaySelector));
  const names = [`${relay}.${namespace}.svc.cluster.local`, `${relay}.${namespace}.svc`];
  const rotated = await makeTestCertificates(names, work, 'rotated');
  await replaceSecret(['tls', `${relay}-tls`, `--cert=${rotated.certFile}`, `--key=${rotated.keyFile}`]);
  const started = Date.now();
  const caPem = await readFile(rotated.caFile, 'utf8');
  // The client pod verifies STARTTLS against the new CA, which it reads on stdin.
  const verifies = async () => {
    const script = `import ssl,smtplib,sys\nctx=ssl.create_default_context(cadata=sys.stdin.read())\ns=smtplib.SMTP("${relayHost}",587,timeout=10)\ns.starttls(context=ctx)\ns.quit()`;
    try {
      await kubectl(
        cluster,
        ['-n', namespace, 'exec', '-i', 'client-auth', '--', 'python3', '-c', script],
        caPem,
      );
      return true;
    } catch {
      return false;
    }
  };
  await eventually(
    'the new certificate verifies ten times in a row',
    async () => {
      for (let i = 0; i < 10; i++) if (!(await verifies())) return false;
      return true;
    },
    180_000,
  );
  console.log(`TLS Secret rotation took effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(identities(await pods(cluster, namespace, relaySelector)), before, 'no pod restarted');
  const old = await swaks(cluster, namespace, 'client-auth', [
    '--server',
    `${relayHost}:587`,
    '--tls',
    '--tls-verify',
    '--tls-ca-path',
    '/etc/relay-ca/ca.crt',
    '--quit-after',
    'STARTTLS',
  ]);
  assert.ok(!old.ok, 'the old CA no longer verifies the relay');
});
