// One fleet, many teams (issue 15 item 3), against the real API server with both controllers: a
// relay of the platform namespace accepts SenderDomains of the namespaces its
// allowedSenderDomains selector matches, copies their DKIM keys (from Secrets of their own
// namespaces) into its own Secret, keeps each domain's ServiceAccount grants to its own namespace,
// refuses a second team's claim on a domain it already sends, and every SenderDomain says in
// status.relayBindings which relay accepted it and why another did not. Namespace labels are
// changed live, and the relay follows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { RelayBinding, SenderDomain } from '../../../operator/api/types.generated.ts';
import { coreResources, objectPath, type KubeObject } from '../../../operator/kube/resource.ts';
import { operatorControllers } from '../../../operator/main.ts';
import type { RelayConfig } from '../../../relay/config/types.ts';
import {
  admin,
  applyAsUser,
  eventually,
  get,
  privateNamespace,
  renderedRelayConfig,
  startRelayOperator,
  type OperatorUnderTest,
} from './smtp-relay-support.ts';

type Namespace = Awaited<ReturnType<typeof privateNamespace>>;
let platform: Namespace;
let teamA: Namespace;
let teamB: Namespace;
let running: OperatorUnderTest;

const tenantLabel = 'mailfleet.dev/tenant';

async function labelNamespace(name: string, value: string | null): Promise<void> {
  await admin.request({
    verb: 'patch',
    path: objectPath(coreResources.namespace, { namespace: '', name }),
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { [tenantLabel]: value } } },
  });
}

const sharedRelay: KubeObject = {
  apiVersion: 'mailfleet.dev/v1alpha1',
  kind: 'SmtpRelay',
  metadata: { name: 'shared' },
  spec: {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'shared-tls' } },
    serviceAccountTokens: {},
    allowedSenderDomains: {
      namespaces: { from: 'Selector', selector: { matchLabels: { [tenantLabel]: 'yes' } } },
    },
  },
};

function senderDomain(name: string, domain: string, dkim: boolean): KubeObject {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name },
    spec: {
      domain,
      relayRefs: [{ name: 'shared', namespace: platform.name }],
      dkim: dkim ? { enabled: true, selector: 'mf', algorithms: ['Ed25519'] } : { enabled: false },
      dnsVerification: { enabled: false },
    },
  };
}

function renderedConfig(): Promise<RelayConfig | undefined> {
  return renderedRelayConfig(platform.name, 'shared');
}

async function configuredDomains(): Promise<string[]> {
  return ((await renderedConfig())?.policy.senderDomains ?? []).map((entry) => entry.domain);
}

async function bindingsOf(namespace: string, name: string): Promise<readonly RelayBinding[] | undefined> {
  const domain = await get<SenderDomain & KubeObject>(senderDomainResource, namespace, name);
  return domain?.status?.relayBindings;
}

async function reasonOf(namespace: string, name: string): Promise<string | undefined> {
  return (await bindingsOf(namespace, name))?.find((entry) => entry.name === 'shared')?.reason;
}

before(async () => {
  platform = await privateNamespace(admin, 'platform');
  teamA = await privateNamespace(admin, 'team-a');
  teamB = await privateNamespace(admin, 'team-b');
  await labelNamespace(teamA.name, 'yes');
  running = await startRelayOperator([platform.name, teamA.name, teamB.name], {}, operatorControllers);
});

after(async () => {
  await running.operator.stop();
  await Promise.all([platform.remove(), teamA.remove(), teamB.remove()]);
});

test('a relay accepts SenderDomains of the namespaces its selector allows, with their keys and grants', async () => {
  await applyAsUser(smtpRelayResource, platform.name, sharedRelay);
  await applyAsUser(senderDomainResource, teamA.name, senderDomain('corp', 'corp.example', true));
  await applyAsUser(senderDomainResource, teamB.name, senderDomain('shop', 'shop.example', false));

  await eventually('the relay config lists team A’s domain, with its DKIM key', async () => {
    const config = await renderedConfig();
    const entry = config?.policy.senderDomains.find((domain) => domain.domain === 'corp.example');
    return (entry?.dkim?.length ?? 0) === 1;
  });
  const config = await renderedConfig();
  assert.deepEqual(await configuredDomains(), ['corp.example'], 'team B’s namespace is not allowed');
  const corp = config?.policy.senderDomains[0];
  assert.deepEqual(
    corp?.serviceAccounts,
    [{ namespace: teamA.name }],
    'grants stay in the domain’s namespace',
  );

  // The key was read from team A's Secret and copied into the relay's own Secret.
  const source = await get<KubeObject & { data?: Record<string, string> }>(
    coreResources.secret,
    teamA.name,
    'corp-dkim',
  );
  const relaySecret = await get<KubeObject & { data?: Record<string, string> }>(
    coreResources.secret,
    platform.name,
    'shared-relay-secrets',
  );
  const sourceKeys = Object.entries(source?.data ?? {}).filter(([key]) => key.endsWith('.pem'));
  assert.equal(sourceKeys.length, 1);
  const copied = Object.entries(relaySecret?.data ?? {}).filter(([key]) => key.startsWith('corp.example.'));
  assert.deepEqual(
    copied.map(([, value]) => value),
    sourceKeys.map(([, value]) => value),
    'the relay Secret holds team A’s key',
  );

  await eventually('team A is told Accepted, team B NotAllowedByNamespaces', async () => {
    return (
      (await reasonOf(teamA.name, 'corp')) === 'Accepted' &&
      (await reasonOf(teamB.name, 'shop')) === 'NotAllowedByNamespaces'
    );
  });
  const refused = (await bindingsOf(teamB.name, 'shop'))?.at(0);
  assert.ok(refused);
  assert.equal(refused.accepted, false);
  assert.equal(refused.namespace, platform.name);
  assert.match(refused.message ?? '', new RegExp(`not of ${teamB.name}`));
  const accepted = await get<SenderDomain & KubeObject>(senderDomainResource, teamA.name, 'corp');
  assert.deepEqual(accepted?.status?.relays, [`${platform.name}/shared`]);
  const relay = await get<KubeObject & { status?: { senderDomains?: unknown[] } }>(
    smtpRelayResource,
    platform.name,
    'shared',
  );
  assert.deepEqual(
    relay?.status?.senderDomains?.map((entry) => ({ ...(entry as object), ready: undefined })),
    [{ name: 'corp', namespace: teamA.name, domain: 'corp.example', ready: undefined }],
    'the relay status names a SenderDomain of another namespace with its namespace',
  );
});

test('labelling a namespace admits its SenderDomains; a second claim on a domain is refused', async () => {
  await labelNamespace(teamB.name, 'yes');
  await eventually('team B’s domain joins the relay config', async () => {
    const domains = await configuredDomains();
    return domains.includes('shop.example') && domains.includes('corp.example');
  });
  await eventually(
    'team B is told Accepted',
    async () => (await reasonOf(teamB.name, 'shop')) === 'Accepted',
  );

  // Team B now claims team A's domain: the relay keeps sending it as team A's (the older one).
  await applyAsUser(senderDomainResource, teamB.name, senderDomain('corp-claim', 'corp.example', false));
  await eventually(
    'the claim is refused with DomainConflict, naming the winner',
    async () => (await reasonOf(teamB.name, 'corp-claim')) === 'DomainConflict',
  );
  const [conflict] = (await bindingsOf(teamB.name, 'corp-claim')) ?? [];
  assert.match(conflict?.message ?? '', new RegExp(`as SenderDomain ${teamA.name}/corp`));
  const config = await renderedConfig();
  const corpEntries = config?.policy.senderDomains.filter((entry) => entry.domain === 'corp.example') ?? [];
  assert.equal(corpEntries.length, 1, 'one entry per domain');
  assert.deepEqual(corpEntries.at(0)?.serviceAccounts, [{ namespace: teamA.name }], 'still team A’s grants');
  assert.equal((corpEntries.at(0)?.dkim ?? []).length, 1, 'still team A’s key');

  // The platform removes team A from the fleet: its domain goes, and team B's claim is then accepted.
  await labelNamespace(teamA.name, null);
  await eventually(
    'team A is told NotAllowedByNamespaces, team B’s claim Accepted',
    async () =>
      (await reasonOf(teamA.name, 'corp')) === 'NotAllowedByNamespaces' &&
      (await reasonOf(teamB.name, 'corp-claim')) === 'Accepted',
  );
  await eventually('the config carries team B’s grants for corp.example', async () => {
    const entry = (await renderedConfig())?.policy.senderDomains.find(
      (domain) => domain.domain === 'corp.example',
    );
    return JSON.stringify(entry?.serviceAccounts) === JSON.stringify([{ namespace: teamB.name }]);
  });
});

test('admission: a Selector without selector, or a selector without Selector, is refused naming the field', async () => {
  for (const namespaces of [{ from: 'Selector' }, { from: 'All', selector: { matchLabels: { a: 'b' } } }]) {
    await assert.rejects(
      applyAsUser(smtpRelayResource, platform.name, {
        ...sharedRelay,
        metadata: { name: 'invalid' },
        spec: { ...(sharedRelay['spec'] as object), allowedSenderDomains: { namespaces } },
      }),
      (error: Error) => {
        assert.match(error.message, /spec\.allowedSenderDomains\.namespaces\.selector/);
        assert.match(error.message, /selector is required with from: Selector, and only allowed with it/);
        return true;
      },
    );
  }
});
