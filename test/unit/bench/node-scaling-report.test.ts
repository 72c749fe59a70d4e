import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  renderNodeTable,
  summariseNodeRuns,
  type NodeRow,
  type NodeRun,
} from '../../../bench/node-scaling-report.ts';

const run = (overrides: Partial<NodeRun>): NodeRun => ({
  load: 'new-connection',
  replicas: 1,
  messages: 1000,
  sessions: 60,
  bytes: 2048,
  sendSeconds: 1,
  deliveredSeconds: 2,
  delivered: 1000,
  relayCpuSeconds: 1,
  relayThrottledSeconds: 0.5,
  loadPodCpuSeconds: 0.2,
  machineIdle: 0.1,
  ...overrides,
});

test('rows by load then replicas: medians of complete runs, the spread, and the ratio to one replica', () => {
  const rows = summariseNodeRuns([
    run({ load: 'reused', replicas: 1, deliveredSeconds: 1 }),
    run({ replicas: 2, deliveredSeconds: 1 }),
    run({ replicas: 1, deliveredSeconds: 2 }),
    run({ replicas: 1, deliveredSeconds: 4, relayCpuSeconds: 3 }),
    run({ replicas: 1, deliveredSeconds: 1 }),
    run({ replicas: 2, deliveredSeconds: 0.5, delivered: 999 }),
  ]);
  assert.deepEqual(
    rows.map((row) => [row.load, row.replicas]),
    [
      ['new-connection', 1],
      ['new-connection', 2],
      ['reused', 1],
    ],
  );
  const [one, two, reused] = rows as [NodeRow, NodeRow, NodeRow];
  assert.deepEqual(one.deliveredPerSecond, { median: 500, min: 250, max: 1000 });
  assert.equal(one.relayCpuMsPerMessage, 1);
  assert.equal(one.versusOneReplica, 1);
  assert.equal(two.complete, 1, 'a run the sink did not see complete gives no rate');
  assert.equal(two.runs, 2);
  assert.equal(two.deliveredPerSecond.median, 1000);
  assert.equal(two.versusOneReplica, 2);
  assert.equal(reused.versusOneReplica, 1);
});

test('a load without a one-replica row, or without complete runs, shows dashes, not numbers', () => {
  const rows = summariseNodeRuns([run({ replicas: 3, delivered: 10 })]);
  assert.equal(rows[0]?.versusOneReplica, undefined);
  const table = renderNodeTable(rows);
  assert.match(
    table,
    /\| a new connection per message \| 3 \| — \(—–—\) \| — \| — \| — \| —% \| — \| —% \| 0 of 1 \|/,
  );
});

test('the table has one line per row under its header', () => {
  const table = renderNodeTable(summariseNodeRuns([run({}), run({ replicas: 2, deliveredSeconds: 1 })]));
  const lines = table.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(
    lines[2] ?? '',
    /^\| a new connection per message \| 1 \| 500 \(500–500\) \| 1\.00× \| 1000 \| 1\.00 \| 25% \| 0\.20 \| 10% \| 1 of 1 \|$/,
  );
  assert.match(lines[3] ?? '', /\| 2 \| 1000 \(1000–1000\) \| 2\.00× \|/);
});
