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
import { controllerKeyOf } from '../kube/owner.ts';
import {
  formatKey,
  keyOf,
  objectPath,
  parseKey,
  type KubeObject,
  type ResourceType,
} from '../kube/resource.ts';
import type { ObjectStatus } from '../kube/status-diff.ts';
import type { WithStatus } from '../kube/status.ts';
import type { KubeTools } from '../kube/tools.ts';
import type { ReadonlyStore } from '../kube/store.ts';
import { asKubeObject, isPaused, objectNames } from '../render/relay-names.ts';
import {
  conditionalRelayObjects,
  optionalRelayResources,
  relayResources,
  servedName,
} from '../render/relay-resources.ts';
import type { BoundDomain } from '../render/relay-secret.ts';
import {
  dkimSecretName,
  relaySelectsDomain,
  signingKeys,
  type SecretObject,
} from '../render/sender-domain-binding.ts';
import { renderSmtpRelay, type DesiredObject } from '../render/smtp-relay-objects.ts';
import { secretProblems } from '../status/smtp-relay-secrets.ts';
import { smtpRelayStatus, type StatefulSetObject } from '../status/smtp-relay.ts';
import { ServedKinds } from './served-kinds.ts';
import { ownerKind, smtpRelayPrimary, smtpRelayWatches } from './smtp-relay-watches.ts';
import { claimTemplatesConflict } from './stateful-set-immutable.ts';

/** What the SmtpRelay controller is built with (main.ts wires them, as for the SenderDomain one). */
export interface SmtpRelayControllerOptions extends KubeTools {
  /** The relay image the StatefulSets run. */
  readonly relayImage: string;
  /** The cluster's DNS domain, for Service and pod names in the config and status. */
  readonly clusterDomain?: string;
  /** How long discovery of the optional kinds is trusted. */
  readonly discoveryTtlMs?: number;
}

function boundDomains(
  relay: SmtpRelay,
  domains: ReadonlyStore<SenderDomain & KubeObject>,
  secrets: ReadonlyStore<SecretObject>,
): { bound: BoundDomain[]; problems: Map<string, string> } {
  const namespace = relay.metadata.namespace ?? '';
  const problems = new Map<string, string>();
  const bound = domains
    .list({ namespace })
    .filter((domain) => relaySelectsDomain(relay, domain) && domain.metadata.deletionTimestamp === undefined)
    .sort((a, b) => (a.spec.domain < b.spec.domain ? -1 : a.spec.domain > b.spec.domain ? 1 : 0))
    .map((senderDomain) => {
      const secretName = dkimSecretName(senderDomain);
      const secret =
        secretName === undefined ? undefined : secrets.get(formatKey({ namespace, name: secretName }));
      const keys = signingKeys(senderDomain, secret);
      if (!keys.ok) {
        problems.set(
          senderDomain.metadata.name ?? '',
          `SenderDomain ${senderDomain.metadata.name ?? ''}: ${keys.message}; its mail is sent unsigned`,
        );
      }
      return { senderDomain, keys: keys.ok ? keys.keys : [] };
    });
  return { bound, problems };
}

export function smtpRelayController(options: SmtpRelayControllerOptions): Controller {
  const { client, clock, log, applier, status, events } = options;
  const clusterDomain = options.clusterDomain ?? 'cluster.local';
  const discoveryTtlMs = options.discoveryTtlMs ?? 60_000;
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
      if (relay === undefined || relay.metadata.deletionTimestamp !== undefined) return undefined;
      const namespace = relay.metadata.namespace ?? '';
      const secretCache = context.cache<SecretObject>(relayResources.secret);
      const lookup = (name: string) => secretCache.get(formatKey({ namespace, name }));
      const cached = (resource: ResourceType, name: string) =>
        context.cache(resource).get(formatKey({ namespace, name }));

      const { bound, problems: domainProblems } = boundDomains(
        relay,
        context.cache<SenderDomain & KubeObject>(senderDomainResource),
        secretCache,
      );
      const served = await servedKinds.served();
      const rendered = renderSmtpRelay({
        relay,
        domains: bound,
        secrets: lookup,
        relayImage: options.relayImage,
        clusterDomain,
        served,
      });
      const validation = validateRelayConfig(rendered.config, `SmtpRelay ${key} rendered config`);
      const configErrors = [...rendered.errors, ...(validation.ok ? [] : validation.errors)];

      // What could not be applied, for the status; only the apiserver's failures are retried with
      // backoff, a refusal the spec itself causes waits for the spec (or the object) to change.
      const applyErrors: string[] = [];
      let retry = false;
      const liveStatefulSet = cached(relayResources.statefulSet, objectNames.statefulSet(relay)) as
        StatefulSetObject | undefined;
      if (configErrors.length === 0 && !isPaused(relay)) {
        for (const desired of rendered.objects) {
          const failure = await applyOne(desired, liveStatefulSet);
          if (failure !== undefined) applyErrors.push(failure.message);
          retry ||= failure?.retry === true;
        }
        try {
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
          problem: domainProblems.get(senderDomain.metadata.name ?? ''),
        })),
        clusterDomain,
      });
      const involved: WithStatus = {
        ...asKubeObject(relay),
        ...(relay.status === undefined ? {} : { status: structuredClone(relay.status) as ObjectStatus }),
      };
      await status.write(smtpRelayResource, involved, desiredStatus);
      await recordTransition(
        involved,
        previousReady,
        desiredStatus.conditions?.find((entry) => entry.type === 'Ready'),
      );
      if (retry) throw new Error(applyErrors.join('; '));
      // An optional kind asked for but not served yet: look again once discovery may have changed.
      return rendered.notServed.length > 0 ? { requeueAfterMs: discoveryTtlMs } : undefined;

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
