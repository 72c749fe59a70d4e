// The shipped rule file: valid for promtool, every alert tested firing and not firing by
// rules.test.yaml (promtool test rules), labelled page or ticket, annotated, and with a runbook
// section in docs/alerts.md.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { alertsDocPath, readRuleFile, ruleFilePath, ruleTestPath } from './assets.ts';

const run = promisify(execFile);
const alerts = (await readRuleFile()).groups.flatMap((group) => group.rules);

interface RuleTestFile {
  readonly tests: readonly {
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts: readonly unknown[];
    }[];
  }[];
}

test('promtool check rules accepts the rule file', async () => {
  const { stdout } = await run('promtool', ['check', 'rules', ruleFilePath]);
  assert.match(stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

test('promtool test rules passes rules.test.yaml', async () => {
  const { stdout } = await run('promtool', ['test', 'rules', ruleTestPath]);
  assert.match(stdout, /SUCCESS/);
});

test('rules.test.yaml sees every alert firing and not firing', async () => {
  const cases = (parse(await readFile(ruleTestPath, 'utf8')) as RuleTestFile).tests.flatMap(
    (group) => group.alert_rule_test ?? [],
  );
  for (const { alert } of alerts) {
    const own = cases.filter((candidate) => candidate.alertname === alert);
    assert.ok(
      own.some((candidate) => candidate.exp_alerts.length > 0),
      `${alert} is never expected to fire`,
    );
    assert.ok(
      own.some((candidate) => candidate.exp_alerts.length === 0),
      `${alert} is never expected to stay quiet`,
    );
  }
  assert.deepEqual(
    new Set(cases.map((candidate) => candidate.alertname)),
    new Set(alerts.map(({ alert }) => alert)),
  );
});

/** GitHub's anchor of a Markdown heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replaceAll(' ', '-');
}

const anchors = new Set(
  (await readFile(alertsDocPath, 'utf8'))
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .map((line) => anchorOf(line.replace(/^#+/, ''))),
);

for (const rule of alerts) {
  test(`${rule.alert}: severity, summary, description and a runbook in docs/alerts.md`, () => {
    assert.match(rule.alert, /^Mailfleet[A-Z][A-Za-z]+$/);
    assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.['severity'] ?? ''), 'severity');
    assert.ok((rule.annotations?.['summary'] ?? '').length > 10, 'summary');
    assert.ok((rule.annotations?.['description'] ?? '').length > 40, 'description');
    const runbook = rule.annotations?.['runbook_url'] ?? '';
    const anchor = /\/docs\/alerts\.md#(.+)$/.exec(runbook)?.[1];
    assert.equal(anchor, rule.alert.toLowerCase(), runbook);
    assert.ok(anchors.has(anchor), `docs/alerts.md has no section #${anchor}`);
  });
}
