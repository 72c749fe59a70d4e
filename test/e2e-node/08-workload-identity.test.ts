// Real node: a workload sends with nothing but its projected ServiceAccount token. The shared fleet's
// relay takes tokens (spec.serviceAccountTokens); pods run examples/clients/send-with-smtplib.py as
// written, with the token the kubelet projects for the audience mailfleet.dev/smtp:
//  - a ServiceAccount of the SenderDomain's namespace sends (OAUTHBEARER and XOAUTH2) through the
//    Service with STARTTLS, and the message reaches the sink;
//  - the same ServiceAccount name in another namespace is refused 553 5.7.1 for that domain;
//  - the pod's API token (the API server's audience) is refused 535;
//  - one fleet, several teams: with allowedSenderDomains from: Selector, a labelled namespace's
//    SenderDomain (relayRefs) is accepted and its pods send as it, DKIM-signed with the key generated
//    in their namespace (dkimpy verifies); an unlabelled namespace's is refused NotAllowedByNamespaces
//    and its pods get 553 5.7.1 for its domain and for the allowed team's.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SenderDomain } from '../../operator/api/types.generated.ts';
import { fleet, patchRelaySpec, relayHost } from '../node/fleet.ts';
import {
  applyObjects,
  dumpMessage,
  replaceSecret,
  repoRoot,
  starttlsOnPod,
  restrictedContainer,
  restrictedNamespace,
  sinkDumps,
  waitPodsReady,
} from '../node/mail-fleet.ts';
import { pods } from '../node/pods.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';
import { verifyWithDkimpy } from '../support/dkimpy.ts';
import { startDnsmasq } from '../support/dnsmasq.ts';
import { makeTestCertificates } from '../support/tls.ts';

const cluster = sharedCluster();
const { namespace } = fleet;
const otherTeam = 'other-team';
const tokenDir = '/var/run/secrets/mailfleet';

/** A pod of the tools image with the client script, the relay's CA and (unless `apiToken`) a projected token. */
function senderPod(name: string, podNamespace: string, options: { apiToken?: boolean } = {}): unknown {
  const projected = {
    name: 'mailfleet-token',
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', audience: 'mailfleet.dev/smtp', expirationSeconds: 3600 } },
      ],
    },
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: podNamespace, labels: { app: name } },
    spec: {
      serviceAccountName: 'mailer',
      // The kubelet makes the projected token readable by the pod's fsGroup.
      securityContext: { runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 },
      automountServiceAccountToken: options.apiToken === true,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'client',
          image: cluster.images.TOOLS_IMAGE,
          command: ['sleep', 'infinity'],
          securityContext: restrictedContainer,
          env: [
            { name: 'SMTP_HOST', value: relayHost },
            { name: 'SMTP_PORT', value: '587' },
            { name: 'SMTP_CA_FILE', value: '/etc/relay-ca/ca.crt' },
            {
              name: 'TOKEN_FILE',
              value: options.apiToken
                ? '/var/run/secrets/kubernetes.io/serviceaccount/token'
                : `${tokenDir}/token`,
            },
            { name: 'MAIL_FROM', value: 'app@demo.example' },
            { name: 'MAIL_TO', value: `${name}@dest.example` },
          ],
          volumeMounts: [
            { name: 'client', mountPath: '/etc/client' },
            { name: 'relay-ca', mountPath: '/etc/relay-ca' },
            ...(options.apiToken ? [] : [{ name: 'mailfleet-token', mountPath: tokenDir }]),
          ],
        },
      ],
      volumes: [
        { name: 'client', configMap: { name: 'smtplib-client' } },
        { name: 'relay-ca', configMap: { name: 'relay-ca' } },
        ...(options.apiToken ? [] : [projected]),
      ],
    },
  };
}

async function clientFiles(podNamespace: string, caPem: string): Promise<void> {
  const script = join(repoRoot, 'examples/clients/send-with-smtplib.py');
  const manifests = [
    await kubectl(cluster, [
      ...['-n', podNamespace, 'create', 'configmap', 'smtplib-client', `--from-file=send.py=${script}`],
      ...['--dry-run=client', '-o', 'json'],
    ]),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'relay-ca', namespace: podNamespace },
      data: { 'ca.crt': caPem },
    }),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'mailer', namespace: podNamespace },
    }),
  ];
  await kubectl(cluster, ['apply', '--server-side', '--force-conflicts', '-f', '-'], manifests.join('\n'));
}

async function send(
  pod: string,
  podNamespace: string,
  mechanism: string,
): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await kubectl(cluster, [
      ...['-n', podNamespace, 'exec', pod, '--', 'env', `SMTP_AUTH_MECHANISM=${mechanism}`],
      ...['python3', '/etc/client/send.py'],
    ]);
    return { ok: true, out };
  } catch (error) {
    return { ok: false, out: String(error) };
  }
}

test('real node: a pod sends with its projected ServiceAccount token; another namespace and the API token are refused', async (t) => {
  // A certificate of its own, from a CA this test knows (earlier files rotated the relay's).
  const work = await mkdtemp(join(tmpdir(), 'mailfleet-identity-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const names = [`${fleet.relay}.${namespace}.svc.cluster.local`, `${fleet.relay}.${namespace}.svc`];
  const certificates = await makeTestCertificates(names, work, 'identity');
  await replaceSecret(cluster, namespace, [
    ...['tls', `${fleet.relay}-tls`, `--cert=${certificates.certFile}`, `--key=${certificates.keyFile}`],
  ]);
  const caPem = await readFile(certificates.caFile, 'utf8');
  await clientFiles(namespace, caPem);
  await restrictedNamespace(cluster, otherTeam);
  await clientFiles(otherTeam, caPem);
  await applyObjects(cluster, [
    senderPod('mailer', namespace),
    senderPod('mailer', otherTeam),
    senderPod('api-token', namespace, { apiToken: true }),
  ]);
  await waitPodsReady(cluster, namespace, 'app in (mailer,api-token)', 2);
  await waitPodsReady(cluster, otherTeam, 'app=mailer', 1);
  await patchRelaySpec(cluster, { serviceAccountTokens: {} });

  // Every relay pod, probed by its own address, serves the new certificate and offers the token
  // mechanisms: the Secret and ConfigMap volumes reach each pod in its own kubelet sync, and the
  // refusals below go through the Service, which may pick any pod.
  const submissionPort = Number(
    await kubectl(cluster, [
      ...['-n', namespace, 'get', 'service', fleet.relay],
      ...['-o', 'jsonpath={.spec.ports[?(@.name=="submission")].targetPort}'],
    ]),
  );
  await eventually(
    'every relay pod serves the certificate of this test and offers OAUTHBEARER and XOAUTH2',
    async () => {
      for (const pod of await pods(cluster, namespace, `app.kubernetes.io/instance=${fleet.relay}`)) {
        const probe = {
          podIp: pod.status.podIP ?? '',
          port: submissionPort,
          serverName: relayHost,
          caPem,
          offers: ['OAUTHBEARER', 'XOAUTH2'],
        };
        if (!(await starttlsOnPod(cluster, namespace, 'client-auth', probe)).ok) return false;
      }
      return true;
    },
    180_000,
  );
  let sent = { ok: false, out: '' };
  let sentCount = 0;
  await eventually(
    'a pod sends with its token through the Service, five times in a row each way',
    async () => {
      for (let i = 0; i < 5; i++) {
        for (const mechanism of ['OAUTHBEARER', 'XOAUTH2']) {
          sent = await send('mailer', namespace, mechanism);
          if (!sent.ok) return false;
          sentCount += 1;
        }
      }
      return true;
    },
    180_000,
  );
  assert.match(sent.out, /sent with XOAUTH2; relay said: 250 /);
  await eventually(
    'every message sent with a token is at the sink',
    async () =>
      (await sinkDumps(cluster, namespace)).filter((dump) => dump.raw.includes('To: mailer@dest.example'))
        .length >= sentCount,
  );
  const keys = await kubectl(cluster, ['get', '--raw', '/openid/v1/jwks']);
  const config = await kubectl(cluster, [
    ...['-n', namespace, 'get', 'configmap', `${fleet.relay}-config`, '-o', 'jsonpath={.data.relay\\.yaml}'],
  ]);
  for (const { kid } of (JSON.parse(keys) as { keys: { kid: string }[] }).keys)
    assert.ok(config.includes(kid), `the relay config carries the issuer key ${kid}`);

  const otherNamespace = await send('mailer', otherTeam, 'OAUTHBEARER');
  assert.ok(!otherNamespace.ok, 'a ServiceAccount of another namespace cannot send as demo.example');
  assert.match(otherNamespace.out, /refused: 553 5\.7\.1 /);
  const apiToken = await send('api-token', namespace, 'OAUTHBEARER');
  assert.ok(!apiToken.ok, "the pod's API token is not a mail credential");
  assert.match(apiToken.out, /refused: 535 5\.7\.8 /);
  await kubectl(cluster, ['-n', namespace, 'delete', 'pod', 'api-token', '--wait=false']);
});

/** A pod of `podNamespace` sends as `from` with its token; the relay's reply. */
async function sendAs(podNamespace: string, from: string): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await kubectl(cluster, [
      ...['-n', podNamespace, 'exec', 'mailer', '--', 'env', 'SMTP_AUTH_MECHANISM=OAUTHBEARER'],
      ...[
        `MAIL_FROM=${from}`,
        `MAIL_TO=tenant-${podNamespace}@dest.example`,
        'python3',
        '/etc/client/send.py',
      ],
    ]);
    return { ok: true, out };
  } catch (error) {
    return { ok: false, out: String(error) };
  }
}

async function bindingReason(podNamespace: string, name: string): Promise<string> {
  return kubectl(cluster, [
    ...['-n', podNamespace, 'get', 'senderdomain', name],
    ...['-o', `jsonpath={.status.relayBindings[?(@.name=="${fleet.relay}")].reason}`],
  ]);
}

test('real node: one fleet, two teams: a namespace the relay allows sends as its own domain, DKIM-signed with its key; another team cannot', async () => {
  const tenant = 'mailfleet.dev/tenant';
  const teamDomain = (podNamespace: string) => ({
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name: 'team', namespace: podNamespace },
    spec: {
      domain: `${podNamespace}.example`,
      relayRefs: [{ name: fleet.relay, namespace }],
      dkim: { selector: 'team', algorithms: ['Ed25519'] },
      dnsVerification: { enabled: false },
    },
  });
  const thirdTeam = 'third-team';
  await restrictedNamespace(cluster, thirdTeam);
  const caPem = await kubectl(cluster, [
    ...['-n', otherTeam, 'get', 'configmap', 'relay-ca', '-o', 'jsonpath={.data.ca\\.crt}'],
  ]);
  await clientFiles(thirdTeam, caPem);
  await applyObjects(cluster, [senderPod('mailer', thirdTeam)]);
  await waitPodsReady(cluster, thirdTeam, 'app=mailer', 1);
  // The fleet's namespace and other-team join; third-team does not.
  for (const joining of [namespace, otherTeam])
    await kubectl(cluster, ['label', '--overwrite', 'namespace', joining, `${tenant}=yes`]);
  await patchRelaySpec(cluster, {
    allowedSenderDomains: {
      namespaces: { from: 'Selector', selector: { matchLabels: { [tenant]: 'yes' } } },
    },
  });
  await applyObjects(cluster, [teamDomain(otherTeam), teamDomain(thirdTeam)]);
  await eventually(
    'other-team is Accepted, third-team NotAllowedByNamespaces',
    async () =>
      (await bindingReason(otherTeam, 'team')) === 'Accepted' &&
      (await bindingReason(thirdTeam, 'team')) === 'NotAllowedByNamespaces',
    120_000,
  );

  // The relay pods reload the config that names other-team's domain: five sends in a row pass.
  let sent = { ok: false, out: '' };
  await eventually(
    'other-team sends as other-team.example, five times in a row',
    async () => {
      for (let i = 0; i < 5; i++) {
        sent = await sendAs(otherTeam, `app@${otherTeam}.example`);
        if (!sent.ok) return false;
      }
      return true;
    },
    180_000,
  );
  assert.match(sent.out, /relay said: 250 /);
  const asFleet = await sendAs(otherTeam, 'app@demo.example');
  assert.ok(!asFleet.ok, 'other-team cannot send as the fleet namespace’s domain');
  assert.match(asFleet.out, /refused: 553 5\.7\.1 /);
  const outsider = await sendAs(thirdTeam, `app@${thirdTeam}.example`);
  assert.ok(!outsider.ok, 'a namespace the relay does not allow has no domain on it');
  assert.match(outsider.out, /refused: 553 5\.7\.1 /);
  const intruder = await sendAs(thirdTeam, `app@${otherTeam}.example`);
  assert.ok(!intruder.ok, 'nor can it send as the domain of a team that is allowed');
  assert.match(intruder.out, /refused: 553 5\.7\.1 /);

  // other-team's mail is signed with the key generated in other-team's namespace.
  let dump: Awaited<ReturnType<typeof sinkDumps>>[number] | undefined;
  await eventually('other-team’s mail is at the sink', async () => {
    dump = (await sinkDumps(cluster, namespace)).find((entry) =>
      entry.raw.includes(`From: app@${otherTeam}.example`),
    );
    return dump !== undefined;
  });
  const domain = JSON.parse(
    await kubectl(cluster, ['-n', otherTeam, 'get', 'senderdomain', 'team', '-o', 'json']),
  ) as SenderDomain;
  const records = (domain.status?.dnsRecords ?? []).filter((record) => record.purpose === 'DKIM');
  const dns = await startDnsmasq({
    localDomains: [`${otherTeam}.example`],
    txt: records.map((record) => ({ name: record.name, text: record.value })),
  });
  try {
    assert.ok(dump);
    const verdict = (await verifyWithDkimpy(dumpMessage(dump), dns.server)).trim();
    assert.match(
      verdict,
      new RegExp(` ${otherTeam}\\.example ${domain.status?.dkim?.activeSelector ?? '?'} pass$`),
    );
  } finally {
    await dns.stop();
  }

  // Back to one team: the fleet's relay takes its own namespace only again.
  await patchRelaySpec(cluster, { allowedSenderDomains: null });
  await kubectl(cluster, ['label', 'namespace', namespace, `${tenant}-`]);
  await kubectl(cluster, ['delete', 'namespace', otherTeam, thirdTeam, '--wait=false']);
  await kubectl(cluster, ['-n', namespace, 'delete', 'pod', 'mailer', '--wait=false']);
});
