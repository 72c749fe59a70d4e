// The observability assets the chart ships (dashboard, rule file), read and typed for the tests,
// and the catalogue of the series the relay and the operator really export: every metric of their
// registries as main.ts builds them, with histogram and summary series expanded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createOperatorMetrics } from '../../../operator/metrics.ts';
import { relayMetricCatalogue } from '../../../relay/metric-catalogue.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const ruleFilePath = join(repoRoot, 'charts', 'mailfleet', 'rules', 'mailfleet.yaml');
export const ruleTestPath = join(import.meta.dirname, 'rules.test.yaml');
export const chartDashboardPath = join(repoRoot, 'charts', 'mailfleet', 'dashboards', 'mailfleet-relay.json');
export const docsDashboardPath = join(repoRoot, 'docs', 'dashboards', 'mailfleet-relay.json');
export const alertsDocPath = join(repoRoot, 'docs', 'alerts.md');

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertingRule[] }[];
}

export async function readRuleFile(): Promise<RuleFile> {
  return parse(await readFile(ruleFilePath, 'utf8')) as RuleFile;
}

export interface DashboardTarget {
  readonly expr?: string;
  readonly legendFormat?: string;
  readonly refId?: string;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly DashboardTarget[];
}

export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { readonly query: string };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: readonly DashboardVariable[] };
}

export async function readDashboard(path = chartDashboardPath): Promise<Dashboard> {
  return JSON.parse(await readFile(path, 'utf8')) as Dashboard;
}

/** Grafana's variables replaced by values Prometheus accepts, so a dashboard query is plain PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replace(/\$(\w+)/g, '.*');
}

/** Every PromQL expression of the dashboard: panel targets and `label_values(selector, label)` variables. */
export function dashboardExpressions(
  dashboard: Dashboard,
): { readonly where: string; readonly expr: string }[] {
  const panels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr ?? '' })),
  );
  const variables = dashboard.templating.list.flatMap((variable) => {
    if (variable.type !== 'query') return [];
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
    if (match === null)
      throw new Error(`variable ${variable.name}: not label_values(selector, label): ${query}`);
    // `label_values(selector, label)` needs `label` on the selected series: written as a grouping.
    return [
      { where: `variable $${variable.name}`, expr: `count by (${match[2] ?? ''}) (${match[1] ?? ''})` },
    ];
  });
  return [...panels, ...variables];
}

/** Labels every scraped series carries besides its own: Prometheus's and the Kubernetes service discovery's. */
export const targetLabels = [
  'job',
  'instance',
  'namespace',
  'pod',
  'service',
  'container',
  'endpoint',
] as const;

/** Series Prometheus itself makes for each target. */
const scrapeSeries = ['up'] as const;

function hasLabelNames(metric: object): metric is { labelNames: readonly string[] } {
  return 'labelNames' in metric && Array.isArray(metric.labelNames);
}

/** Series name → its own label names, from a registry; histograms and summaries expanded. */
function seriesOf(registry: Registry): Map<string, readonly string[]> {
  const series = new Map<string, readonly string[]>();
  for (const metric of registry.getMetricsAsArray()) {
    const labels = hasLabelNames(metric) ? metric.labelNames : [];
    const type = String(metric.type);
    if (type === 'histogram') {
      series.set(`${metric.name}_bucket`, [...labels, 'le']);
      series.set(`${metric.name}_sum`, labels);
      series.set(`${metric.name}_count`, labels);
    } else if (type === 'summary') {
      series.set(metric.name, [...labels, 'quantile']);
      series.set(`${metric.name}_sum`, labels);
      series.set(`${metric.name}_count`, labels);
    } else {
      series.set(metric.name, labels);
    }
  }
  return series;
}

/** Every series name the relays and the operator export, and `up`, with all the labels each may carry. */
export function exportedSeries(): Map<string, ReadonlySet<string>> {
  const catalogue = new Map<string, ReadonlySet<string>>();
  const registries = [relayMetricCatalogue(), createOperatorMetrics(() => []).registry];
  for (const registry of registries) {
    for (const [name, labels] of seriesOf(registry))
      catalogue.set(name, new Set([...labels, ...targetLabels]));
  }
  for (const name of scrapeSeries) catalogue.set(name, new Set(targetLabels));
  return catalogue;
}
