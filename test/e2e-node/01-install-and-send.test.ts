// Real node: the chart installed with `helm install` as docs/install.md says, in a namespace under the
// restricted Pod Security profile; an SmtpRelay with TLS, AUTH and a Persistent queue (PVCs from
// local-path-provisioner) and a SenderDomain with DKIM in another restricted namespace; a client pod
// sends to <relay>.<namespace>.svc.cluster.local with STARTTLS and AUTH (the certificate verified), a
// second one without AUTH from clientNetworks (the pod range); both arrive at smtp-sink in a pod with
// DKIM signatures that dkimpy verifies against the records in the SenderDomain's status; the queue CLI
// runs in the relay pod exactly as the docs write it. Later files build on the fleet this one leaves.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SenderDomain } from '../../operator/api/types.generated.ts';
import { verifyWithDkimpy } from '../support/dkimpy.ts';
import { startDnsmasq } from '../support/dnsmasq.ts';
import {
  applyObjects,
  loadScript,
  dumpMessage,
  helm,
  helmUpgrade,
  localImageValues,
  operatorLease,
  operatorNamespace,
  operatorSelector,
  password,
  relaySecrets,
  release,
  restrictedNamespace,
  sinkDumps,
  sinkObjects,
  swaks,
  toolsPod,
  waitPodsReady,
} from '../node/mail-fleet.ts';
import {
  authArgs,
  fleet,
  relayHost,
  relayObject,
  relayReconciled,
  senderDomainObject,
} from '../node/fleet.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const work = await mkdtemp(join(tmpdir(), 'mailfleet-e2e-'));
after(() => rm(work, { recursive: true, force: true }));
const { namespace, relay } = fleet;

before(async () => {
  await restrictedNamespace(cluster, operatorNamespace);
});

test('real node: helm install as docs/install.md says: two operator replicas under the restricted profile, one leads', async () => {
  const output = await helm(cluster, [
    'install',
    release,
    'charts/mailfleet',
    '--namespace',
    operatorNamespace,
    ...localImageValues(cluster.images),
  ]);
  assert.match(output, /STATUS: deployed/);
  await kubectl(cluster, [
    '-n',
    operatorNamespace,
    'rollout',
    'status',
    `deployment/${release}`,
    '--timeout=180s',
  ]);
  await waitPodsReady(cluster, operatorNamespace, operatorSelector, 2);
  await eventually('a leader holds the Lease', async () => {
    const holder = await operatorLease(cluster, '{.spec.holderIdentity}');
    return holder.startsWith(release);
  });
  await kubectl(cluster, ['get', 'crd', 'smtprelays.mailfleet.dev', 'senderdomains.mailfleet.dev']);
});

test("real node: the chart's leader fence switched on by helm upgrade: the API server admits the operator's writes only from the pod holding the Lease", async () => {
  // Off by default (docs/operator.md); on from here for the later files (02 kills the leader).
  const output = await helmUpgrade(cluster, ['--set', 'operator.leaderElection.apiServerFence=true']);
  assert.match(output, /STATUS: deployed/);
  // Tokens as the kubelet projects them into each operator pod: the ServiceAccount's, bound to the pod.
  const holder = await operatorLease(cluster, '{.spec.holderIdentity}');
  const pods = (
    await kubectl(cluster, [
      '-n',
      operatorNamespace,
      'get',
      'pods',
      '-l',
      operatorSelector,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.spec.serviceAccountName}{"\\n"}{end}',
    ])
  )
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const standby = pods.find(([name]) => name !== holder);
  assert.ok(
    standby && pods.some(([name]) => name === holder),
    `a leader and a standby among ${JSON.stringify(pods)}`,
  );
  const [standbyPod = '', serviceAccount = ''] = standby;
  const dryRunAs = async (pod: string) => {
    const token = (
      await kubectl(cluster, [
        '-n',
        operatorNamespace,
        'create',
        'token',
        serviceAccount,
        '--bound-object-kind=Pod',
        `--bound-object-name=${pod}`,
        '--duration=10m',
      ])
    ).trim();
    const args = ['-n', operatorNamespace, 'create', 'configmap', 'fence-probe', '--dry-run=server'];
    return kubectl(cluster, [`--token=${token}`, ...args]).then(
      () => 'admitted',
      (error: unknown) => String(error),
    );
  };
  // The API server applies a new policy within a second or so.
  await eventually('the standby pod is refused', async () =>
    (await dryRunAs(standbyPod)).includes('write refused by the leader fence'),
  );
  assert.equal(await dryRunAs(holder), 'admitted');
  assert.match(
    await dryRunAs(standbyPod),
    new RegExp(
      `forbidden: .*write refused by the leader fence: pod ${standbyPod} does not hold Lease ${operatorNamespace}/${release} \\(held by ${holder}\\)`,
    ),
  );
});

test('real node: `helm test` passes: its pod finds the CRDs established and the operator answering on its metrics Service', async () => {
  // The metrics Service has endpoints only once an operator pod is Ready, which the test above waited for.
  const output = await helm(cluster, [
    'test',
    release,
    '--namespace',
    operatorNamespace,
    '--logs',
    '--timeout=180s',
  ]);
  assert.match(output, /Phase:\s+Succeeded/);
  assert.match(output, /ok: CRD smtprelays\.mailfleet\.dev is established/, output);
  assert.match(output, /ok: the operator answers at /, output);
});

test('real node: an SmtpRelay with TLS, AUTH and a Persistent queue and its SenderDomain become Ready on the node', async () => {
  await restrictedNamespace(cluster, namespace);
  await relaySecrets(cluster, namespace, relay, work);
  await kubectl(cluster, [
    '-n',
    namespace,
    'create',
    'configmap',
    'load-script',
    `--from-file=load.py=${loadScript}`,
  ]);
  await applyObjects(cluster, [
    ...sinkObjects(namespace, cluster.images.TOOLS_IMAGE),
    toolsPod('client-auth', namespace, cluster.images.TOOLS_IMAGE, ['relay-ca']),
    toolsPod('client-trusted', namespace, cluster.images.TOOLS_IMAGE, ['load-script']),
    relayObject(),
    senderDomainObject(),
  ]);
  await waitPodsReady(cluster, namespace, 'app.kubernetes.io/instance=relay', fleet.replicas);
  await eventually('SmtpRelay reconciled and Ready', () => relayReconciled(cluster), 180_000);
  const pvcs = JSON.parse(await kubectl(cluster, ['-n', namespace, 'get', 'pvc', '-o', 'json'])) as {
    items: { status: { phase: string }; spec: { storageClassName: string } }[];
  };
  assert.equal(pvcs.items.length, fleet.replicas, 'one PVC per relay pod');
  for (const pvc of pvcs.items) {
    assert.equal(pvc.status.phase, 'Bound');
    assert.equal(pvc.spec.storageClassName, 'local-path', 'bound by the default StorageClass');
  }
  await waitPodsReady(cluster, namespace, 'app in (sink,client-auth,client-trusted)', 3);
  // Ready pods are not yet a programmed Service: kube-proxy writes its rules a moment later, and a
  // connection before that is refused. Wait until the relay's banner answers through the Service.
  await eventually('the relay Service answers on 25 and 587', async () => {
    for (const port of [25, 587, 25, 587, 25, 587])
      if (
        !(
          await swaks(cluster, namespace, 'client-trusted', [
            '--server',
            `${relayHost}:${port}`,
            '--quit-after',
            'BANNER',
          ])
        ).ok
      )
        return false;
    return true;
  });
});

test('real node: mail sent pod to pod: STARTTLS + AUTH on 587 and no AUTH from clientNetworks on 25, DKIM verified by dkimpy', async () => {
  const common = ['--from', 'app@demo.example', '--h-Subject', 'real node'];
  const verified = ['--tls', '--tls-verify', '--tls-ca-path', '/etc/relay-ca/ca.crt'];
  const submitted = await swaks(cluster, namespace, 'client-auth', [
    ...['--server', `${relayHost}:587`, ...verified, ...authArgs('app', password)],
    ...['--to', 'someone@dest.example', '--header', 'X-E2e: authenticated', ...common],
  ]);
  assert.ok(submitted.ok, submitted.output);
  assert.match(submitted.output, /<~ {2}250 [\s\S]*queued/i);
  const trusted = await swaks(cluster, namespace, 'client-trusted', [
    ...['--server', `${relayHost}:25`, '--to', 'other@dest.example', '--header', 'X-E2e: trusted', ...common],
  ]);
  assert.ok(trusted.ok, trusted.output);

  const plaintextAuth = await swaks(cluster, namespace, 'client-auth', [
    ...[
      '--server',
      `${relayHost}:587`,
      ...authArgs('app', password),
      '--to',
      'someone@dest.example',
      ...common,
    ],
  ]);
  assert.ok(!plaintextAuth.ok, 'no AUTH over plaintext');

  let dumps: Awaited<ReturnType<typeof sinkDumps>> = [];
  await eventually('both messages at the sink', async () => {
    dumps = await sinkDumps(cluster, namespace);
    return dumps.length >= 2;
  });
  assert.equal(dumps.length, 2);
  const domain = JSON.parse(
    await kubectl(cluster, ['-n', namespace, 'get', 'senderdomain', fleet.senderDomain, '-o', 'json']),
  ) as SenderDomain;
  const records = (domain.status?.dnsRecords ?? []).filter((r) => r.type === 'TXT');
  assert.ok(
    records.some((r) => r.value.includes('v=DKIM1')),
    'status lists the DKIM records',
  );
  const dns = await startDnsmasq({
    localDomains: ['demo.example'],
    txt: records.map((r) => ({ name: r.name, text: r.value })),
  });
  try {
    for (const dump of dumps) {
      const verdicts = (await verifyWithDkimpy(dumpMessage(dump), dns.server)).trim().split('\n');
      assert.equal(verdicts.length, 2, `an RSA and an Ed25519 signature: ${verdicts.join('; ')}`);
      assert.deepEqual(verdicts.map((v) => v.split(' ').slice(1).join(' ')).sort(), [
        'demo.example e2e-ed25519 pass',
        'demo.example e2e-rsa pass',
      ]);
    }
  } finally {
    await dns.stop();
  }
});

test('real node: `kubectl exec <relay-pod> -- mailfleet-relay queue list` works as the docs write it', async () => {
  const output = await kubectl(cluster, [
    '-n',
    namespace,
    'exec',
    `${relay}-0`,
    '--',
    'mailfleet-relay',
    'queue',
    'list',
  ]);
  assert.doesNotMatch(output, /error|usage/i);
  const version = await kubectl(cluster, [
    '-n',
    namespace,
    'exec',
    `${relay}-0`,
    '--',
    'mailfleet-relay',
    '--help',
  ]);
  assert.match(version, /usage: mailfleet-relay/);
});
