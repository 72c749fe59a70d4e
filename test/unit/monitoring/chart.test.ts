// What the chart renders from the files it really ships: the dashboard ConfigMap carries the
// dashboard byte for byte, and the PrometheusRule carries exactly the rule file's groups, with the
// alert templates ({{ $labels... }}) left for Prometheus rather than expanded by Helm.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { only, render } from '../chart/helm.ts';
import { chartDashboardPath, readRuleFile } from './assets.ts';

const manifests = await render({ set: ['grafanaDashboards.enabled=true', 'prometheusRule.enabled=true'] });

test('the shipped dashboard becomes one ConfigMap for the Grafana sidecar', async () => {
  const configMap = only(manifests, 'ConfigMap', 'mailfleet-dashboard-mailfleet-relay');
  assert.equal(configMap.metadata.labels?.['grafana_dashboard'], '1');
  // The template's `|-` block drops the file's final newline, nothing else.
  const file = await readFile(chartDashboardPath, 'utf8');
  assert.deepEqual(configMap['data'], { 'mailfleet-relay.json': file.replace(/\n$/, '') });
});

test('the shipped rule file becomes the PrometheusRule, alert templates intact', async () => {
  const rule = only(manifests, 'PrometheusRule');
  assert.deepEqual(rule['spec'], { groups: (await readRuleFile()).groups });
  assert.match(JSON.stringify(rule['spec']), /\{\{ \$labels\.instance \}\}/);
});
