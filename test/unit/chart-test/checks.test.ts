// The checks of `helm test` (operator/chart-test/checks.ts), table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crdProblem, metricsProblem } from '../../../operator/chart-test/checks.ts';

const crdCases = [
  {
    name: 'established',
    crd: { status: { conditions: [{ type: 'Established', status: 'True' }] } },
    ok: true,
  },
  {
    name: 'not yet',
    crd: { status: { conditions: [{ type: 'Established', status: 'False', message: 'x' }] } },
    ok: false,
  },
  { name: 'no conditions', crd: { status: {} }, ok: false },
  { name: 'absent', crd: undefined, ok: false },
] as const;

for (const { name, crd, ok } of crdCases) {
  test(`crdProblem: ${name}`, () => {
    const problem = crdProblem('smtprelays.mailfleet.dev', crd);
    assert.equal(problem === undefined, ok, problem);
    if (!ok) assert.match(problem ?? '', /smtprelays\.mailfleet\.dev/);
  });
}

const metricsCases = [
  { secure: false, status: 200, body: 'mailfleet_operator_leader 1\n', ok: true },
  { secure: false, status: 200, body: 'other_metric 1\n', ok: false },
  { secure: false, status: 503, body: '', ok: false },
  { secure: true, status: 401, body: 'unauthorized', ok: true },
  { secure: true, status: 200, body: 'mailfleet_operator_leader 1\n', ok: false },
] as const;

for (const { secure, status, body, ok } of metricsCases) {
  test(`metricsProblem: secure ${String(secure)}, ${String(status)}`, () => {
    assert.equal(metricsProblem(secure, status, body) === undefined, ok);
  });
}
