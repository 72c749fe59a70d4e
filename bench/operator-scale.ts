// `make bench-operator`: how the operator copes with many objects. On a private control plane
// (etcd + kube-apiserver on loopback), the operator (both reconcilers, in this process, as
// operator/main.ts wires them) meets RELAYS SmtpRelays and DOMAINS SenderDomains created at once
// (each relay named by DOMAINS/RELAYS domains). Measured: the time until every SenderDomain has
// its DKIM keys and every SmtpRelay's status and rendered config list all its domains; the API
// requests the operator sent to get there, by verb (its own mailfleet_operator_api_requests_total);
// and the requests during a quiet minute afterwards (a converged operator should write nothing).
// Results go to docs/operator-scale.md. Knobs: MAILFLEET_SCALE_RELAYS (200), MAILFLEET_SCALE_DOMAINS
// (2000), MAILFLEET_SCALE_ALGORITHMS (RSA2048; "Ed25519" or "RSA2048,Ed25519"), MAILFLEET_SCALE_QUIET_S (60).
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { format as prettierFormat, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { senderDomainResource, smtpRelayResource } from '../operator/api/kinds.ts';
import { collectionPath, coreResources, type KubeObject } from '../operator/kube/resource.ts';
import { silentLog } from '../operator/log.ts';
import { operatorControllers, startOperator } from '../operator/main.ts';
import { parseOptions } from '../operator/options.ts';
import { startControlPlane } from '../test/support/control-plane.ts';
import { clientFor } from '../test/integration/operator-kube/support.ts';

const relays = Number(process.env['MAILFLEET_SCALE_RELAYS'] ?? 200);
const domains = Number(process.env['MAILFLEET_SCALE_DOMAINS'] ?? 2000);
const algorithms = (process.env['MAILFLEET_SCALE_ALGORITHMS'] ?? 'RSA2048').split(',');
const quietSeconds = Number(process.env['MAILFLEET_SCALE_QUIET_S'] ?? 60);
const namespace = 'scale';

interface Listed {
  items: (KubeObject & {
    metadata: { name: string; generation?: number };
    status?: {
      observedGeneration?: number;
      conditions?: { type: string; status: string }[];
      senderDomains?: unknown[];
    };
  })[];
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(work));
  }
}

async function requestsByVerb(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const byVerb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^mailfleet_operator_api_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const verb = /verb="([^"]+)"/.exec(match[1] ?? '')?.[1] ?? '?';
    byVerb.set(verb, (byVerb.get(verb) ?? 0) + Number(match[2]));
  }
  return byVerb;
}

function difference(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([verb, count]) => [verb, count - (before.get(verb) ?? 0)]));
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, count) => sum + count, 0);
const format = (counts: Map<string, number>) =>
  [...counts]
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([verb, count]) => `${verb} ${count}`)
    .join(', ');

const controlPlane = await startControlPlane();
const admin = clientFor(controlPlane.kubeconfigPath);
try {
  await admin.request({
    verb: 'create',
    path: collectionPath(coreResources.namespace),
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  const parsed = parseOptions(
    [
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--leader-elect=false',
      '--http-host=127.0.0.1',
      '--http-port=0',
      '--relay-image=relay:scale',
    ],
    {},
    'scale',
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const operator = await startOperator(parsed.options, operatorControllers, silentLog());
  const started = Date.now();
  const relayNames = Array.from({ length: relays }, (_, index) => `relay-${index}`);
  await inBatches(relayNames, 20, (name) =>
    admin.request({
      verb: 'create',
      path: collectionPath(smtpRelayResource, namespace),
      body: {
        apiVersion: 'mailfleet.dev/v1alpha1',
        kind: 'SmtpRelay',
        metadata: { name, namespace },
        spec: {
          replicas: 2,
          listeners: [{ name: 'smtp', port: 25, tls: 'None', auth: 'Disabled' }],
          clientNetworks: ['10.244.0.0/16'],
        },
      },
    }),
  );
  await inBatches(
    Array.from({ length: domains }, (_, index) => index),
    20,
    (index) =>
      admin.request({
        verb: 'create',
        path: collectionPath(senderDomainResource, namespace),
        body: {
          apiVersion: 'mailfleet.dev/v1alpha1',
          kind: 'SenderDomain',
          metadata: { name: `domain-${index}`, namespace },
          spec: {
            domain: `d${index}.scale.example`,
            relays: [relayNames[index % relays]],
            authorizedUsers: ['*'],
            dkim: { algorithms },
          },
        },
      }),
  );
  const created = Date.now();
  const perRelay = Math.floor(domains / relays);
  let progress = '';
  for (;;) {
    const [relayList, domainList, configMaps] = await Promise.all([
      admin.request<Listed>({ verb: 'list', path: collectionPath(smtpRelayResource, namespace) }),
      admin.request<Listed>({ verb: 'list', path: collectionPath(senderDomainResource, namespace) }),
      admin.request<{ items: { data?: Record<string, string> }[] }>({
        verb: 'list',
        path: collectionPath(coreResources.configMap, namespace),
        query: { labelSelector: 'app.kubernetes.io/name=mailfleet-relay' },
      }),
    ]);
    const keyed = domainList.items.filter(
      (item) => item.status?.conditions?.find((c) => c.type === 'DkimKeyReady')?.status === 'True',
    ).length;
    const bound = relayList.items.filter(
      (item) =>
        item.status?.observedGeneration === item.metadata.generation &&
        (item.status?.senderDomains?.length ?? 0) >= perRelay,
    ).length;
    const rendered = configMaps.items.filter((item) => {
      const config = parse(item.data?.['relay.yaml'] ?? '{}') as { policy?: { senderDomains?: unknown[] } };
      return (config.policy?.senderDomains?.length ?? 0) >= perRelay;
    }).length;
    const now = `${keyed}/${domains} domains keyed, ${bound}/${relays} relays bound, ${rendered}/${relays} configs rendered`;
    if (now !== progress) {
      progress = now;
      console.error(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${now}`);
    }
    if (keyed === domains && bound === relays && rendered === relays) break;
    await sleep(1000);
  }
  const converged = Date.now();
  const toConverge = await requestsByVerb(operator.httpPort);
  await sleep(quietSeconds * 1000);
  const quiet = difference(await requestsByVerb(operator.httpPort), toConverge);
  await operator.stop();

  const cpu = cpus()[0]?.model ?? 'unknown';
  const kernel = execFileSync('uname', ['-r']).toString().trim();
  const report = [
    '# Operator at scale',
    '',
    '<!-- Generated by bench/operator-scale.ts (`make bench-operator`); do not edit by hand. -->',
    '',
    `Run: \`make bench-operator\` (bench/operator-scale.ts), ${new Date(started).toISOString()}.`,
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${kernel}, Node ${process.version};`,
    'etcd and kube-apiserver from the test control plane on the same machine (no kube-controller-manager:',
    'the StatefulSets are not turned into pods, so relays are bound and rendered, not Ready).',
    '',
    `Workload: ${relays} SmtpRelays and ${domains} SenderDomains (${perRelay} per relay, named in \`spec.relays\`),`,
    `DKIM algorithms ${algorithms.join(' + ')} (keys generated by the operator), DNS verification off,`,
    'all created at once through the API (20 requests in flight) while the operator runs.',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| objects created in | ${((created - started) / 1000).toFixed(1)} s |`,
    `| converged (every domain keyed, every relay's status and config list its domains) after | ${((converged - started) / 1000).toFixed(1)} s |`,
    `| operator API requests until converged | ${total(toConverge)} (${format(toConverge)}) |`,
    `| requests per object | ${(total(toConverge) / (relays + domains)).toFixed(1)} |`,
    `| operator API requests in the ${quietSeconds} s after | ${total(quiet)}${total(quiet) > 0 ? ` (${format(quiet)})` : ''} |`,
    '',
  ].join('\n');
  const target = new URL('../docs/operator-scale.md', import.meta.url);
  const formatted = await prettierFormat(report, {
    ...(await resolveConfig(target)),
    filepath: target.pathname,
  });
  await writeFile(target, formatted);
  process.stdout.write(formatted);
} finally {
  await controlPlane.stop();
}
