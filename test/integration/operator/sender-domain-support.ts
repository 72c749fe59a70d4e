// The SenderDomain reconciler in a ControllerManager on the shared control plane. The manager (its
// informers and work queue) runs on real time with a fast resync, so every few hundred ms a
// reconcile runs; the reconciler, its status writer and its event recorder read a FakeClock the
// test moves, so a rotation of days happens in seconds.
import { senderDomainResource } from '../../../operator/api/kinds.ts';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import { Applier } from '../../../operator/kube/apply.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { systemClock } from '../../../operator/kube/clock.ts';
import { ControllerManager } from '../../../operator/kube/controller.ts';
import { EventRecorder } from '../../../operator/kube/events.ts';
import {
  coreResources,
  collectionPath,
  objectPath,
  type KubeObject,
} from '../../../operator/kube/resource.ts';
import { StatusWriter } from '../../../operator/kube/status.ts';
import { Writable } from 'node:stream';
import { createLogger } from '../../../operator/log.ts';
import {
  senderDomainController,
  type SenderDomainControllerOptions,
} from '../../../operator/reconcile/sender-domain.ts';
import type { LookupTxt } from '../../../operator/reconcile/sender-domain-dns-lookup.ts';
import { dnsEndpointPublisher } from '../../../operator/reconcile/sender-domain-publish.ts';
import type { SecretObject } from '../../../operator/render/sender-domain-binding.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { FakeClock } from '../../unit/operator-kube/fake-clock.ts';
import { clientFor } from '../operator-kube/support.ts';

export const { kubeconfigPath } = sharedControlPlane();
export const admin = clientFor(kubeconfigPath);
export const startOfTest = Date.parse('2026-01-01T00:00:00Z');

export interface Running {
  /** The reconciler's own client: its `writes` count what the reconciler wrote. */
  readonly client: KubeClient;
  readonly clock: FakeClock;
  /** Every reconcile's result, in order. */
  readonly results: ({ requeueAfterMs?: number } | undefined)[];
  /** The controller's last log lines (debug and up) and reconcile results, for a failure message. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/** The last `keep` lines written to it. */
function logTail(keep = 60): { readonly out: Writable; lines(): string[] } {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      lines.splice(0, Math.max(0, lines.length - keep));
      done();
    },
  });
  return { out, lines: () => [...lines] };
}

/** The controllers started and not yet stopped: a failing wait shows what they logged. */
export const activeControllers = new Set<Running>();

export async function startController(
  namespace: string,
  lookupTxt: LookupTxt,
  observer?: SenderDomainControllerOptions['observer'],
  publishing?: SenderDomainControllerOptions['dnsPublishing'],
): Promise<Running> {
  const client = clientFor(kubeconfigPath);
  const clock = new FakeClock();
  await clock.advance(startOfTest);
  const tail = logTail();
  const log = createLogger('debug', tail.out);
  const manager = new ControllerManager({
    client,
    clock: systemClock,
    log,
    namespaces: [namespace],
    resyncPeriodMs: 250,
    backoff: { baseMs: 100, capMs: 1_000 },
    defaultConcurrency: 2,
  });
  const applier = new Applier(client);
  const controller = senderDomainController({
    client,
    clock,
    applier,
    status: new StatusWriter(client, clock),
    events: new EventRecorder({ client, clock, log, component: 'mailfleet-operator', instance: 'test' }),
    lookupTxt,
    publisher: dnsEndpointPublisher({ client, clock, log, applier }),
    ...(publishing === undefined ? {} : { dnsPublishing: publishing }),
    ...(observer === undefined ? {} : { observer }),
  });
  const results: Running['results'] = [];
  manager.register({
    ...controller,
    reconcile: async (key, context) => {
      const result = await controller.reconcile(key, context);
      results.push(result);
      return result;
    },
  });
  await manager.startInformers();
  manager.startWorkers();
  const diagnostics = (): string =>
    [
      `--- SenderDomain controller: last reconcile results ---`,
      JSON.stringify(results.slice(-10)),
      `--- SenderDomain controller: log (tail) ---`,
      ...tail.lines(),
    ].join('\n');
  const running: Running = {
    client,
    clock,
    results,
    diagnostics,
    stop: async () => {
      activeControllers.delete(running);
      await manager.stop();
    },
  };
  activeControllers.add(running);
  return running;
}

export const noDns: LookupTxt = () => Promise.resolve(new Map());

export function senderDomainManifest(
  name: string,
  spec: Record<string, unknown>,
  labels?: Record<string, string>,
) {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name, ...(labels === undefined ? {} : { labels }) },
    spec,
  };
}

export async function create(
  resource: typeof senderDomainResource | typeof coreResources.secret,
  namespace: string,
  body: object,
) {
  return admin.request<KubeObject>({ verb: 'create', path: collectionPath(resource, namespace), body });
}

export async function readDomain(namespace: string, name: string): Promise<SenderDomain> {
  return admin.request<SenderDomain>({
    verb: 'get',
    path: objectPath(senderDomainResource, { namespace, name }),
  });
}

export async function readSecret(namespace: string, name: string): Promise<SecretObject | undefined> {
  try {
    return await admin.request<SecretObject>({
      verb: 'get',
      path: objectPath(coreResources.secret, { namespace, name }),
    });
  } catch {
    return undefined;
  }
}

export function condition(domain: SenderDomain, type: string) {
  return domain.status?.conditions?.find((entry) => entry.type === type);
}

export interface EventObject extends KubeObject {
  reason?: string;
  type?: string;
  message?: string;
  count?: number;
  involvedObject?: { name?: string; kind?: string };
}

export async function eventsOf(namespace: string, name: string): Promise<EventObject[]> {
  const list = await admin.request<{ items: EventObject[] }>({
    verb: 'list',
    path: collectionPath(coreResources.event, namespace),
  });
  return list.items.filter(
    (event) => event.involvedObject?.name === name && event.involvedObject.kind === 'SenderDomain',
  );
}
