import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderNetworkPolicy } from '../../../operator/render/relay-network-policy.ts';
import { servedRelay } from './fixtures.ts';

const listeners = [
  { name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' },
  { name: 'custom', port: 2600, tls: 'None', auth: 'Disabled' },
];

test('no NetworkPolicy unless asked for', () => {
  assert.equal(renderNetworkPolicy(servedRelay('off', { listeners })), undefined);
});

test('smtpFrom: those networks and the relay’s own pods (drain handoffs) reach the listener ports only', () => {
  const policy = renderNetworkPolicy(
    servedRelay('np', { listeners, networkPolicy: { enabled: true, smtpFrom: ['10.244.0.0/16'] } }),
  ) as { spec: { ingress: unknown[]; policyTypes: string[] } } | undefined;
  assert.ok(policy);
  assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
  const selector = {
    matchLabels: { 'app.kubernetes.io/name': 'mailfleet-relay', 'app.kubernetes.io/instance': 'np' },
  };
  assert.deepEqual(policy.spec.ingress, [
    {
      ports: [
        { protocol: 'TCP', port: 2525 },
        { protocol: 'TCP', port: 2600 },
      ],
      from: [{ ipBlock: { cidr: '10.244.0.0/16' } }, { podSelector: selector }],
    },
    { ports: [{ protocol: 'TCP', port: 9090 }] },
  ]);
});

test('metricsFromNamespaces: those namespaces, and the operator’s own, which reads /queuez during a deletion', () => {
  const relay = servedRelay('np', {
    listeners,
    networkPolicy: { enabled: true, metricsFromNamespaces: ['monitoring'] },
  });
  const metricsRule = (operatorNamespace?: string) =>
    (renderNetworkPolicy(relay, operatorNamespace) as { spec: { ingress: { from?: unknown[] }[] } }).spec
      .ingress[1];
  const namespace = (name: string) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
  });
  assert.deepEqual(metricsRule('mailfleet-system')?.from, [
    namespace('monitoring'),
    namespace('mailfleet-system'),
  ]);
  assert.deepEqual(metricsRule('monitoring')?.from, [namespace('monitoring')], 'listed once');
  assert.deepEqual(metricsRule(undefined)?.from, [namespace('monitoring')]);
});
