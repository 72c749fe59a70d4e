// The SmtpRelay reconciler: reads the relay, its bound SenderDomains and the Secrets from the
// caches, renders everything the relay becomes, applies what changed, deletes the owned objects the
// render no longer includes, and writes the status (only when it changed), with Events on
// transitions. A relay that cannot be served as written says so in its conditions, naming the
// field, Secret or key; nothing here throws for a user's mistake.
import { validateRelayConfig } from '../../relay/config/validate.ts';
import { smtpRelayResource, senderDomainResource } from '../api/kinds.ts';
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import { errorMessage } from '../log.ts';
import { isNotFound } from '../kube/client.ts';
import type { Controller } from '../kube/controller.ts';
import type { ProcessResult } from '../kube/workqueue.ts';
import { controllerKeyOf } from '../kube/owner.ts';
import {
  formatKey,
  keyOf,
  objectPath,
  parseKey,
  type KubeObject,
  type ResourceType,
} from '../kube/resource.ts';
import type { DesiredStatus, ObjectStatus } from '../kube/status-diff.ts';
import type { WithStatus } from '../kube/status.ts';
import type { KubeTools } from '../kube/tools.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { ReadonlyStore } from '../kube/store.ts';
import { asKubeObject, isPaused, objectNames } from '../render/relay-names.ts';
import {
  conditionalRelayObjects,
  optionalRelayResources,
  relayResources,
  servedName,
} from '../render/relay-resources.ts';
import type { BoundDomain } from '../render/relay-secret.ts';
import { objectKey, relayAcceptance, type NamespaceLabels } from '../render/relay-acceptance.ts';
import { dkimSecretName, signingKeys, type SecretObject } from '../render/sender-domain-binding.ts';
import { renderSmtpRelay, type DesiredObject } from '../render/smtp-relay-objects.ts';
import { secretProblems } from '../status/smtp-relay-secrets.ts';
import { smtpRelayStatus, type StatefulSetObject } from '../status/smtp-relay.ts';
import { ServedKinds } from './served-kinds.ts';
import { ServiceAccountIssuer } from './service-account-issuer.ts';
import { ownerKind, smtpRelayPrimary, smtpRelayWatches } from './smtp-relay-watches.ts';
import { namespaceLabelsOf } from './tenancy-watches.ts';
import { claimTemplatesConflict } from './stateful-set-immutable.ts';
import { decideDeletion, drainFinalizer } from '../status/smtp-relay-deletion.ts';
import { planScaleDown } from '../status/smtp-relay-scale-down.ts';
import { carryOutScaleDown, readScaleDown } from './relay-scale-down.ts';
import {
  deleteClaim,
  ensureDrainFinalizer,
  readQueueOverHttp,
  readRelayQueues,
  removeDrainFinalizer,
  type QueueReader,
} from './relay-deletion.ts';

/** How often a relay with a scaled-away queue still draining (or a pod still stopping) is looked at. */
const scaledDownPollMs = 10_000;
/** How often a relay with a failed drain Job is looked at (a deleted Job is started again). */
const failedDrainPollMs = 60_000;

/** What the SmtpRelay controller is built with (main.ts wires them, as for the SenderDomain one). */
export interface SmtpRelayControllerOptions extends KubeTools {
  /** The relay image the StatefulSets run. */
  readonly relayImage: string;
  /** The cluster's DNS domain, for Service and pod names in the config and status. */
  readonly clusterDomain?: string;
  /** How long discovery of the optional kinds is trusted. */
  readonly discoveryTtlMs?: number;
  /** Reads a relay pod's /queuez during a deletion (default: HTTP to the pod's address). */
  readonly readQueue?: QueueReader;
  /** How often the ServiceAccount issuer's keys are read again (relays with spec.serviceAccountTokens). */
  readonly issuerKeysRefreshMs?: number;
  /** Where the operator runs (its pods read the relay pods' /queuez; see relay-network-policy.ts). */
  readonly operatorNamespace?: string | undefined;
  /** TEST ONLY: no drain finalizer, a deleted relay goes at once (OperatorOptions.testOnlySkipDeletionDrain). */
  readonly testOnlySkipDeletionDrain?: boolean;
  /** The deletion and scaled-away queue gauges. */
  readonly metrics: Pick<OperatorMetrics, 'relayDeletion' | 'scaledDownQueues'>;
}

function boundDomains(
  relay: SmtpRelay,
  domains: ReadonlyStore<SenderDomain & KubeObject>,
  secrets: ReadonlyStore<SecretObject>,
  labelsOf: NamespaceLabels,
): { bound: BoundDomain[]; problems: Map<string, string> } {
  const problems = new Map<string, string>();
  const bound = relayAcceptance(relay, domains.list(), labelsOf).accepted.map((senderDomain) => {
    const namespace = senderDomain.metadata.namespace ?? '';
    const secretName = dkimSecretName(senderDomain);
    const keySecret =
      secretName === undefined ? undefined : secrets.get(formatKey({ namespace, name: secretName }));
    const keys = signingKeys(senderDomain, keySecret);
    // Named as the relay's status names it: by name in its namespace, else namespace/name.
    const shown =
      namespace === relay.metadata.namespace ? (senderDomain.metadata.name ?? '') : objectKey(senderDomain);
    if (!keys.ok)
      problems.set(
        objectKey(senderDomain),
        `SenderDomain ${shown}: ${keys.message}; its mail is sent unsigned`,
      );
    return { senderDomain, keys: keys.ok ? keys.keys : [], keySecret };
  });
  return { bound, problems };
}

export function smtpRelayController(options: SmtpRelayControllerOptions): Controller {
  const { client, clock, log, applier, status, events, metrics } = options;
  const clusterDomain = options.clusterDomain ?? 'cluster.local';
  const discoveryTtlMs = options.discoveryTtlMs ?? 60_000;
  const issuer = new ServiceAccountIssuer({
    client,
    clock,
    log,
    refreshMs: options.issuerKeysRefreshMs ?? 60_000,
  });
  const servedKinds = new ServedKinds({
    client,
    clock,
    log,
    kinds: optionalRelayResources,
    ttlMs: discoveryTtlMs,
  });
  async function deleteIfOwned(
    resource: ResourceType,
    relay: SmtpRelay,
    live: KubeObject | undefined,
  ): Promise<void> {
    if (live === undefined || controllerKeyOf(live, ownerKind) !== keyOf(asKubeObject(relay))) return;
    await client.request({ verb: 'delete', path: objectPath(resource, parseKey(keyOf(live))) });
    log.info(
      { relay: keyOf(asKubeObject(relay)), kind: resource.kind, name: live.metadata?.name },
      'deleted an object the relay no longer needs',
    );
  }

  async function readOptional(
    resource: ResourceType,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      return await client.request<KubeObject>({
        verb: 'get',
        path: objectPath(resource, { namespace, name }),
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    name: 'smtp-relay',
    primary: smtpRelayPrimary,
    watches: smtpRelayWatches,
    async reconcile(key, context) {
      const relay = context.cache<SmtpRelay & KubeObject>(smtpRelayResource).get(key);
      if (relay === undefined) return undefined;
      const deleting = relay.metadata.deletionTimestamp !== undefined;
      // A deleted relay without the finalizer is gone as far as the operator is concerned; one with
      // it is rendered retired (refusing mail, delivering) until the gate below lets it go.
      if (deleting && !(relay.metadata.finalizers ?? []).includes(drainFinalizer)) return undefined;
      if (options.testOnlySkipDeletionDrain === true) {
        // The negative control of the deletion test: the protection off, the loss must show.
        if (deleting) {
          await removeDrainFinalizer(client, relay);
          return undefined;
        }
      } else if (!deleting) await ensureDrainFinalizer(client, relay);
      const namespace = relay.metadata.namespace ?? '';
      const secretCache = context.cache<SecretObject>(relayResources.secret);
      const lookup = (name: string) => secretCache.get(formatKey({ namespace, name }));
      const cached = (resource: ResourceType, name: string) =>
        context.cache(resource).get(formatKey({ namespace, name }));

      const { bound, problems: domainProblems } = boundDomains(
        relay,
        context.cache<SenderDomain & KubeObject>(senderDomainResource),
        secretCache,
        namespaceLabelsOf(context),
      );
      const served = await servedKinds.served();
      const usesTokens = relay.spec.serviceAccountTokens !== undefined;
      const rendered = renderSmtpRelay({
        relay,
        domains: bound,
        secrets: lookup,
        relayImage: options.relayImage,
        clusterDomain,
        served,
        issuer: usesTokens ? await issuer.keys() : undefined,
        operatorNamespace: options.operatorNamespace,
      });
      const validation = validateRelayConfig(rendered.config, `SmtpRelay ${key} rendered config`);
      const configErrors = [...rendered.errors, ...(validation.ok ? [] : validation.errors)];

      // What could not be applied, for the status; only the apiserver's failures are retried with
      // backoff, a refusal the spec itself causes waits for the spec (or the object) to change.
      const applyErrors: string[] = [];
      let retry = false;
      const liveStatefulSet = cached(relayResources.statefulSet, objectNames.statefulSet(relay)) as
        StatefulSetObject | undefined;
      const renderedStatefulSet = rendered.objects.find(
        (entry) => entry.resource === relayResources.statefulSet,
      )?.object;
      // The queues of pods scaled away: drain Jobs, and a scale-up held while one drains its PVC.
      const scaleDown =
        !deleting && relay.spec.queue.storage === 'Persistent' && configErrors.length === 0
          ? planScaleDown(await readScaleDown(client, relay))
          : undefined;
      if (scaleDown?.holdReplicasAt !== undefined && renderedStatefulSet !== undefined)
        (renderedStatefulSet['spec'] as { replicas: number }).replicas = scaleDown.holdReplicasAt;
      // A deleted relay is retired and drained even when paused: its deletion waits for that.
      if (configErrors.length === 0 && (!isPaused(relay) || deleting)) {
        for (const desired of rendered.objects) {
          const failure = await applyOne(desired, liveStatefulSet);
          if (failure !== undefined) applyErrors.push(failure.message);
          retry ||= failure?.retry === true;
        }
        try {
          if (scaleDown !== undefined && renderedStatefulSet !== undefined)
            await carryOutScaleDown(client, relay, scaleDown, renderedStatefulSet);
          await deleteUnwanted(relay, rendered.objects, served, cached);
        } catch (error) {
          applyErrors.push(
            `deleting an object SmtpRelay ${key} no longer needs failed: ${errorMessage(error)}`,
          );
          retry = true;
        }
      }

      const previousReady = relay.status?.conditions?.find((entry) => entry.type === 'Ready');
      const desiredStatus = smtpRelayStatus({
        relay,
        statefulSet: liveStatefulSet,
        configErrors,
        secretProblems: secretProblems(relay, lookup),
        applyErrors,
        unsupported: [...rendered.unsupported, ...rendered.notServed],
        domains: bound.map(({ senderDomain }) => ({
          senderDomain,
          problem: domainProblems.get(objectKey(senderDomain)),
        })),
        clusterDomain,
      });
      const involved: WithStatus = {
        ...asKubeObject(relay),
        ...(relay.status === undefined ? {} : { status: structuredClone(relay.status) as ObjectStatus }),
      };
      if (deleting) return deletionGate(relay, involved, desiredStatus);
      const queues = scaleDown?.queues ?? [];
      metrics.scaledDownQueues(
        keyOf(asKubeObject(relay)),
        queues.map((entry) => entry.state),
      );
      await status.write(
        smtpRelayResource,
        involved,
        queues.length === 0 ? desiredStatus : { ...desiredStatus, scaledDownQueues: queues },
      );
      await recordTransition(
        involved,
        previousReady,
        desiredStatus.conditions?.find((entry) => entry.type === 'Ready'),
      );
      if (retry) throw new Error(applyErrors.join('; '));
      // A queue being drained, or a pod still stopping: look again until it is settled; a failed
      // one now and then too, to start its Job again once someone deleted it (Jobs are not watched).
      if (queues.some((entry) => entry.state === 'draining' || entry.state === 'waiting'))
        return { requeueAfterMs: scaledDownPollMs };
      if (queues.some((entry) => entry.state === 'failed')) return { requeueAfterMs: failedDrainPollMs };
      // An optional kind asked for but not served yet: look again once discovery may have changed.
      // A relay taking tokens is rendered again when the issuer's keys may have rotated.
      const requeueAfter = [
        ...(rendered.notServed.length > 0 ? [discoveryTtlMs] : []),
        ...(usesTokens ? [issuer.refreshMs] : []),
      ];
      return requeueAfter.length > 0 ? { requeueAfterMs: Math.min(...requeueAfter) } : undefined;

      async function applyOne(
        desired: DesiredObject,
        statefulSet: StatefulSetObject | undefined,
      ): Promise<{ message: string; retry: boolean } | undefined> {
        const name = desired.object.metadata?.name ?? '';
        const what = `${desired.resource.kind} ${namespace}/${name}`;
        if (desired.resource === relayResources.statefulSet && statefulSet !== undefined) {
          const conflict = claimTemplatesConflict(desired.object, statefulSet);
          if (conflict !== undefined) return { message: `${what}: ${conflict}`, retry: false };
        }
        const optional = optionalRelayResources.includes(desired.resource);
        try {
          // Optional kinds are not cached (their CRDs may be absent at start): the applier reads them.
          await (optional
            ? applier.apply(desired.resource, desired.object)
            : applier.apply(desired.resource, desired.object, { live: cached(desired.resource, name) }));
          return undefined;
        } catch (error) {
          return { message: `applying ${what} failed: ${errorMessage(error)}`, retry: true };
        }
      }
    },
  };

  /**
   * A deleted relay: its pods were rendered retired above; read what they still hold, and either
   * wait (status, metric, a requeue) or let the deletion go on (PVCs, Events, the finalizer off).
   */
  async function deletionGate(
    relay: SmtpRelay & KubeObject,
    involved: WithStatus,
    desiredStatus: DesiredStatus,
  ): Promise<ProcessResult | undefined> {
    const key = keyOf(asKubeObject(relay));
    const namespace = relay.metadata.namespace ?? '';
    const found = await readRelayQueues(client, relay, options.readQueue ?? readQueueOverHttp);
    const decision = decideDeletion({ ...found, relay, now: clock.now() });
    const deletingCondition = {
      type: 'Ready',
      status: 'False' as const,
      reason: decision.action === 'wait' ? 'Deleting' : 'Deleted',
      message: decision.message,
    };
    const conditions = [
      ...(desiredStatus.conditions ?? []).filter((entry) => entry.type !== 'Ready'),
      deletingCondition,
    ];
    const firstLook = relay.status?.deletion === undefined;
    if (decision.action === 'wait') {
      metrics.relayDeletion(key, decision.deletion.heldMessages ?? 0);
      await status.write(smtpRelayResource, involved, {
        ...desiredStatus,
        conditions,
        deletion: decision.deletion,
      });
      if (firstLook) await events.record(involved, 'Normal', 'Draining', decision.message);
      return { requeueAfterMs: decision.requeueAfterMs };
    }
    for (const claim of decision.deleteClaims) await deleteClaim(client, namespace, claim);
    if (decision.outcome === 'timedOut' || decision.keptClaims.length > 0) {
      const kept = decision.keptClaims.map((entry) => `${entry.claim} (${entry.why})`).join('; ');
      await events.record(
        involved,
        'Warning',
        relay.spec.queue.storage === 'Persistent' ? 'MailRetained' : 'MailDropped',
        kept === '' ? decision.message : `${decision.message}; kept: ${kept}`,
      );
    } else await events.record(involved, 'Normal', 'Drained', decision.message);
    log.info({ relay: key, outcome: decision.outcome, held: decision.heldMessages }, decision.message);
    await removeDrainFinalizer(client, relay);
    metrics.relayDeletion(key, undefined);
    metrics.scaledDownQueues(key, []);
    return undefined;
  }

  async function deleteUnwanted(
    relay: SmtpRelay,
    desired: readonly DesiredObject[],
    served: ReadonlySet<string>,
    cached: (resource: ResourceType, name: string) => KubeObject | undefined,
  ): Promise<void> {
    const namespace = relay.metadata.namespace ?? '';
    const wanted = (resource: ResourceType, name: string) =>
      desired.some((entry) => entry.resource === resource && entry.object.metadata?.name === name);
    for (const { resource, name: nameOf } of conditionalRelayObjects) {
      const name = nameOf(relay);
      if (wanted(resource, name)) continue;
      if (!optionalRelayResources.includes(resource)) {
        await deleteIfOwned(resource, relay, cached(resource, name));
      } else if (served.has(servedName(resource))) {
        await deleteIfOwned(resource, relay, await readOptional(resource, namespace, name));
      }
    }
  }

  async function recordTransition(
    involved: KubeObject,
    before: { status: string; reason: string; message: string } | undefined,
    after: { status: string; reason: string; message: string } | undefined,
  ): Promise<void> {
    if (after === undefined) return;
    if (before?.status === after.status && before.reason === after.reason && before.message === after.message)
      return;
    const warning = [
      'InvalidConfig',
      'ApplyFailed',
      'SecretNotFound',
      'SecretKeyMissing',
      'SecretKeyInvalid',
    ].includes(after.reason);
    if (warning) await events.record(involved, 'Warning', after.reason, after.message);
    else if (after.status === 'True' && before?.status !== 'True')
      await events.record(involved, 'Normal', 'Ready', after.message);
  }
}
