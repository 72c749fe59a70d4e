// The Grafana dashboards and the PrometheusRule come from files shipped in the chart
// (dashboards/*.json, rules/*.yaml). Each case renders a private copy of the chart with or without
// such files, so the tests do not depend on which ones the chart ships today.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chartDir, helmFailure, only, render, templateArgs } from './helm.ts';

const workDir = await mkdtemp(join(tmpdir(), 'mailfleet-chart-'));
after(() => rm(workDir, { recursive: true, force: true }));

/** A copy of the chart whose dashboards/ and rules/ hold exactly the given files. */
async function chartWith(name: string, files: Readonly<Record<string, string>>): Promise<string> {
  const copy = join(workDir, name);
  await cp(chartDir, copy, { recursive: true });
  for (const dir of ['dashboards', 'rules']) {
    await rm(join(copy, dir), { recursive: true, force: true });
    await mkdir(join(copy, dir));
  }
  for (const [path, content] of Object.entries(files)) await writeFile(join(copy, path), content);
  return copy;
}

const dashboard = JSON.stringify({ title: 'mailfleet relay', panels: [{ type: 'timeseries' }] }, null, 2);
const ruleFile = [
  'groups:',
  '  - name: mailfleet-relay',
  '    rules:',
  '      - alert: MailfleetRelayDown',
  '        expr: up{job="mailfleet-relay"} == 0',
  '        for: 5m',
  '',
].join('\n');

test('each shipped dashboard becomes a ConfigMap the Grafana sidecar picks up', async () => {
  const chart = await chartWith('dashboards', { 'dashboards/relay.json': dashboard });
  const manifests = await render({
    chart,
    set: ['grafanaDashboards.enabled=true', 'grafanaDashboards.namespace=monitoring'],
  });
  const configMap = only(manifests, 'ConfigMap');
  assert.equal(configMap.metadata.name, 'mailfleet-dashboard-relay');
  assert.equal(configMap.metadata.namespace, 'monitoring');
  assert.equal(configMap.metadata.labels?.['grafana_dashboard'], '1');
  assert.deepEqual(configMap['data'], { 'relay.json': dashboard });
});

test('each shipped rule file becomes groups of the PrometheusRule', async () => {
  const chart = await chartWith('rules', { 'rules/relay.yaml': ruleFile });
  const manifests = await render({
    chart,
    set: ['prometheusRule.enabled=true', 'prometheusRule.labels.release=p'],
  });
  const rule = only(manifests, 'PrometheusRule');
  assert.equal(rule.metadata.labels?.['release'], 'p');
  assert.deepEqual(rule['spec'], {
    groups: [
      {
        name: 'mailfleet-relay',
        rules: [{ alert: 'MailfleetRelayDown', expr: 'up{job="mailfleet-relay"} == 0', for: '5m' }],
      },
    ],
  });
});

const failures = [
  {
    name: 'no dashboard shipped',
    files: {},
    set: 'grafanaDashboards.enabled=true',
    message: /ships no dashboards/,
  },
  { name: 'no rule file shipped', files: {}, set: 'prometheusRule.enabled=true', message: /ships no rules/ },
  {
    name: 'a rule file without groups',
    files: { 'rules/bad.yaml': 'alerts: []\n' },
    set: 'prometheusRule.enabled=true',
    message: /rules\/bad.yaml is not a Prometheus rule file/,
  },
] as const;

for (const { name, files, set, message } of failures) {
  test(`enabling fails clearly with ${name}`, async () => {
    const chart = await chartWith(name.replaceAll(' ', '-'), files);
    assert.match(await helmFailure(templateArgs({ chart, set: [set] })), message);
  });
}

test('dashboards and rules are off by default', async () => {
  const chart = await chartWith('defaults', {
    'dashboards/relay.json': dashboard,
    'rules/relay.yaml': ruleFile,
  });
  const kinds = (await render({ chart })).map((manifest) => manifest.kind);
  assert.ok(!kinds.includes('ConfigMap') && !kinds.includes('PrometheusRule'), kinds.join());
});
