// `helm lint --strict` for the default values and the full-values file, and the values schema:
// unknown keys and wrong types fail the install with a message naming the value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartDir, fullValuesPath, helm, helmFailure, templateArgs } from './helm.ts';

for (const [name, valuesFiles] of [
  ['default values', []],
  ['full values', [fullValuesPath]],
] as const) {
  test(`helm lint --strict passes with ${name}`, async () => {
    const output = await helm([
      'lint',
      '--strict',
      chartDir,
      ...valuesFiles.flatMap((file) => ['--values', file]),
    ]);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
}

const rejected: readonly { set: string; message: RegExp }[] = [
  { set: 'operator.bogus=1', message: /\/operator.*additional properties 'bogus' not allowed/ },
  { set: 'typo=1', message: /additional properties 'typo' not allowed/ },
  { set: 'operator.replicas=-1', message: /\/operator\/replicas/ },
  { set: 'operator.logLevel=verbose', message: /\/operator\/logLevel/ },
  { set: 'operator.image.digest=latest', message: /\/operator\/image\/digest/ },
  { set: 'operator.watchNamespaces={Not_A_Namespace}', message: /\/operator\/watchNamespaces\/0/ },
  { set: 'operator.httpPort=70000', message: /\/operator\/httpPort/ },
  { set: 'metrics.serviceMonitor.interval=often', message: /\/metrics\/serviceMonitor\/interval/ },
  { set: 'rbac.create=maybe', message: /\/rbac\/create/ },
];

for (const { set, message } of rejected) {
  test(`the values schema rejects ${set}`, async () => {
    assert.match(await helmFailure(templateArgs({ set: [set] })), message);
  });
}

test('without a ServiceAccount to create, one must be named', async () => {
  assert.match(
    await helmFailure(templateArgs({ set: ['serviceAccount.create=false'] })),
    /serviceAccount.name must name an existing ServiceAccount/,
  );
});

test('several replicas without leader election are refused', async () => {
  assert.match(
    await helmFailure(templateArgs({ set: ['operator.leaderElection.enabled=false'] })),
    /operator.replicas > 1 needs operator.leaderElection.enabled=true/,
  );
});
