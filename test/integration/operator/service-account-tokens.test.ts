// spec.serviceAccountTokens end to end on the operator side, against the real API server: the
// operator reads the issuer from /.well-known/openid-configuration and the keys from
// /openid/v1/jwks and renders them into the relay's ConfigMap (the relay pods need no API token),
// with each SenderDomain's ServiceAccount grants; admission refuses the API server's audience.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { senderDomainResource, smtpRelayResource } from '../../../operator/api/kinds.ts';
import type { KubeObject } from '../../../operator/kube/resource.ts';
import type { RelayConfig } from '../../../relay/config/types.ts';
import { issuerKeys } from '../../support/service-account-tokens.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import {
  admin,
  applyAsUser,
  eventually,
  privateNamespace,
  renderedRelayConfig,
  relayCondition,
  startRelayOperator,
  type OperatorUnderTest,
} from './smtp-relay-support.ts';

let namespace: Awaited<ReturnType<typeof privateNamespace>>;
let running: OperatorUnderTest;

const relay = (audience?: string): KubeObject => ({
  apiVersion: 'mailfleet.dev/v1alpha1',
  kind: 'SmtpRelay',
  metadata: { name: 'outbound' },
  spec: {
    listeners: [{ name: 'submission', port: 587 }],
    tls: { secretRef: { name: 'outbound-tls' } },
    serviceAccountTokens: audience === undefined ? {} : { audience },
  },
});

const senderDomain = (name: string, domain: string, serviceAccounts?: unknown[]): KubeObject => ({
  apiVersion: 'mailfleet.dev/v1alpha1',
  kind: 'SenderDomain',
  metadata: { name },
  spec: {
    domain,
    relays: ['outbound'],
    dkim: { enabled: false },
    ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
  },
});

function renderedConfig(): Promise<RelayConfig | undefined> {
  return renderedRelayConfig(namespace.name, 'outbound');
}

before(async () => {
  namespace = await privateNamespace(admin, 'sa-tokens');
  running = await startRelayOperator(namespace.name, { issuerKeysRefreshMs: 1000 });
});

after(async () => {
  await running.operator.stop();
  await namespace.remove();
});

test('the relay config carries the API server issuer and JWKS keys, and each SenderDomain its grants', async () => {
  await applyAsUser(senderDomainResource, namespace.name, senderDomain('own', 'a.example'));
  await applyAsUser(
    senderDomainResource,
    namespace.name,
    senderDomain('shared', 'b.example', [{ name: 'billing', namespace: 'team-b' }, { name: 'web' }]),
  );
  await applyAsUser(smtpRelayResource, namespace.name, relay());
  await eventually('the relay config names both SenderDomains', async () => {
    return (await renderedConfig())?.policy.senderDomains.length === 2;
  }).catch(async (error: unknown) => {
    const conditions = (await relayCondition(namespace.name, 'outbound', 'Ready'))?.message;
    throw new Error(`${String(error)}; Ready: ${conditions ?? 'none'}`);
  });
  const config = await renderedConfig();
  assert.ok(config);
  const served = await issuerKeys(sharedControlPlane());
  const { tokenAuth } = config;
  assert.ok(tokenAuth, 'tokenAuth rendered');
  assert.equal(tokenAuth.issuer, served.issuer);
  assert.deepEqual(tokenAuth.keys, served.keys);
  assert.deepEqual(tokenAuth.audiences, ['mailfleet.dev/smtp']);
  assert.equal(tokenAuth.maxTokenLifetimeSeconds, 3600);
  assert.equal(config.auth, undefined, 'no users file: tokens only');
  assert.deepEqual(
    config.policy.senderDomains.map((entry) => [entry.domain, entry.serviceAccounts]),
    [
      ['a.example', [{ namespace: namespace.name }]],
      [
        'b.example',
        [
          { namespace: 'team-b', name: 'billing' },
          { namespace: namespace.name, name: 'web' },
        ],
      ],
    ],
  );
});

test("admission refuses the API server's audience, naming the field", async () => {
  await assert.rejects(
    applyAsUser(smtpRelayResource, namespace.name, relay('https://kubernetes.default.svc')),
    (error: Error) => {
      assert.match(error.message, /spec\.serviceAccountTokens\.audience/);
      assert.match(error.message, /the API server’s audience would make every API token an SMTP credential/);
      return true;
    },
  );
});

test('admission refuses a grant of a whole other namespace: a name is required', async () => {
  await assert.rejects(
    applyAsUser(
      senderDomainResource,
      namespace.name,
      senderDomain('wide', 'c.example', [{ namespace: 'team-b' }]),
    ),
    (error: Error) => {
      assert.match(error.message, /spec\.serviceAccounts\[0\]\.name: Required value/);
      return true;
    },
  );
});
