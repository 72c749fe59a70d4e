// The SenderDomain reconciler against a real apiserver: generated keys in an owned Secret that sign
// and verify, status and relays, quiet when converged, a full rotation on an injected clock, and
// keys a user brings (missing, then present).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import { collectionPath, coreResources } from '../../../operator/kube/resource.ts';
import { maxRequeueMs } from '../../../operator/reconcile/sender-domain.ts';
import { dkimActiveSelectorAnnotation, signingKeys } from '../../../operator/render/sender-domain-binding.ts';
import {
  decodeSecretValue,
  dkimPublicKeyRecord,
  encodeSecretValue,
  generateDkimKey,
} from '../../../operator/render/sender-domain-dkim-keys.ts';
import { signAndVerify } from '../../unit/operator-senderdomain/dkim-check.ts';
import { eventually, privateNamespace } from '../operator-kube/support.ts';
import {
  admin,
  condition,
  create,
  eventsOf,
  noDns,
  readDomain,
  readSecret,
  senderDomainManifest,
  startController,
  startOfTest,
  type Running,
} from './sender-domain-support.ts';

const day = 24 * 3_600_000;
let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: Running;

before(async () => {
  namespace = await privateNamespace(admin, 'senderdomain');
  running = await startController(namespace.name, noDns);
});
after(async () => {
  await running.stop();
  await namespace.remove();
});

const quietSpec = {
  spf: { mechanisms: ['include:_spf.provider.example'], all: 'Fail' },
  dnsVerification: { enabled: false },
};

test('generated keys: an owned Secret whose keys sign mail that verifies with status.dnsRecords', async () => {
  const ns = namespace.name;
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('gen', {
      domain: 'gen.example',
      relays: ['internal'],
      dkim: { selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] },
      ...quietSpec,
    }),
  );
  await eventually('Ready', async () => condition(await readDomain(ns, 'gen'), 'Ready')?.status === 'True');
  const domain = await readDomain(ns, 'gen');
  const secret = await readSecret(ns, 'gen-dkim');
  assert.ok(secret);
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['mf.ed25519.pem', 'mf.rsa.pem']);
  assert.equal(secret.metadata?.annotations?.[dkimActiveSelectorAnnotation], 'mf');
  const owner = secret.metadata.ownerReferences?.[0];
  assert.equal(owner?.uid, domain.metadata.uid);
  assert.equal(owner?.kind, 'SenderDomain');
  assert.equal(owner.controller, true);
  assert.equal(condition(domain, 'DkimKeyReady')?.reason, 'KeysGenerated');
  assert.equal(condition(domain, 'DkimKeyReady')?.observedGeneration, domain.metadata.generation);
  assert.equal(domain.status?.observedGeneration, domain.metadata.generation);
  assert.deepEqual(domain.status?.dkim, { activeSelector: 'mf' });
  assert.equal(domain.status.relays, undefined, 'no SmtpRelay exists yet');

  const records = domain.status.dnsRecords ?? [];
  assert.deepEqual(
    records.map((record) => [record.purpose, record.name]),
    [
      // One record per name: each algorithm signs under a selector of its own.
      ['DKIM', 'mf-rsa._domainkey.gen.example'],
      ['DKIM', 'mf-ed25519._domainkey.gen.example'],
      ['SPF', 'gen.example'],
      ['DMARC', '_dmarc.gen.example'],
    ],
  );
  assert.equal(records[2]?.value, 'v=spf1 include:_spf.provider.example -all');
  assert.equal(records[3]?.value, 'v=DMARC1; p=none; pct=100; adkim=r; aspf=r');

  // The relay side reads the Secret through the contract and signs with every key at once; both
  // signatures verify against the published records, each at its own name.
  const keys = signingKeys(domain, secret);
  assert.ok(keys.ok);
  const txt = new Map<string, string[]>();
  for (const record of records.filter((entry) => entry.purpose === 'DKIM')) {
    txt.set(record.name, [...(txt.get(record.name) ?? []), record.value]);
  }
  assert.ok(
    [...txt.values()].every((values) => values.length === 1),
    'one key record per name',
  );
  const signing = keys.keys.map((key) => ({
    selector: key.selector,
    algorithm: key.algorithm,
    privateKeyPem: decodeSecretValue(secret.data?.[key.secretKey] ?? ''),
  }));
  assert.deepEqual(
    signing.map((key) => key.selector),
    ['mf-rsa', 'mf-ed25519'],
  );
  assert.deepEqual(await signAndVerify({ domain: 'gen.example', keys: signing, txt }), ['pass', 'pass']);
  const swapped = signing.map((key) => ({
    ...key,
    privateKeyPem: generateDkimKey(key.algorithm === 'rsa-sha256' ? 'RSA2048' : 'Ed25519'),
  }));
  assert.deepEqual(
    await signAndVerify({ domain: 'gen.example', keys: swapped, txt }),
    ['fail', 'fail'],
    'other keys do not verify',
  );
  const generated = (await eventsOf(ns, 'gen')).filter((event) => event.reason === 'DkimKeyGenerated');
  assert.equal(generated.length, 1);
  assert.match(
    generated[0]?.message ?? '',
    /generated RSA2048 and Ed25519 DKIM keys of selector mf in Secret .*\/gen-dkim/,
  );
  assert.equal(generated[0]?.count, 1, 'generated once');

  // Converged: resyncs every 250 ms write nothing.
  const writes = running.client.writes;
  const reconciles = running.results.length;
  await sleep(1_500);
  assert.equal(running.client.writes, writes, 'no write when nothing changed');
  const during = running.results.length - reconciles;
  assert.ok(during >= 3 && during < 30, `resyncs every 250 ms reconcile, and nothing more: ${during}`);

  // The domain names the relay in spec.relays: it appears in status.relays once it exists.
  await admin.request({
    verb: 'create',
    path: collectionPath(smtpRelayResource, ns),
    body: {
      apiVersion: 'mailfleet.dev/v1alpha1',
      kind: 'SmtpRelay',
      metadata: { name: 'internal' },
      spec: {
        listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
        clientNetworks: ['10.0.0.0/8'],
      },
    },
  });
  await eventually('status.relays lists the relay', async () => {
    const relays = (await readDomain(ns, 'gen')).status?.relays;
    return relays?.length === 1 && relays[0] === 'internal';
  });
  assert.match(condition(await readDomain(ns, 'gen'), 'Ready')?.message ?? '', /sent by SmtpRelay internal/);
  const secretAfter = await readSecret(ns, 'gen-dkim');
  assert.deepEqual(secretAfter?.data, secret.data, 'the keys never change without rotation');
});

test('rotation on the injected clock: next key published, switch, old key retired', async () => {
  const ns = namespace.name;
  const t0 = running.clock.now();
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('rot', {
      domain: 'rot.example',
      dkim: { selector: 'mf', algorithms: ['Ed25519'], rotation: { interval: '240h', overlap: '48h' } },
      ...quietSpec,
    }),
  );
  const dkimStatus = async () => (await readDomain(ns, 'rot')).status?.dkim;
  const secretKeys = async () => Object.keys((await readSecret(ns, 'rot-dkim'))?.data ?? {}).sort();
  const dkimNames = async () =>
    ((await readDomain(ns, 'rot')).status?.dnsRecords ?? [])
      .filter((record) => record.purpose === 'DKIM')
      .map((record) => record.name);
  await eventually('mf-1 signs', async () => (await dkimStatus())?.activeSelector === 'mf-1');
  assert.deepEqual(await dkimStatus(), {
    activeSelector: 'mf-1',
    nextRotation: new Date(t0 + 10 * day).toISOString().replace('.000Z', 'Z'),
  });
  const mf1 = (await readSecret(ns, 'rot-dkim'))?.data?.['mf-1.ed25519.pem'];

  await running.clock.advance(8 * day);
  await eventually('mf-2 published', async () => (await dkimStatus())?.nextSelector === 'mf-2');
  assert.deepEqual(await secretKeys(), ['mf-1.ed25519.pem', 'mf-2.ed25519.pem']);
  assert.deepEqual(await dkimNames(), ['mf-1._domainkey.rot.example', 'mf-2._domainkey.rot.example']);
  assert.equal(
    (await readSecret(ns, 'rot-dkim'))?.metadata?.annotations?.[dkimActiveSelectorAnnotation],
    'mf-1',
  );

  await running.clock.advance(2 * day);
  await eventually('mf-2 signs', async () => (await dkimStatus())?.activeSelector === 'mf-2');
  const switched = await readSecret(ns, 'rot-dkim');
  assert.equal(switched?.metadata?.annotations?.[dkimActiveSelectorAnnotation], 'mf-2');
  assert.equal(switched.data?.['mf-1.ed25519.pem'], mf1, 'the old key stays published after the switch');
  assert.deepEqual(await dkimNames(), ['mf-2._domainkey.rot.example', 'mf-1._domainkey.rot.example']);

  await running.clock.advance(2 * day);
  await eventually('mf-1 retired', async () => (await secretKeys()).length === 1);
  assert.deepEqual(await secretKeys(), ['mf-2.ed25519.pem']);
  await eventually('mf-1 gone from status', async () => (await dkimNames()).length === 1);
  assert.deepEqual(await dkimNames(), ['mf-2._domainkey.rot.example']);

  const events = await eventsOf(ns, 'rot');
  const messages = (reason: string) =>
    events
      .filter((event) => event.reason === reason && event.count === 1)
      .map((event) => event.message ?? '');
  assert.deepEqual(messages('DkimKeyGenerated').length, 2, 'mf-1 and mf-2, each generated once');
  assert.ok(
    messages('DkimKeyGenerated').some((message) =>
      /selector mf-2 .* before 2026-01-11T00:00:00Z/.test(message),
    ),
  );
  assert.deepEqual(messages('DkimKeyRotated'), [
    'selector mf-2 signs now instead of mf-1; keep mf-1._domainkey.rot.example published until 2026-01-13T00:00:00Z',
  ]);
  assert.equal(messages('DkimKeyRetired').length, 1);
  assert.ok(running.clock.now() >= startOfTest + 12 * day);
  const waits = running.results.flatMap((result) =>
    result?.requeueAfterMs === undefined ? [] : [result.requeueAfterMs],
  );
  assert.ok(
    waits.length > 0 && waits.every((ms) => ms > 0 && ms <= maxRequeueMs),
    'requeue waits a Node timer can hold',
  );
});

test('keys the user brings: a missing Secret is named in DkimKeyReady and a Warning, then recovers', async () => {
  const ns = namespace.name;
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('own', {
      domain: 'own.example',
      dkim: {
        selector: 's2025',
        algorithms: ['RSA2048'],
        privateKeySecretRef: { name: 'own-keys' },
      },
      ...quietSpec,
    }),
  );
  await eventually(
    'DkimKeyReady False',
    async () => condition(await readDomain(ns, 'own'), 'DkimKeyReady')?.status === 'False',
  );
  const failing = await readDomain(ns, 'own');
  assert.equal(condition(failing, 'DkimKeyReady')?.reason, 'SecretNotFound');
  assert.match(
    condition(failing, 'DkimKeyReady')?.message ?? '',
    new RegExp(`^Secret ${ns}/own-keys \\(spec\\.dkim\\.privateKeySecretRef\\.name\\) not found`),
  );
  assert.equal(condition(failing, 'Ready')?.status, 'False');
  assert.equal(condition(failing, 'Ready')?.reason, 'DkimKeyNotReady');
  await eventually('a Warning Event', async () =>
    (await eventsOf(ns, 'own')).some(
      (event) => event.type === 'Warning' && event.reason === 'SecretNotFound',
    ),
  );

  await create(coreResources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'own-keys' },
    data: { 'rsa.pem': encodeSecretValue('not a key') },
  });
  await eventually(
    'KeyInvalid names the key',
    async () => condition(await readDomain(ns, 'own'), 'DkimKeyReady')?.reason === 'KeyInvalid',
  );
  assert.match(
    condition(await readDomain(ns, 'own'), 'DkimKeyReady')?.message ?? '',
    /key "rsa\.pem" \(spec\.dkim\.privateKeySecretRef\.rsaKey\) cannot sign as RSA2048: not a PEM private key/,
  );

  const pem = generateDkimKey('RSA2048');
  await admin.request({
    verb: 'patch',
    path: `${collectionPath(coreResources.secret, ns)}/own-keys`,
    contentType: 'application/merge-patch+json',
    body: { data: { 'rsa.pem': encodeSecretValue(pem) } },
  });
  await eventually(
    'recovers',
    async () => condition(await readDomain(ns, 'own'), 'Ready')?.status === 'True',
  );
  const ready = await readDomain(ns, 'own');
  assert.equal(condition(ready, 'DkimKeyReady')?.reason, 'KeysValid');
  assert.deepEqual(ready.status?.dkim, { activeSelector: 's2025' });
  assert.equal(ready.status.dnsRecords?.[0]?.name, 's2025._domainkey.own.example');
  assert.equal(ready.status.dnsRecords[0].value, dkimPublicKeyRecord(pem, 'RSA2048'));
  assert.equal(await readSecret(ns, 'own-dkim'), undefined, 'nothing generated for keys the user brings');
  const warnings = (await eventsOf(ns, 'own'))
    .filter((event) => event.type === 'Warning')
    .map((event) => event.reason);
  assert.deepEqual(warnings.sort(), ['KeyInvalid', 'SecretNotFound']);
});

test('a Secret of the generated name that the domain does not own is left alone', async () => {
  const ns = namespace.name;
  await create(coreResources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'taken-dkim' },
    data: { 'mf.rsa.pem': encodeSecretValue('someone else') },
  });
  await create(
    senderDomainResource,
    ns,
    senderDomainManifest('taken', { domain: 'taken.example', dkim: { selector: 'mf' }, ...quietSpec }),
  );
  await eventually(
    'SecretNotOwned',
    async () => condition(await readDomain(ns, 'taken'), 'DkimKeyReady')?.reason === 'SecretNotOwned',
  );
  assert.match(
    condition(await readDomain(ns, 'taken'), 'DkimKeyReady')?.message ?? '',
    new RegExp(`^Secret ${ns}/taken-dkim exists and is not owned by this SenderDomain`),
  );
  const secret = await readSecret(ns, 'taken-dkim');
  assert.deepEqual(secret?.data, { 'mf.rsa.pem': encodeSecretValue('someone else') });
  assert.equal(secret.metadata?.ownerReferences, undefined);
});
