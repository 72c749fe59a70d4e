// Publishing through external-dns, against the real thing: the SenderDomain reconciler renders its
// DNSEndpoint on the shared control plane, a real external-dns (hack/external-dns.sh, its CRD source
// and RFC 2136 provider) writes it to a real BIND 9 on loopback with a TSIG key, and the reconciler's
// DNS verification asks that BIND. A domain goes from creation to Ready, then through a whole key
// rotation, with no step but time passing (the reconciler's FakeClock, moved by the test): the next
// selector is published, the switch waits until verification sees it (external-dns is held stopped
// past the switch time to show it), the relay process signs with the new key (dkimpy verifies mail
// signed before and after against BIND), and the old selector is withdrawn from DNS after the overlap.
// A second rotation runs its usual course with external-dns up: the next key is seen before its
// time and signs at that time. Set to Manual, the domain's DNSEndpoint is deleted and external-dns removes its records. A
// DNSEndpoint of the name that someone else owns is never taken over.
// Before the DNSEndpoint CRD is installed, the condition says it is missing and nothing is applied.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { senderDomainResource } from '../../../operator/api/kinds.ts';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import { isNotFound } from '../../../operator/kube/client.ts';
import { collectionPath, objectPath } from '../../../operator/kube/resource.ts';
import { txtLookup } from '../../../operator/reconcile/sender-domain-dns-lookup.ts';
import {
  decodeSecretValue,
  type DkimKeyAlgorithm,
} from '../../../operator/render/sender-domain-dkim-keys.ts';
import {
  dkimActiveSelectorAnnotation,
  generatedDkimKeyName,
} from '../../../operator/render/sender-domain-binding.ts';
import {
  dnsEndpointResource,
  type DnsEndpointObject,
} from '../../../operator/render/sender-domain-dns-endpoint.ts';
import { startBind, type Bind } from '../../support/bind.ts';
import { verifyWithDkimpy } from '../../support/dkimpy.ts';
import { externalDnsTools, startExternalDns, type ExternalDns } from '../../support/external-dns.ts';
import { projectVolume } from '../../support/projected-volume.ts';
import { startRelayProcess, type ConfigDocument, type RelayProcess } from '../../support/relay-process.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { kubectlOk } from '../chart/kubectl.ts';
import { eventually, privateNamespace } from '../operator-kube/support.ts';
import {
  activeControllers,
  admin,
  condition,
  create,
  eventsOf,
  readDomain,
  readSecret,
  senderDomainManifest,
  startController,
  type Running,
} from './sender-domain-support.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';

const run = promisify(execFile);
const controlPlane = sharedControlPlane();
const zone = 'auto.test';
const hour = 3_600_000;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

let bind: Bind;
let tools: Awaited<ReturnType<typeof externalDnsTools>>;
before(async () => {
  tools = await externalDnsTools();
  bind = await startBind(zone);
  cleanups.push(() => bind.stop());
});

function spec(extra: Record<string, unknown> = {}) {
  return {
    domain: zone,
    dkim: { selector: 'mf', algorithms: ['RSA2048'], rotation: { interval: '24h', overlap: '1h' } },
    spf: { mechanisms: ['ip4:192.0.2.0/24'], all: 'Fail' },
    dmarc: { policy: 'Reject' },
    dnsVerification: { enabled: true, interval: '1m' },
    dnsPublishing: { provider: 'ExternalDNS' },
    ...extra,
  };
}

async function readEndpoint(namespace: string, name: string): Promise<DnsEndpointObject | undefined> {
  try {
    return await admin.request<DnsEndpointObject>({
      verb: 'get',
      path: objectPath(dnsEndpointResource, { namespace, name }),
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** What BIND answers for a TXT name: the records (strings joined), or the error code. */
async function txt(name: string): Promise<string[] | string> {
  const answers = await txtLookup(bind.server)([name]);
  const answer = answers.get(name);
  if (answer === undefined) return 'no answer';
  return 'error' in answer ? answer.error : answer.records.map((strings) => strings.join(''));
}

/** Moves the reconciler's clock on by `stepMs` every 100 ms (time passing, faster), until stopped. */
function clockTicker(running: Running, stepMs: number): { stop(): void } {
  const timer = setInterval(() => void running.clock.advance(stepMs), 100);
  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  const controllers = [...activeControllers].map((running) => running.diagnostics());
  throw new Error(
    [
      `not within ${timeoutMs} ms: ${what}`,
      `--- external-dns/named logs (tail) ---\n${bind.log().slice(-2000)}`,
      ...controllers,
    ].join('\n'),
  );
}

test('the DNSEndpoint CRD absent: a truthful DnsPublished condition, nothing applied', async () => {
  const namespace = await privateNamespace(admin, 'senderdomain-noedns');
  cleanups.push(() => namespace.remove());
  const running = await startController(namespace.name, txtLookup(bind.server));
  cleanups.push(() => running.stop());
  await create(senderDomainResource, namespace.name, senderDomainManifest('absent', spec()));
  const published = await waitFor('DnsPublished', async () =>
    condition(await readDomain(namespace.name, 'absent'), 'DnsPublished'),
  );
  assert.equal(published.status, 'False');
  assert.equal(published.reason, 'DnsEndpointNotServed');
  assert.match(
    published.message,
    /^spec\.dnsPublishing\.provider is ExternalDNS but externaldns\.k8s\.io\/v1alpha1 dnsendpoints is not served by this cluster: install external-dns's DNSEndpoint CRD/,
  );
  await eventually('a Warning Event naming it', async () =>
    (await eventsOf(namespace.name, 'absent')).some(
      (event) => event.type === 'Warning' && event.reason === 'DnsEndpointNotServed',
    ),
  );
  // Nothing applied: the API group is not even there, and no record reached DNS.
  await assert.rejects(
    admin.request({ verb: 'get', path: collectionPath(dnsEndpointResource, namespace.name) }),
    (error: unknown) => isNotFound(error),
  );
  assert.equal(await txt(`_dmarc.${zone}`), 'ENOTFOUND');
  const domain = await readDomain(namespace.name, 'absent');
  assert.equal(condition(domain, 'DnsVerified')?.reason, 'RecordsNotPublished');
  assert.equal(condition(domain, 'Ready')?.status, 'False');
});

/** A message from the domain through the relay, sent by swaks (fails unless the relay takes it). */
async function send(port: number, subject: string): Promise<void> {
  await run('swaks', [
    '--server',
    `127.0.0.1:${port}`,
    '--helo',
    'app.test',
    '--from',
    `news@${zone}`,
    '--to',
    'reader@x.test',
    '--header',
    `Subject: ${subject}`,
    '--body',
    `Body of ${subject}.`,
  ]);
}

test('creation to Ready and a whole rotation with no human step, through external-dns and BIND 9', async () => {
  const timings: Record<string, number> = {};
  await kubectlOk(controlPlane, ['apply', '--server-side', '-f', tools.crd]);
  cleanups.push(() =>
    kubectlOk(controlPlane, ['delete', 'crd', 'dnsendpoints.externaldns.k8s.io', '--wait=false']),
  );
  await kubectlOk(controlPlane, [
    'wait',
    '--for=condition=Established',
    'crd/dnsendpoints.externaldns.k8s.io',
  ]);
  const namespace = await privateNamespace(admin, 'senderdomain-edns');
  cleanups.push(() => namespace.remove());
  const startDns = () =>
    startExternalDns({
      binary: tools.binary,
      kubeconfig: controlPlane.kubeconfigPath,
      namespace: namespace.name,
      bind,
    });
  let externalDns: ExternalDns = await startDns();
  cleanups.push(() => externalDns.stop());
  const running = await startController(namespace.name, txtLookup(bind.server));
  cleanups.push(() => running.stop());
  const ns = namespace.name;
  const domainNow = () => readDomain(ns, 'auto');
  const ticker = clockTicker(running, 1_000);
  cleanups.push(() => {
    ticker.stop();
    return Promise.resolve();
  });

  // Creation to Ready.
  const created = Date.now();
  await create(senderDomainResource, ns, senderDomainManifest('auto', spec()));
  await waitFor('Ready', async () =>
    condition(await domainNow(), 'Ready')?.status === 'True' ? true : undefined,
  );
  timings['creation to Ready'] = Date.now() - created;
  const ready = await domainNow();
  assert.equal(condition(ready, 'DnsVerified')?.reason, 'RecordsPublished');
  assert.equal(condition(ready, 'DnsPublished')?.reason, 'DnsEndpointApplied');
  assert.equal(ready.status?.dkim?.activeSelector, 'mf-1');
  const endpoint = await readEndpoint(ns, 'auto-dns');
  assert.ok(endpoint !== undefined);
  assert.deepEqual(
    endpoint.spec.endpoints.map((entry) => entry.dnsName),
    [`mf-1._domainkey.${zone}`, zone, `_dmarc.${zone}`],
  );
  assert.equal(endpoint.metadata?.ownerReferences?.[0]?.name, 'auto');
  // The RSA key record is two character strings in DNS, as it must be (each at most 255 octets).
  const dkimTarget = endpoint.spec.endpoints[0]?.targets[0] ?? '';
  assert.match(dkimTarget, /^"v=DKIM1; k=rsa; p=[^"]{200,}" "[^"]+"$/);

  // The relay signs with the key the Secret says is active; dkimpy checks it against BIND.
  const sink = await startSmtpSink();
  cleanups.push(() => sink.stop());
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-edns-relay-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const keys = join(dir, 'keys');
  const projected: Record<string, string> = {};
  const signWith = async (selector: string): Promise<ConfigDocument> => {
    const secret = await readSecret(ns, 'auto-dkim');
    assert.ok(secret !== undefined);
    assert.equal(secret.metadata?.annotations?.[dkimActiveSelectorAnnotation], selector);
    const file = generatedDkimKeyName(selector, 'RSA2048' satisfies DkimKeyAlgorithm);
    projected[file] = decodeSecretValue(secret.data?.[file] ?? '');
    await projectVolume(keys, projected);
    return {
      hostname: 'relay.test',
      listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
      policy: {
        allowedNetworks: ['127.0.0.0/8'],
        senderDomains: [
          { domain: zone, dkim: [{ selector, algorithm: 'rsa-sha256', privateKeyFile: join(keys, file) }] },
        ],
      },
      limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 2 },
      delivery: {
        mode: 'smarthost',
        smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
        allowPrivateDestinations: true,
      },
    };
  };
  const relay: RelayProcess = await startRelayProcess(await signWith('mf-1'), dir);
  cleanups.push(() => relay.stop());
  const port = relay.smtpPorts['smtp'] ?? 0;
  await send(port, 'before');
  const [beforeMessage] = await sink.waitForMessages(1, 15_000);
  const signedBefore = beforeMessage?.raw.slice(beforeMessage.raw.indexOf('DKIM-Signature:')) ?? '';
  assert.equal((await verifyWithDkimpy(signedBefore, bind.server)).trim(), `0 ${zone} mf-1 pass`);

  // external-dns is held stopped: the next selector is listed and put in the DNSEndpoint, but DNS
  // does not have it, so the switch waits past its time, and Ready stays True meanwhile.
  await externalDns.stop();
  ticker.stop();
  const activeSince = Date.parse(
    (await readSecret(ns, 'auto-dkim'))?.metadata?.annotations?.['mailfleet.dev/dkim-active-since'] ?? '',
  );
  const publishing = Date.now();
  await running.clock.advance(activeSince + 23 * hour - running.clock.now());
  const listed = await waitFor('mf-2 in the DNSEndpoint', async () => {
    const names = (await readEndpoint(ns, 'auto-dns'))?.spec.endpoints.map((entry) => entry.dnsName);
    return names?.includes(`mf-2._domainkey.${zone}`) === true ? names : undefined;
  });
  timings['next selector generated and in the DNSEndpoint'] = Date.now() - publishing;
  assert.deepEqual(listed, [`mf-1._domainkey.${zone}`, `mf-2._domainkey.${zone}`, zone, `_dmarc.${zone}`]);
  await running.clock.advance(2 * hour);
  const ticking = clockTicker(running, 1_000);
  cleanups.push(() => {
    ticking.stop();
    return Promise.resolve();
  });
  await waitFor('the wait for DNS', async () => {
    const domain = await domainNow();
    return condition(domain, 'DkimKeyReady')?.reason === 'NextKeyAwaitingDns' &&
      condition(domain, 'DnsVerified')?.reason === 'NextKeyNotYetVisible'
      ? domain
      : undefined;
  });
  await sleep(3_000);
  const waiting: SenderDomain = await domainNow();
  assert.deepEqual(
    [waiting.status?.dkim?.activeSelector, waiting.status?.dkim?.nextSelector],
    ['mf-1', 'mf-2'],
    'no switch before DNS has the next key',
  );
  assert.equal(condition(waiting, 'Ready')?.status, 'True', 'the next key pending holds nothing back');
  assert.equal(await txt(`mf-2._domainkey.${zone}`), 'ENOTFOUND');

  // external-dns runs again: it publishes mf-2, verification sees it, the switch follows.
  const resumed = Date.now();
  externalDns = await startDns();
  await waitFor('mf-2 visible in DNS', async () =>
    Array.isArray(await txt(`mf-2._domainkey.${zone}`)) ? true : undefined,
  );
  timings['DNSEndpoint to BIND (external-dns)'] = Date.now() - resumed;
  const switched = await waitFor('the switch', async () => {
    const domain = await domainNow();
    return domain.status?.dkim?.activeSelector === 'mf-2' ? domain : undefined;
  });
  timings['external-dns started to signing switched'] = Date.now() - resumed;
  assert.equal(condition(switched, 'DkimKeyReady')?.reason, 'PreviousKeyRetiring');
  assert.equal(condition(switched, 'Ready')?.status, 'True');
  assert.ok(Array.isArray(await txt(`mf-1._domainkey.${zone}`)), 'mf-1 stays published for the overlap');

  // The relay is reconfigured the operator's way (key first, then config) and signs with mf-2.
  const reloads = () => relay.logs.filter((line) => line.event === 'reloaded').length;
  const reloadsBefore = reloads();
  const next = await signWith('mf-2');
  const document = JSON.parse(await readFile(relay.configPath, 'utf8')) as ConfigDocument;
  await writeFile(relay.configPath, JSON.stringify({ ...document, policy: next['policy'] }));
  await relay.waitForLog((line) => line.event === 'reloaded' && reloads() > reloadsBefore);
  await send(port, 'after');
  const messages = await sink.waitForMessages(2, 15_000);
  const afterMessage = messages.find(({ raw }) => raw.includes('Subject: after'));
  const signedAfter = afterMessage?.raw.slice(afterMessage.raw.indexOf('DKIM-Signature:')) ?? '';
  assert.equal((await verifyWithDkimpy(signedAfter, bind.server)).trim(), `0 ${zone} mf-2 pass`);
  assert.equal(
    (await verifyWithDkimpy(signedBefore, bind.server)).trim(),
    `0 ${zone} mf-1 pass`,
    'mail signed before the switch still verifies during the overlap',
  );

  // After the overlap the old selector is retired and withdrawn from DNS by external-dns.
  const switchedAt = running.clock.now();
  const retiring = Date.now();
  await running.clock.advance(hour);
  await waitFor('mf-1 withdrawn from DNS', async () =>
    (await txt(`mf-1._domainkey.${zone}`)) === 'ENOTFOUND' ? true : undefined,
  );
  timings['overlap over to old selector gone from BIND'] = Date.now() - retiring;
  ticking.stop();
  const done = await domainNow();
  assert.deepEqual(
    (await readEndpoint(ns, 'auto-dns'))?.spec.endpoints.map((entry) => entry.dnsName),
    [`mf-2._domainkey.${zone}`, zone, `_dmarc.${zone}`],
  );
  assert.equal(done.status?.dkim?.activeSelector, 'mf-2');
  assert.equal(condition(done, 'DkimKeyReady')?.reason, 'KeysGenerated');
  assert.equal(condition(done, 'Ready')?.status, 'True');
  assert.equal((await verifyWithDkimpy(signedAfter, bind.server)).trim(), `0 ${zone} mf-2 pass`);
  await assert.rejects(
    verifyWithDkimpy(signedBefore, bind.server),
    /NXDOMAIN: The DNS query name does not exist: mf-1\._domainkey\.auto\.test/,
    'the withdrawn key is gone for verifiers too',
  );
  assert.ok(running.clock.now() >= switchedAt + hour);

  const reasons = (await eventsOf(ns, 'auto')).map((event) => event.reason);
  for (const reason of [
    'DkimKeyGenerated',
    'NextKeyAwaitingDns',
    'DkimKeyRotated',
    'DkimKeyRetired',
    'DnsVerified',
  ]) {
    assert.ok(reasons.includes(reason), `Event ${reason} in ${reasons.join(', ')}`);
  }
  assert.ok(!reasons.includes('DnsRecordsLost'), 'a rotation loses no record');

  // The next rotation with external-dns running throughout, the usual course: mf-3 is published,
  // seen before its switch time (NextKeyVisible), and signs at that time, not before.
  const secondSince = Date.parse(
    (await readSecret(ns, 'auto-dkim'))?.metadata?.annotations?.['mailfleet.dev/dkim-active-since'] ?? '',
  );
  const secondPublish = Date.now();
  await running.clock.advance(secondSince + 23 * hour - running.clock.now());
  const ticksOn = clockTicker(running, 1_000);
  cleanups.push(() => {
    ticksOn.stop();
    return Promise.resolve();
  });
  const seen = await waitFor('mf-3 seen in DNS', async () => {
    const domain = await domainNow();
    return condition(domain, 'DkimKeyReady')?.reason === 'NextKeyVisible' ? domain : undefined;
  });
  timings['next selector generated to seen by verification (external-dns running)'] =
    Date.now() - secondPublish;
  assert.equal(seen.status?.dkim?.activeSelector, 'mf-2', 'seen early, it waits for its time');
  assert.equal(seen.status.dkim.nextSelector, 'mf-3');
  assert.equal(condition(seen, 'DnsVerified')?.reason, 'RecordsPublished');
  const onTime = Date.now();
  await running.clock.advance(secondSince + 24 * hour - running.clock.now());
  await waitFor('mf-3 signs at its time', async () =>
    (await domainNow()).status?.dkim?.activeSelector === 'mf-3' ? true : undefined,
  );
  timings['switch time reached to mf-3 signing'] = Date.now() - onTime;
  ticksOn.stop();
  assert.ok(
    (await eventsOf(ns, 'auto')).some((event) => event.reason === 'NextKeyVisible'),
    'a NextKeyVisible Event',
  );

  // Published by hand from now on: the DNSEndpoint goes, and external-dns takes the records away.
  const manual = Date.now();
  const tickingAgain = clockTicker(running, 1_000);
  cleanups.push(() => {
    tickingAgain.stop();
    return Promise.resolve();
  });
  await admin.request({
    verb: 'patch',
    path: objectPath(senderDomainResource, { namespace: ns, name: 'auto' }),
    contentType: 'application/merge-patch+json',
    body: { spec: { dnsPublishing: { provider: 'Manual' } } },
  });
  await waitFor('the DNSEndpoint deleted', async () =>
    (await readEndpoint(ns, 'auto-dns')) === undefined ? true : undefined,
  );
  await waitFor('the records gone from BIND', async () =>
    (await txt(`_dmarc.${zone}`)) === 'ENOTFOUND' && (await txt(`mf-3._domainkey.${zone}`)) === 'ENOTFOUND'
      ? true
      : undefined,
  );
  timings['provider set to Manual to records gone from BIND'] = Date.now() - manual;
  const byHand = await waitFor('DnsPublished gone, DnsVerified False', async () => {
    const domain = await domainNow();
    return condition(domain, 'DnsPublished') === undefined &&
      condition(domain, 'DnsVerified')?.reason === 'RecordsNotPublished'
      ? domain
      : undefined;
  });
  assert.equal(condition(byHand, 'Ready')?.status, 'False');
  tickingAgain.stop();
  console.log(`timings (ms): ${JSON.stringify(timings)}`);
  await relay.stop();
});

test('a DNSEndpoint of that name the SenderDomain does not own is left alone and named', async () => {
  const namespace = await privateNamespace(admin, 'senderdomain-taken');
  cleanups.push(() => namespace.remove());
  const foreign = {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: 'taken-dns', namespace: namespace.name },
    spec: { endpoints: [{ dnsName: `other.${zone}`, recordType: 'TXT', targets: ['"someone else"'] }] },
  };
  await admin.request({
    verb: 'create',
    path: collectionPath(dnsEndpointResource, namespace.name),
    body: foreign,
  });
  const running = await startController(namespace.name, txtLookup(bind.server));
  cleanups.push(() => running.stop());
  await create(senderDomainResource, namespace.name, senderDomainManifest('taken', spec()));
  const published = await waitFor('DnsPublished', async () =>
    condition(await readDomain(namespace.name, 'taken'), 'DnsPublished'),
  );
  assert.deepEqual([published.status, published.reason], ['False', 'DnsEndpointNotOwned']);
  assert.equal(
    published.message,
    `DNSEndpoint ${namespace.name}/taken-dns exists and is not owned by this SenderDomain, so it is not replaced: delete or rename it`,
  );
  assert.deepEqual((await readEndpoint(namespace.name, 'taken-dns'))?.spec, foreign.spec);
});
