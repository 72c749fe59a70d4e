// `make demo` end to end, as a user runs it: its own control plane, the operator process, the
// relays run by the local kubelet, a message through STARTTLS + AUTH, DKIM verified by dkimpy, a
// live change of the users Secret; then Ctrl-C stops everything it started.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const demo = new URL('../../../hack/demo.ts', import.meta.url).pathname;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('make demo (stand-in kubelet, relay pods as local processes): a signed message end to end, conditions and metrics shown, Ctrl-C stops it all', async (t) => {
  const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const deadline = Date.now() + 240_000;
  while (!output.includes('Ctrl-C stops everything') && child.exitCode === null && Date.now() < deadline) {
    await sleep(200);
  }
  try {
    assert.ok(
      output.includes('Ctrl-C stops everything'),
      `the demo did not finish its walk-through:\n${output}`,
    );
    for (const expected of [
      /<~ {2}235 2\.7\.0 Authentication successful/,
      /<~ {2}250 2\.6\.0 Ok: queued as /,
      /signature \d: d=demo\.example s=demo-rsa → pass/,
      /signature \d: d=demo\.example s=demo-ed25519 → pass/,
      /smtprelay\.mailfleet\.dev\/demo +2 +2 .* True /,
      /SmtpRelay\/demo Ready=True/,
      /SenderDomain\/demo-example DnsVerified=True/,
      /SenderDomain\/demo-example Ready=True/,
      /both relay processes logged "configuration reloaded"/,
      /user "reports" on pod demo-1: <~ {2}235 /,
      /553 5\.7\.1/,
      /mailfleet_relay_dkim_signatures_total\{algorithm="ed25519-sha256",result="signed"\} 1/,
    ]) {
      assert.match(output, expected);
    }
    const seconds = /Done in (\d+) s/.exec(output)?.[1];
    t.diagnostic(`demo walk-through took ${seconds ?? '?'} s`);
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
  }
  const [code] = await exited;
  assert.equal(code, 0, output.slice(-2000));
  const pids = [...output.matchAll(/started — pid (\d+)/g)].map((match) => Number(match[1]));
  assert.equal(pids.length >= 2, true, 'the relay pods were started');
  assert.deepEqual(
    pids.filter((pid) => alive(pid)),
    [],
    'no relay process outlives the demo',
  );
});
