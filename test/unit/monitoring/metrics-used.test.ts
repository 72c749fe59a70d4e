// The dashboard and the alert rules read only series the relay and the operator really export,
// with labels those series really carry: checked against the registries main.ts builds, not
// against a hand-written list. The scanner itself is table-tested first, so a silent scanner
// cannot make the checks pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { senderDomainDnsStates } from '../../../operator/metrics.ts';
import { processOutcomes } from '../../../operator/kube/workqueue.ts';
import { renderPrometheusRule } from '../../../operator/render/relay-monitoring.ts';
import { relayLabelValues } from '../../../relay/metric-catalogue.ts';
import { relayExamples } from '../operator-render/fixtures.ts';
import {
  dashboardExpressions,
  exportedSeries,
  readDashboard,
  readRuleFile,
  withoutGrafanaVariables,
  type RuleFile,
} from './assets.ts';
import { problemsIn, promqlNames, type DeclaredValues } from './promql.ts';

const series = exportedSeries();
const declared: DeclaredValues = new Map<string, ReadonlyMap<string, readonly string[]>>([
  ...Object.entries(relayLabelValues).map(
    ([metric, labels]) => [metric, new Map(Object.entries(labels))] as const,
  ),
  ['mailfleet_operator_reconcile_total', new Map([['result', processOutcomes]])],
  ['mailfleet_operator_sender_domains', new Map([['dns', senderDomainDnsStates]])],
]);

test('the catalogue holds histogram series, prefixed process metrics and the operator metrics', () => {
  for (const [name, label] of [
    ['mailfleet_relay_delivery_attempt_duration_seconds_bucket', 'le'],
    ['mailfleet_relay_delivery_delay_seconds_count', 'pod'],
    ['mailfleet_relay_process_cpu_seconds_total', 'instance'],
    ['mailfleet_relay_queue_messages', 'job'],
    ['mailfleet_relay_tls_certificate_expiry_timestamp_seconds', 'certificate'],
    ['mailfleet_operator_reconcile_duration_seconds_bucket', 'controller'],
    ['mailfleet_operator_sender_domains', 'dns'],
    ['up', 'job'],
  ] as const) {
    assert.ok(series.get(name)?.has(label), `${name} with label ${label}`);
  }
  assert.equal(series.has('mailfleet_relay_delivery_attempt_duration_seconds'), false);
});

const scannerCases = [
  {
    expr: 'sum by (namespace, job) (rate(a_total{result="deferred", mode=~"mx"}[5m])) / on (job) b',
    names: {
      selectors: [
        {
          metric: 'a_total',
          matchers: [
            { label: 'result', op: '=', value: 'deferred' },
            { label: 'mode', op: '=~', value: 'mx' },
          ],
        },
        { metric: 'b', matchers: [] },
      ],
      groupings: [['namespace', 'job'], ['job']],
    },
  },
  {
    expr: 'up == 0 and on () absent(c) or histogram_quantile(0.9, sum(rate(d_bucket[1h])) by (le)) - time() > 24 * 3600',
    names: {
      selectors: [
        { metric: 'up', matchers: [] },
        { metric: 'c', matchers: [] },
        { metric: 'd_bucket', matchers: [] },
      ],
      groupings: [[], ['le']],
    },
  },
] as const;

for (const { expr, names } of scannerCases) {
  test(`scanner: ${expr}`, () => {
    assert.deepEqual(promqlNames(expr), names);
  });
}

const checkerCases = [
  { expr: 'mailfleet_relay_queue_messages{pod="x"}', problems: [] },
  { expr: 'mailfleet_relay_messages_total', problems: ['mailfleet_relay_messages_total is not exported'] },
  {
    expr: 'sum by (reason) (rate(mailfleet_relay_messages_received_total{domain="x"}[5m]))',
    problems: [
      'mailfleet_relay_messages_received_total has no label domain',
      'grouping by reason: mailfleet_relay_messages_received_total has no such label',
    ],
  },
  {
    expr: 'mailfleet_operator_reconcile_total{result="failed"}',
    problems: [
      'mailfleet_operator_reconcile_total{result} is never "failed" (one of success, requeue, error)',
    ],
  },
  {
    expr: 'mailfleet_relay_delivery_attempt_duration_seconds',
    problems: ['mailfleet_relay_delivery_attempt_duration_seconds is not exported'],
  },
] as const;

for (const { expr, problems } of checkerCases) {
  test(`checker: ${expr}`, () => {
    assert.deepEqual(problemsIn(expr, series, declared), problems);
  });
}

for (const group of (await readRuleFile()).groups) {
  for (const rule of group.rules) {
    test(`rule ${rule.alert} reads only exported series and labels`, () => {
      assert.ok(promqlNames(rule.expr).selectors.length > 0, 'selects nothing');
      assert.deepEqual(problemsIn(rule.expr, series, declared), []);
    });
  }
}

// The PrometheusRule the operator renders per SmtpRelay (spec.monitoring.prometheusRule).
const production = relayExamples.find(({ file }) => file === 'smtprelay-production')?.relay;
const perRelay = (production && renderPrometheusRule(production)) as { spec: RuleFile } | undefined;
test('the production example renders a per-relay PrometheusRule', () => {
  assert.ok(perRelay);
});
for (const group of perRelay?.spec.groups ?? []) {
  for (const rule of group.rules) {
    test(`per-relay rule ${rule.alert} reads only exported series and labels, under a name of its own`, () => {
      assert.match(rule.alert, /^MailfleetSmtpRelay/);
      assert.ok(promqlNames(rule.expr).selectors.length > 0, 'selects nothing');
      assert.deepEqual(problemsIn(rule.expr, series, declared), []);
    });
  }
}

for (const { where, expr } of dashboardExpressions(await readDashboard())) {
  test(`dashboard ${where} reads only exported series and labels`, () => {
    const plain = withoutGrafanaVariables(expr);
    assert.ok(promqlNames(plain).selectors.length > 0, `selects nothing: ${expr}`);
    assert.deepEqual(problemsIn(plain, series, declared), [], expr);
  });
}
