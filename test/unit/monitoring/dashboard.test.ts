// The Grafana dashboard: the chart's copy and the docs' copy are the same file; it has what Grafana
// needs to import it (uid, title, schemaVersion, panels with ids and non-overlapping gridPos,
// targets with expr and legendFormat on the templated datasource) and the variables its queries use.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { chartDashboardPath, docsDashboardPath, readDashboard } from './assets.ts';

const dashboard = await readDashboard();

test('docs/dashboards holds exactly the dashboard the chart ships', async () => {
  assert.equal(await readFile(docsDashboardPath, 'utf8'), await readFile(chartDashboardPath, 'utf8'));
});

test('the dashboard identifies itself for import', () => {
  assert.equal(dashboard.uid, 'mailfleet-relay');
  assert.ok(dashboard.title.length > 0);
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, String(dashboard.schemaVersion));
});

test('panel ids are unique and no two panels overlap on the 24-column grid', () => {
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length);
  const cells = new Map<string, string>();
  for (const { title, gridPos } of dashboard.panels) {
    assert.ok(
      gridPos.x >= 0 && gridPos.w > 0 && gridPos.x + gridPos.w <= 24,
      `${title}: ${JSON.stringify(gridPos)}`,
    );
    for (let y = gridPos.y; y < gridPos.y + gridPos.h; y += 1) {
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x += 1) {
        const taken = cells.get(`${x},${y}`);
        assert.equal(taken, undefined, `${title} overlaps ${taken ?? ''} at ${x},${y}`);
        cells.set(`${x},${y}`, title);
      }
    }
  }
});

test('every data panel queries the templated datasource with an expr and a legend', () => {
  const dataPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
  assert.ok(dataPanels.length >= 30, `${dataPanels.length} panels`);
  for (const panel of dataPanels) {
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no target`);
    for (const target of panel.targets ?? []) {
      assert.ok((target.expr ?? '').length > 0, `${panel.title}: empty expr`);
      assert.equal(typeof target.legendFormat, 'string', `${panel.title}: no legendFormat`);
    }
  }
});

test('the variables are datasource, namespace, relay, pod and operator namespace, and queries use only those', () => {
  const names = dashboard.templating.list.map((variable) => variable.name);
  assert.deepEqual(names, ['datasource', 'namespace', 'relay', 'pod', 'operator_namespace']);
  const used = new Set(
    dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) =>
        [...(target.expr ?? '').matchAll(/\$(\w+)/g)].map((match) => match[1]),
      ),
    ),
  );
  used.delete('__rate_interval');
  assert.deepEqual([...used].sort(), ['namespace', 'operator_namespace', 'pod', 'relay']);
});

test('the panels docs/dashboard.md describes are all there', () => {
  const titles = new Set(dashboard.panels.map((panel) => panel.title));
  for (const title of [
    'Recipients delivered / deferred / bounced',
    'Messages received',
    'Messages by sender domain',
    'Queued messages by pod',
    'Oldest queued message by pod',
    'Delivery attempt duration',
    'End-to-end delay',
    'Rejections by reason',
    'AUTH failures',
    'Inbound TLS sessions',
    'Outbound TLS',
    'Rate-limit hits',
    'DKIM signatures',
    'Connections',
    'Open sessions',
    'CPU',
    'Resident memory',
    'Reconciles',
    'Reconcile errors',
    'Work queue depth',
    'Leader',
  ]) {
    assert.ok(titles.has(title), title);
  }
});

test('percentiles come from histogram buckets aggregated by le', () => {
  const quantiles = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? [])
      .map((target) => target.expr ?? '')
      .filter((expr) => expr.includes('histogram_quantile')),
  );
  assert.ok(quantiles.length >= 9, `${quantiles.length} percentile queries`);
  for (const expr of quantiles)
    assert.match(expr, /^histogram_quantile\(0\.\d+, sum by \(le[,)].*_bucket\{/, expr);
});
