// Real node: a relay exposed outside the cluster through a NodePort (spec.service), reached from a host
// outside the cluster (a network namespace of the test, routed to the node address). With the default
// externalTrafficPolicy Local the relay sees the outside client's own address: relay policy refuses it
// without AUTH although clientNetworks holds the pod range, and takes its mail with STARTTLS + AUTH.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { authArgs, fleet, patchRelaySpec } from '../node/fleet.ts';
import { nodeIp } from '../node/layout.ts';
import { password, waitAllDelivered } from '../node/mail-fleet.ts';
import { addOutsideHost } from '../node/outside-host.ts';
import { eventually, kubectl, sharedCluster } from '../node/shared.ts';

const cluster = sharedCluster();
const { namespace, relay } = fleet;
const outside = await addOutsideHost();
after(async () => {
  await outside.remove();
  await kubectl(cluster, [
    '-n',
    namespace,
    'patch',
    'smtprelay',
    relay,
    '--type=json',
    '-p',
    '[{"op":"remove","path":"/spec/service"}]',
  ]).catch(() => undefined);
});

test('real node: a NodePort relay reached from outside the cluster sees the client address: no relaying without AUTH, mail with STARTTLS + AUTH', async () => {
  await patchRelaySpec(cluster, {
    service: { type: 'NodePort', nodePorts: { smtp: 30025, submission: 30587 } },
  });
  await eventually('the relay Service is a NodePort with the fixed ports', async () => {
    const service = JSON.parse(
      await kubectl(cluster, ['-n', namespace, 'get', 'service', relay, '-o', 'json']),
    ) as {
      spec: { type: string; externalTrafficPolicy?: string; ports: { name: string; nodePort?: number }[] };
    };
    return (
      service.spec.type === 'NodePort' &&
      service.spec.externalTrafficPolicy === 'Local' &&
      service.spec.ports.some((p) => p.nodePort === 30025)
    );
  });
  const common = ['--timeout', '20', '--from', 'app@demo.example', '--h-Subject', 'from outside'];
  let unauthenticated = { ok: false, output: '' };
  await eventually(
    'the NodePort answers from outside',
    async () => {
      unauthenticated = await outside.exec('swaks', [
        '--server',
        `${nodeIp}:30025`,
        '--to',
        'someone@dest.example',
        ...common,
      ]);
      return /<\*\* +5\d\d/.test(unauthenticated.output);
    },
    60_000,
  );
  assert.ok(!unauthenticated.ok);
  assert.match(
    unauthenticated.output,
    /554 5\.7\.1/,
    'relaying denied: the outside address is not in clientNetworks',
  );

  const runId = `outside-${Date.now()}`;
  const authenticated = await outside.exec('swaks', [
    ...['--server', `${nodeIp}:30587`, '--tls', ...authArgs('app', password)],
    ...['--to', 'someone@dest.example', '--header', `X-E2e-Seq: ${runId}-1`, ...common],
  ]);
  assert.ok(authenticated.ok, authenticated.output);
  await waitAllDelivered(cluster, namespace, runId, [1], 60_000);
  const dumps = await kubectl(cluster, [
    '-n',
    namespace,
    'exec',
    'sink',
    '--',
    'grep',
    '-l',
    `X-E2e-Seq: ${runId}-1`,
    '-r',
    '/dump',
  ]);
  const message = await kubectl(cluster, [
    '-n',
    namespace,
    'exec',
    'sink',
    '--',
    'cat',
    dumps.trim().split('\n')[0] ?? '',
  ]);
  assert.match(
    message,
    new RegExp(`Received: from .*\\[${outside.address.replace(/\./g, '\\.')}\\]`),
    'the relay recorded the outside address',
  );
});
