// One `kubectl mailfleet` command: reads the objects, runs the queue CLI in the relay's pods, looks
// DNS up, and hands it all to the pure renderers. The cluster, the exec and the resolver come in,
// so the whole of it runs against a real API server in the tests (main.ts wires the real ones).
import type { LookupTxt } from '../operator/reconcile/sender-domain-dns-lookup.ts';
import type { Command } from './args.ts';
import type { Cluster, RelayPod } from './cluster.ts';
import { renderDnsCheck } from './dns-check.ts';
import type { PodExec } from './pod-exec.ts';
import {
  deleteArgv,
  drainArgv,
  listArgv,
  renderById,
  renderDrained,
  renderQueueList,
  renderRetryAll,
  retryArgv,
  type Outcome,
} from './queue.ts';
import { renderStatus } from './status.ts';
import { zoneLines } from './zone.ts';

export interface PluginTools {
  /** The namespace: -n, else the kubeconfig context's, else `default`. */
  readonly namespace: string;
  readonly cluster: Cluster;
  readonly exec: PodExec;
  /** A TXT resolver asking `server` (host:port), or the system's resolvers when undefined. */
  readonly lookupTxt: (server: string | undefined) => LookupTxt;
  readonly now: () => number;
}

const failed = (err: string): Outcome => ({ out: '', err, exitCode: 1 });

/** The running pods of a relay (those `kubectl exec` can reach), and a note for any other. */
async function relayPods(
  tools: PluginTools,
  namespace: string,
  relay: string,
): Promise<{ pods: string[]; note: string } | { problem: string }> {
  const object = await tools.cluster.relay(namespace, relay);
  const selector = object.status?.selector;
  if (selector === undefined)
    return {
      problem: `SmtpRelay ${namespace}/${relay} has no status.selector yet: the operator has not reconciled it\n`,
    };
  const pods: RelayPod[] = await tools.cluster.pods(namespace, selector);
  const running = pods
    .filter((pod) => pod.status?.phase === 'Running')
    .map((pod) => pod.metadata?.name ?? '');
  const others = pods
    .filter((pod) => pod.status?.phase !== 'Running')
    .map((pod) => `pod ${pod.metadata?.name ?? ''} skipped: phase ${pod.status?.phase ?? 'unknown'}\n`);
  if (running.length === 0)
    return { problem: `${others.join('')}SmtpRelay ${namespace}/${relay} has no running pod\n` };
  return { pods: running, note: others.join('') };
}

function withNote(outcome: Outcome, note: string): Outcome {
  return { ...outcome, err: note + outcome.err };
}

export async function runCommand(command: Command, tools: PluginTools): Promise<Outcome> {
  const { namespace } = tools;
  switch (command.name) {
    case 'help':
      return { out: '', err: '', exitCode: 0 };
    case 'status': {
      const scope = command.allNamespaces ? undefined : namespace;
      const [relays, domains] = await Promise.all([
        tools.cluster.relays(scope),
        tools.cluster.domains(scope),
      ]);
      const withPods = await Promise.all(
        relays.map(async (relay) => {
          const found = await relayPods(
            tools,
            relay.metadata.namespace ?? namespace,
            relay.metadata.name ?? '',
          );
          const pods = 'problem' in found ? [] : found.pods;
          const answers = await Promise.all(
            pods.map((pod) => tools.exec(relay.metadata.namespace ?? namespace, pod, listArgv({}))),
          );
          return { relay, answers };
        }),
      );
      return {
        out: renderStatus({ relays: withPods, domains, showNamespace: command.allNamespaces }),
        err: '',
        exitCode: 0,
      };
    }
    case 'queue-list':
    case 'queue-retry':
    case 'queue-delete':
    case 'queue-drain': {
      const found = await relayPods(tools, namespace, command.relay);
      if ('problem' in found) return failed(found.problem);
      const pod = command.name === 'queue-list' || command.name === 'queue-drain' ? command.pod : undefined;
      if (pod !== undefined && !found.pods.includes(pod))
        return failed(
          `pod ${pod} is not a running pod of SmtpRelay ${command.relay} (${found.pods.join(', ')})\n`,
        );
      const pods = pod === undefined ? found.pods : [pod];
      const onEveryPod = (argv: readonly string[]) =>
        Promise.all(pods.map((name) => tools.exec(namespace, name, argv)));
      switch (command.name) {
        case 'queue-list':
          return withNote(
            renderQueueList(await onEveryPod(listArgv(command.filters)), command.json),
            found.note,
          );
        case 'queue-retry':
          return withNote(
            command.queueId === undefined
              ? renderRetryAll(await onEveryPod(retryArgv(undefined)))
              : renderById(
                  'retried',
                  command.relay,
                  command.queueId,
                  await onEveryPod(retryArgv(command.queueId)),
                ),
            found.note,
          );
        case 'queue-delete':
          return withNote(
            renderById(
              'deleted',
              command.relay,
              command.queueId,
              await onEveryPod(deleteArgv(command.queueId)),
            ),
            found.note,
          );
        case 'queue-drain': {
          // One pod at a time: a pod hands what is left to its peers, which must not be draining too.
          const outcomes: Outcome[] = [];
          for (const name of pods)
            outcomes.push(
              renderDrained(await tools.exec(namespace, name, drainArgv(command.deadlineSeconds))),
            );
          return withNote(
            {
              out: outcomes.map((outcome) => outcome.out).join(''),
              err: outcomes.map((outcome) => outcome.err).join(''),
              exitCode: Math.max(...outcomes.map((outcome) => outcome.exitCode)),
            },
            found.note,
          );
        }
      }
      break;
    }
    case 'dns-records':
    case 'dns-check': {
      const domain = await tools.cluster.domain(namespace, command.senderDomain);
      const records = domain.status?.dnsRecords ?? [];
      if (records.length === 0)
        return failed(
          `SenderDomain ${namespace}/${command.senderDomain} lists no status.dnsRecords yet: the operator has not reconciled it, or every record is disabled\n`,
        );
      if (command.name === 'dns-records') return { out: zoneLines(records), err: '', exitCode: 0 };
      const answers = await tools.lookupTxt(command.dnsServer)(records.map((record) => record.name));
      return renderDnsCheck(records, answers, tools.now());
    }
  }
}
