// Real node: `kubectl mailfleet` run through the real kubectl (which finds kubectl-mailfleet on PATH)
// against the shared fleet: `status` with every relay pod's queue, the queue commands going through
// `kubectl exec` into the relay pods (a message held while the next hop is away, listed with its pod,
// retried there, delivered once the hop is back), and `dns records` as zone-file lines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { fleet, sendSequenced } from '../node/fleet.ts';
import { repoRoot, waitAllDelivered } from '../node/mail-fleet.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const run = promisify(execFile);
const cluster = sharedCluster();
const { namespace, relay } = fleet;

/** `kubectl mailfleet …` as a user types it: kubectl finds the plugin on PATH. */
async function plugin(args: readonly string[]): Promise<{ code: number; out: string }> {
  const path = [
    join(repoRoot, 'kubectl-plugin/bin'),
    dirname(process.execPath),
    process.env['PATH'] ?? '',
  ].join(':');
  try {
    const { stdout } = await run(
      cluster.kubectlPath,
      ['mailfleet', `--kubeconfig=${cluster.kubeconfigPath}`, ...args],
      {
        env: { ...process.env, PATH: path },
        maxBuffer: 16 << 20,
      },
    );
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function sinkSelects(app: string): Promise<void> {
  await kubectl(cluster, [
    ...['-n', namespace, 'patch', 'service', 'sink', '--type=merge'],
    ...['-p', JSON.stringify({ spec: { selector: { app } } })],
  ]);
  // kube-proxy applies the change within its sync period (1 s minimum).
  await sleep(3_000);
}

test('real node: kubectl mailfleet status shows the relay, each pod with its queue, and the sender domain', async () => {
  const status = await plugin(['status', '-n', namespace]);
  assert.equal(status.code, 0, status.out);
  assert.match(status.out, new RegExp(`^${relay}\\s+True\\s+${fleet.replicas}/${fleet.replicas}\\s`, 'm'));
  for (let n = 0; n < fleet.replicas; n++)
    assert.match(
      status.out,
      new RegExp(`^${relay}\\s+${relay}-${n}\\s+\\d+\\s+\\d+\\s`, 'm'),
      `pod ${relay}-${n}`,
    );
  assert.match(status.out, new RegExp(`^${fleet.senderDomain}\\s+demo\\.example\\s`, 'm'));
});

test('real node: kubectl mailfleet queue list and retry go through kubectl exec into the pod that holds the message', async (t) => {
  await sinkSelects('nowhere');
  t.after(() => sinkSelects('sink'));
  const runId = `plugin-${Date.now()}`;
  const sent = await sendSequenced(cluster, runId, 'plugin@dest.example');
  assert.ok(sent.ok, sent.output);
  let held: { pod: string; queueId: string } | undefined;
  await eventually('the message is listed with the pod that holds it', async () => {
    const listed = await plugin(['queue', 'list', relay, '-n', namespace, '-o', 'json']);
    if (listed.code !== 0) return false;
    const messages = (
      JSON.parse(listed.out) as {
        messages: { pod: string; queueId: string; recipients?: { address: string }[] }[];
      }
    ).messages;
    held = messages.find((m) => JSON.stringify(m).includes('plugin@dest.example'));
    return held !== undefined;
  });
  assert.ok(held);
  assert.match(held.pod, new RegExp(`^${relay}-\\d+$`));
  // Retried while the hop is still away (with it back, the relay's own retry may win the race).
  const retried = await plugin(['queue', 'retry', relay, held.queueId, '-n', namespace]);
  assert.equal(retried.code, 0, retried.out);
  assert.equal(retried.out.trim(), `${held.queueId} retried on pod ${held.pod}`);
  await sinkSelects('sink');
  const count = await waitAllDelivered(cluster, namespace, runId, [1], 60_000);
  assert.equal(count.duplicates, 0);
  const missing = await plugin(['queue', 'retry', relay, held.queueId, '-n', namespace]);
  assert.equal(missing.code, 1, 'a delivered message is in no pod any more');
  assert.match(missing.out, /is in no pod of SmtpRelay/);
});

test('real node: kubectl mailfleet dns records prints the DKIM records of the SenderDomain as zone-file lines', async () => {
  const records = await plugin(['dns', 'records', fleet.senderDomain, '-n', namespace]);
  assert.equal(records.code, 0, records.out);
  for (const selector of ['e2e-rsa', 'e2e-ed25519'])
    assert.match(
      records.out,
      new RegExp(`^${selector}\\._domainkey\\.demo\\.example\\.\\tIN\\tTXT\\t"v=DKIM1;`, 'm'),
    );
});
