// Real node: credentials rotated in place. A new users Secret (a second user) and a new TLS Secret
// (a certificate from another CA) reach the running relay pods through the kubelet's volume updates;
// the pods take them without a restart (same pod UIDs, same restart counts).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { fleet, relayHost } from '../node/fleet.ts';
import { password, replaceSecret, starttlsOnPod, type StarttlsProbe } from '../node/mail-fleet.ts';
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

/** The relay pods' addresses; the fleet does not change during these tests. */
async function relayPodIps(): Promise<string[]> {
  const ips = (await pods(cluster, namespace, relaySelector)).map((p) => p.status.podIP ?? '');
  assert.equal(
    ips.filter(Boolean).length,
    fleet.replicas,
    `every relay pod has an address: ${ips.join(', ')}`,
  );
  return ips;
}

const submissionPort = Number(
  await kubectl(cluster, [
    ...['-n', namespace, 'get', 'service', relay],
    ...['-o', 'jsonpath={.spec.ports[?(@.name=="submission")].targetPort}'],
  ]),
);

/** True when the probe passes on every relay pod, each reached by its own address. */
async function everyPod(probe: Omit<StarttlsProbe, 'podIp' | 'port'>): Promise<boolean> {
  for (const podIp of await relayPodIps())
    if (
      !(await starttlsOnPod(cluster, namespace, 'client-auth', { ...probe, podIp, port: submissionPort })).ok
    )
      return false;
  return true;
}

const currentCaPem = async () =>
  kubectl(cluster, ['-n', namespace, 'get', 'configmap', 'relay-ca', '-o', "jsonpath={.data['ca\\.crt']}"]);

test('real node: the users Secret rotated: a new user authenticates on every pod, none restarts', async () => {
  const before = identities(await pods(cluster, namespace, relaySelector));
  const opsPassword = 'e2e-ops-password';
  const caPem = await currentCaPem();
  await replaceSecret(cluster, namespace, [
    'generic',
    `${relay}-users`,
    `--from-literal=users=app:${bcrypt.hashSync(password, 10)}\nops:${bcrypt.hashSync(opsPassword, 10)}\n`,
  ]);
  const started = Date.now();
  await eventually(
    'the new user authenticates on every relay pod',
    () => everyPod({ serverName: relayHost, caPem, login: { user: 'ops', password: opsPassword } }),
    180_000,
  );
  console.log(`users Secret rotation took effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(identities(await pods(cluster, namespace, relaySelector)), before, 'no pod restarted');
  const wrong = await starttlsOnPod(cluster, namespace, 'client-auth', {
    podIp: (await relayPodIps())[0] ?? '',
    port: submissionPort,
    serverName: relayHost,
    caPem,
    login: { user: 'ops', password: 'not-the-password' },
  });
  assert.ok(!wrong.ok, 'a wrong password is still refused');
});

test('real node: the TLS Secret rotated: every pod serves the new certificate, none restarts', async () => {
  const before = identities(await pods(cluster, namespace, relaySelector));
  const oldCaPem = await currentCaPem();
  const names = [`${relay}.${namespace}.svc.cluster.local`, `${relay}.${namespace}.svc`];
  const rotated = await makeTestCertificates(names, work, 'rotated');
  await replaceSecret(cluster, namespace, [
    'tls',
    `${relay}-tls`,
    `--cert=${rotated.certFile}`,
    `--key=${rotated.keyFile}`,
  ]);
  const started = Date.now();
  const caPem = await readFile(rotated.caFile, 'utf8');
  await eventually(
    'every relay pod serves a certificate the new CA verifies',
    () => everyPod({ serverName: relayHost, caPem }),
    180_000,
  );
  console.log(`TLS Secret rotation took effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(identities(await pods(cluster, namespace, relaySelector)), before, 'no pod restarted');
  for (const podIp of await relayPodIps()) {
    const old = await starttlsOnPod(cluster, namespace, 'client-auth', {
      podIp,
      port: submissionPort,
      serverName: relayHost,
      caPem: oldCaPem,
    });
    assert.ok(!old.ok, `the old CA no longer verifies the relay pod at ${podIp}`);
    assert.match(
      old.output,
      /CERTIFICATE_VERIFY_FAILED/,
      'refused for the certificate, not for another reason',
    );
  }
});
