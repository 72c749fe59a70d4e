// A real Prometheus (Debian's) scraping a real relay process every second, with the chart's rule
// file loaded: the message we send shows up in a query, every rule loads healthy, every dashboard
// query is valid PromQL for that Prometheus, and the scrape-time gauges the alerts rely on are
// exported by the running relay (not just declared). Bounded: about 10 s on a quiet machine.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRelayProcess, type ConfigDocument } from '../../support/relay-process.ts';
import { freeTcpPort } from '../../support/smtp-sink.ts';
import {
  dashboardExpressions,
  readDashboard,
  readRuleFile,
  ruleFilePath,
  withoutGrafanaVariables,
} from '../../unit/monitoring/assets.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';

const relayConfig: ConfigDocument = {
  hostname: 'relay.test',
  listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
  policy: { allowedNetworks: ['127.0.0.0/8'], senderDomains: [{ domain: 'example.org' }] },
  limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 1 },
};

interface ApiResponse<T> {
  readonly status: 'success' | 'error';
  readonly error?: string;
  readonly data: T;
}

interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

interface RuleGroups {
  readonly groups: readonly {
    readonly name: string;
    readonly rules: readonly {
      readonly name: string;
      readonly health: string;
      readonly lastError?: string;
    }[];
  }[];
}

async function sendOneMessage(port: number): Promise<void> {
  const client = await SmtpTestClient.connect(port);
  try {
    assert.equal((await client.reply()).code, 220);
    for (const [line, code] of [
      ['EHLO client.test', 250],
      ['MAIL FROM:<app@example.org>', 250],
      ['RCPT TO:<someone@example.com>', 250],
      ['DATA', 354],
    ] as const) {
      assert.equal((await client.command(line)).code, code, line);
    }
    client.write('Subject: scraped\r\n\r\nOne message for Prometheus to count.\r\n.\r\n');
    assert.equal((await client.reply()).code, 250);
    await client.command('QUIT');
  } finally {
    client.close();
  }
}

function startPrometheus(dir: string, port: number): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
  }
  return { child, output: () => output };
}

async function stopPrometheus(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(killTimer);
}

test(
  'Prometheus scrapes the relay, counts the message and loads every rule healthy',
  { timeout: 30_000 },
  async () => {
    const relay = await startRelayProcess(relayConfig);
    const dir = await mkdtemp(join(tmpdir(), 'mailfleet-prometheus-'));
    let prometheus: ChildProcess | undefined;
    try {
      await sendOneMessage(relay.smtpPorts['smtp'] ?? 0);
      const port = await freeTcpPort();
      await writeFile(
        join(dir, 'prometheus.yml'),
        JSON.stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: [ruleFilePath],
          scrape_configs: [
            {
              job_name: 'relay-peers',
              static_configs: [
                { targets: [`127.0.0.1:${relay.httpPort}`], labels: { namespace: 'mail', pod: 'relay-0' } },
              ],
            },
          ],
        }),
      );
      const started = startPrometheus(dir, port);
      prometheus = started.child;
      const api = async <T>(path: string): Promise<ApiResponse<T>> => {
        for (;;) {
          if (started.child.exitCode !== null) throw new Error(`prometheus exited: ${started.output()}`);
          const response = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
          if (response !== undefined && response.status !== 503)
            return (await response.json()) as ApiResponse<T>;
          await sleep(200);
        }
      };
      const query = (expr: string) =>
        api<{ result: VectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

      let received: VectorSample[] = [];
      while (received.length === 0) {
        received = (await query('mailfleet_relay_messages_received_total')).data.result;
        if (received.length === 0) await sleep(250);
      }
      assert.deepEqual(
        received.map(({ metric, value }) => ({ ...metric, value: value[1] })),
        [
          {
            __name__: 'mailfleet_relay_messages_received_total',
            instance: `127.0.0.1:${relay.httpPort}`,
            job: 'relay-peers',
            listener: 'smtp',
            namespace: 'mail',
            pod: 'relay-0',
            value: '1',
          },
        ],
      );

      const bySenderDomain = (await query('mailfleet_relay_sender_domain_messages_total')).data.result;
      assert.deepEqual(
        bySenderDomain.map(({ metric, value }) => [metric['sender_domain'], value[1]]),
        [['example.org', '1']],
      );

      // The gauges the alerts read are collected at scrape time by the running relay.
      for (const [expr, expected] of [
        ['mailfleet_relay_ready', '1'],
        ['mailfleet_relay_queue_messages >= 0', undefined],
        ['mailfleet_relay_queue_oldest_message_age_seconds >= 0', undefined],
        ['mailfleet_relay_queue_filesystem_free_bytes > 0', undefined],
        ['mailfleet_relay_queue_min_free_bytes', '0'],
        ['mailfleet_relay_process_resident_memory_bytes > 0', undefined],
      ] as const) {
        const result = (await query(expr)).data.result;
        assert.equal(result.length, 1, expr);
        if (expected !== undefined) assert.equal(result[0]?.value[1], expected, expr);
      }

      const ruleGroups = (await api<RuleGroups>('/api/v1/rules')).data.groups;
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      const expected = (await readRuleFile()).groups.map((group) => ({
        name: group.name,
        rules: group.rules.map((rule) => rule.alert),
      }));
      assert.deepEqual(
        ruleGroups
          .map((group) => ({ name: group.name, rules: group.rules.map((rule) => rule.name) }))
          .sort(byName),
        expected.sort(byName),
      );
      // Health is "unknown" until a rule's first evaluation (every second here).
      for (;;) {
        const rules = (await api<RuleGroups>('/api/v1/rules')).data.groups.flatMap((group) => group.rules);
        const failing = rules.filter((rule) => rule.health === 'err');
        assert.deepEqual(failing, []);
        if (rules.every((rule) => rule.health === 'ok')) break;
        await sleep(250);
      }

      for (const { where, expr } of dashboardExpressions(await readDashboard())) {
        const answer = await query(withoutGrafanaVariables(expr));
        assert.equal(answer.status, 'success', `${where}: ${expr}: ${answer.error ?? ''}`);
      }
    } finally {
      if (prometheus !== undefined) await stopPrometheus(prometheus);
      await relay.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    }
  },
);
