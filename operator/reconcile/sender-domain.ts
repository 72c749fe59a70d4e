// The SenderDomain reconciler: keeps the generated DKIM Secret (or checks the user's), lists the DNS
// records to publish (and keeps them in an external-dns DNSEndpoint when the domain publishes that
// way), verifies them when asked, finds the relays that send for the domain, and writes the status
// and Events. Decisions are the pure planners' (render/, status/); this file
// reads the caches, writes through the runtime and schedules the next look.
import { senderDomainResource } from '../api/kinds.ts';
import type { SenderDomain } from '../api/types.generated.ts';
import { applyNeeded, withAppliedHash, type Applier } from '../kube/apply.ts';
import { isNotFound, type KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import type { Controller, ControllerContext } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { controllerKeyOf } from '../kube/owner.ts';
import { coreResources, formatKey, keyOf, objectPath, parseKey, type KubeObject } from '../kube/resource.ts';
import type { StatusWriter, WithStatus } from '../kube/status.ts';
import { nextStatus, sameStatus, type ObjectStatus } from '../kube/status-diff.ts';
import {
  generatedDkimKeyName,
  generatedDkimSecretName,
  type SecretObject,
} from '../render/sender-domain-binding.ts';
import { generateDkimKeyAsync, type DkimKeyAlgorithm } from '../render/sender-domain-dkim-keys.ts';
import { ownDkimKeys } from '../render/sender-domain-dkim-own.ts';
import {
  durationMs,
  planGeneratedDkim,
  type DkimChange,
  type GeneratedDkimInput,
  type GeneratedDkimPlan,
  type GeneratedDkimPlanResult,
} from '../render/sender-domain-dkim-plan.ts';
import { dnsEndpointName } from '../render/sender-domain-dns-endpoint.ts';
import { wantedDnsRecords } from '../render/sender-domain-dns.ts';
import { checkDnsRecords } from '../status/sender-domain-dns-check.ts';
import {
  conditionEvents,
  dkimChangeEvents,
  dnsCheckDue,
  senderDomainStatus,
  type DnsOutcome,
  type KeysOutcome,
  type PublishingOutcome,
  type SenderDomainEvent,
} from '../status/sender-domain.ts';
import type { DnsPublishingProvider } from '../options.ts';
import { senderDomainDnsStateOf, type OperatorMetrics } from '../metrics.ts';
import {
  domainNamespaceWatch,
  domainRelayBindings,
  domainRelayWatch,
  domainRivalWatch,
} from './tenancy-watches.ts';
import type { LookupTxt } from './sender-domain-dns-lookup.ts';
import type { DnsEndpointPublisher } from './sender-domain-publish.ts';
import { ownedSecretSelector, ownKeySecretKey, senderDomainSecretReferences } from './secret-references.ts';

/** SenderDomains by the key of the Secret holding the keys their user brings. */
export const senderDomainKeySecretIndex = 'senderDomainKeySecret';

export interface SenderDomainControllerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly applier: Applier;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  readonly lookupTxt: LookupTxt;
  /** Makes a private key (PEM); generateDkimKeyAsync unless a test brings its own. */
  readonly makeKey?: (algorithm: DkimKeyAlgorithm) => Promise<string>;
  /** Applies and deletes the DNSEndpoints of the domains published through external-dns. */
  readonly publisher: DnsEndpointPublisher;
  /** The provider of a domain without spec.dnsPublishing.provider (`--dns-publishing`). */
  readonly dnsPublishing?: DnsPublishingProvider;
  /** Told each domain's DnsVerified state after its reconcile, and when it is gone (the metrics). */
  readonly observer?: Pick<OperatorMetrics, 'senderDomainDns' | 'forgetSenderDomain'>;
}

type SenderDomainObject = SenderDomain & KubeObject;

const defaultDnsIntervalMs = 3_600_000;
/**
 * How soon records published through external-dns are looked at again while they are not all seen:
 * external-dns publishes on its own interval (a minute by default), and a rotation waits for them.
 */
export const publicationCheckMs = 15_000;
/**
 * The longest wait handed to the work queue. A rotation step can be months away, beyond what a
 * Node timer holds (2^31 - 1 ms, about 24.8 days; a longer delay fires after 1 ms); each reconcile
 * before then computes the wait again.
 */
export const maxRequeueMs = 12 * 3_600_000;

/** The cache of a kind holds objects of that kind; the runtime types them as KubeObject. */
function asSenderDomain(object: KubeObject): SenderDomainObject {
  return object as SenderDomainObject;
}

interface KeysStep {
  readonly keys: KeysOutcome;
  readonly nextChangeMs: number | undefined;
  readonly changes: readonly DkimChange[];
}

export function senderDomainController(options: SenderDomainControllerOptions): Controller {
  const { client, clock, applier, status, events, lookupTxt, publisher } = options;
  const makeKey = options.makeKey ?? generateDkimKeyAsync;

  async function read<T>(path: string): Promise<T | undefined> {
    try {
      return await client.request<T>({ verb: 'get', path });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The plan once the keys it asks for are made (asynchronously, off the event loop's path). */
  async function planWithKeys(
    input: GeneratedDkimInput,
  ): Promise<GeneratedDkimPlan | Extract<GeneratedDkimPlanResult, { ok: false }>> {
    const first = planGeneratedDkim(input);
    if (!first.ok || first.needsKeys === undefined) return first;
    const made = await Promise.all(first.needsKeys.map(({ algorithm }) => makeKey(algorithm)));
    const newKeys = new Map(
      first.needsKeys.map(({ selector, algorithm }, index) => [
        generatedDkimKeyName(selector, algorithm),
        made[index] ?? '',
      ]),
    );
    const planned = planGeneratedDkim({ ...input, newKeys });
    if (planned.ok && planned.needsKeys !== undefined) {
      // The planner takes every key it asked for: asking again is a bug, not a state to wait in.
      throw new Error(
        `the DKIM plan of SenderDomain ${input.domain.metadata.namespace ?? ''}/${input.domain.metadata.name ?? ''} asked for keys twice`,
      );
    }
    return planned;
  }

  async function generatedKeys(
    domain: SenderDomainObject,
    context: ControllerContext,
    nowMs: number,
    switchWhenVisible: boolean,
  ): Promise<KeysStep> {
    const secretName = generatedDkimSecretName(domain);
    const secretKey = formatKey({ namespace: domain.metadata.namespace ?? '', name: secretName });
    const cached = context.cache<SecretObject>(coreResources.secret).get(secretKey);
    const failed = (plan: { reason: string; message: string }): KeysStep => ({
      keys: { kind: 'failed', reason: plan.reason, message: plan.message },
      nextChangeMs: undefined,
      changes: [],
    });
    const input = {
      domain,
      nowMs,
      switchWhenVisible,
      verifiedRecords: domain.status?.dnsRecords ?? [],
    };
    // A first plan on the cache: one that asks for keys, or renders another Secret, needs a write.
    const onCache = planGeneratedDkim({ ...input, secret: cached });
    if (!onCache.ok) return failed(onCache);
    let plan: GeneratedDkimPlan | undefined = onCache.needsKeys === undefined ? onCache : undefined;
    let changes: readonly DkimChange[] = [];
    if (plan === undefined || applyNeeded(withAppliedHash(plan.secret), cached)) {
      // Plan for real on the Secret as it is now: the cache may not have seen the previous write
      // yet, and a key must never be made twice.
      const live = await read<SecretObject>(objectPath(coreResources.secret, parseKey(secretKey)));
      const planned = await planWithKeys({ ...input, secret: live });
      if (!planned.ok) return failed(planned);
      plan = planned;
      const applied = await applier.apply(coreResources.secret, plan.secret, { live });
      if (applied.written) changes = plan.changes;
    }
    return {
      keys: {
        kind: 'ready',
        source: 'generated',
        secretName,
        published: plan.published,
        dkim: plan.status,
        ...(switchWhenVisible ? { phase: plan.phase } : {}),
      },
      nextChangeMs: plan.nextChangeMs,
      changes,
    };
  }

  function ownKeys(domain: SenderDomainObject, context: ControllerContext): KeysStep {
    const secretKey = ownKeySecretKey(domain) ?? '';
    const secret = context.cache<SecretObject>(coreResources.secret).get(secretKey);
    const own = ownDkimKeys(domain, secret);
    const keys: KeysOutcome = own.ok
      ? {
          kind: 'ready',
          source: 'own',
          secretName: parseKey(secretKey).name,
          published: own.published,
          dkim: { activeSelector: domain.spec.dkim.selector },
        }
      : { kind: 'failed', reason: own.reason, message: own.message };
    return { keys, nextChangeMs: undefined, changes: [] };
  }

  /** One pass; `fresh` once the object was read from the apiserver rather than the cache. */
  async function reconcileDomain(
    domain: SenderDomainObject,
    context: ControllerContext,
    fresh: boolean,
    earlierEvents: readonly SenderDomainEvent[] = [],
  ): Promise<{ requeueAfterMs?: number }> {
    const nowMs = clock.now();
    const bindings = domainRelayBindings(domain, context);

    const dkim = domain.spec.dkim;
    const verification = domain.spec.dnsVerification;
    const viaExternalDns =
      (domain.spec.dnsPublishing?.provider ?? options.dnsPublishing ?? 'Manual') === 'ExternalDNS';
    // A rotation waits for DNS only when it publishes the records itself and can see them.
    const switchWhenVisible = viaExternalDns && verification.enabled;
    const keysStep: KeysStep = !dkim.enabled
      ? { keys: { kind: 'disabled' }, nextChangeMs: undefined, changes: [] }
      : dkim.privateKeySecretRef === undefined
        ? await generatedKeys(domain, context, nowMs, switchWhenVisible)
        : ownKeys(domain, context);
    const published = keysStep.keys.kind === 'ready' ? keysStep.keys.published : [];
    const wanted = wantedDnsRecords(domain, published);

    let publishing: PublishingOutcome | undefined;
    if (viaExternalDns) publishing = await publisher.publish(domain, wanted);
    else if (domain.status?.conditions?.some((entry) => entry.type === 'DnsPublished') === true) {
      // It published through external-dns until now: its DNSEndpoint (and so the records) go.
      await publisher.withdraw(domain);
    }
    const keysEvents =
      keysStep.keys.kind === 'ready'
        ? dkimChangeEvents(
            domain,
            keysStep.keys.secretName,
            keysStep.changes,
            publishing?.kind === 'published' ? dnsEndpointName(domain) : undefined,
          )
        : [];

    const configuredIntervalMs = durationMs(verification.interval) ?? defaultDnsIntervalMs;
    const lastVerified = domain.status?.conditions?.find((entry) => entry.type === 'DnsVerified');
    const intervalMs =
      publishing?.kind === 'published' && lastVerified?.status !== 'True'
        ? Math.min(configuredIntervalMs, publicationCheckMs)
        : configuredIntervalMs;
    let dns: DnsOutcome = { kind: 'disabled' };
    let nextCheckMs: number | undefined;
    if (verification.enabled) {
      const due = dnsCheckDue(domain, wanted, nowMs, intervalMs);
      if (due.due) {
        const answers = await lookupTxt(wanted.map((record) => record.name));
        dns = { kind: 'checked', check: checkDnsRecords(wanted, answers, nowMs) };
        nextCheckMs = nowMs + intervalMs;
      } else {
        dns = due.current;
        nextCheckMs = due.nextMs;
      }
    }

    const desired = senderDomainStatus({ domain, keys: keysStep.keys, wanted, dns, bindings, publishing });
    const current = domain.status as ObjectStatus | undefined;
    const generation = domain.metadata.generation ?? 0;
    if (!sameStatus(current, nextStatus(current, desired, generation, nowMs))) {
      // Compare with the object as it is before writing: right after our own write the cache
      // may be behind, and the status (and its Events) must not be written twice.
      const live = fresh
        ? domain
        : await read<SenderDomainObject>(objectPath(senderDomainResource, parseKey(keyOf(domain))));
      if (live === undefined) return {};
      if (!fresh && live.metadata.resourceVersion !== domain.metadata.resourceVersion) {
        return reconcileDomain(live, context, true, [...earlierEvents, ...keysEvents]);
      }
      const target: WithStatus = {
        apiVersion: live.apiVersion,
        kind: live.kind,
        metadata: live.metadata,
        ...(live.status === undefined ? {} : { status: live.status as ObjectStatus }),
      };
      await status.write(senderDomainResource, target, desired);
    }
    const dnsVerified = desired.conditions?.find((entry) => entry.type === 'DnsVerified');
    options.observer?.senderDomainDns(
      keyOf(domain),
      senderDomainDnsStateOf(dnsVerified?.status ?? 'Unknown'),
      (dns.kind === 'checked' ? dns.check.records : dns.kind === 'current' ? dns.records : []).filter(
        (record) => record.verified === false,
      ),
    );
    for (const event of [...earlierEvents, ...keysEvents, ...conditionEvents(domain.status, desired)]) {
      await events.record(domain, event.type, event.reason, event.message);
    }
    if (publishing?.kind === 'failed' && publishing.retry === true) throw new Error(publishing.message);
    const upcoming = [keysStep.nextChangeMs, nextCheckMs].filter((ms) => ms !== undefined);
    if (upcoming.length === 0) return {};
    return { requeueAfterMs: Math.min(maxRequeueMs, Math.max(1, Math.min(...upcoming) - nowMs)) };
  }

  return {
    name: 'sender-domain',
    primary: {
      resource: senderDomainResource,
      indexes: {
        [senderDomainKeySecretIndex]: (object) => {
          const key = ownKeySecretKey(asSenderDomain(object));
          return key === undefined ? [] : [key];
        },
      },
      references: [senderDomainSecretReferences],
    },
    watches: [
      {
        resource: coreResources.secret,
        labelSelector: ownedSecretSelector,
        mapToKeys: (secret, context) => {
          const owner = controllerKeyOf(secret, 'SenderDomain');
          const users = context
            .cache(senderDomainResource)
            .byIndex(senderDomainKeySecretIndex, keyOf(secret));
          return [...(owner === undefined ? [] : [owner]), ...users.map(keyOf)];
        },
      },
      domainRelayWatch,
      domainRivalWatch,
      domainNamespaceWatch,
    ],
    async reconcile(key, context) {
      const cached = context.cache(senderDomainResource).get(key);
      if (cached === undefined) {
        options.observer?.forgetSenderDomain(key);
        return undefined;
      }
      const domain = asSenderDomain(cached);
      if (domain.metadata.deletionTimestamp !== undefined) return undefined;
      return reconcileDomain(domain, context, false);
    },
  };
}
