// The generated DKIM keys of a SenderDomain over time. Pure: the current Secret, the time, the keys
// made for this plan and the DKIM records DNS verification saw come in; either the keys still to be
// made (`needsKeys`, the shell makes them and plans again with them) or the desired Secret, the
// published selectors, status.dkim, the changes made (for Events) and the time of the next change
// go out.
//
// The Secret (the layout of sender-domain-binding.ts) carries the rotation state in annotations:
// the active selector (the contract), when it started signing, the next selector's switch time once
// its key is published, and the previous selector while it stays published after a switch.
//
// Without rotation the selector is `spec.dkim.selector`. With rotation selectors are numbered
// `<selector>-1`, `<selector>-2`, …: the next key is generated and published `overlap` before the
// switch (`interval` after the active one started), switches then, and the old key stays published
// `overlap` after the switch before it is removed. A switch never happens before its key has been
// published for `overlap`, however late the operator runs.
//
// With automatic publishing (`switchWhenVisible`, the records go to DNS through external-dns) the
// switch also waits until DNS verification has seen every record of the next selector: a key that
// resolvers cannot find yet never signs.
import type { DkimStatus, DnsRecord, SenderDomain } from '../api/types.generated.ts';
import { controllerReference } from '../kube/owner.ts';
import { kubeTime } from '../kube/status-diff.ts';
import { parseDurationSeconds } from './units.ts';
import { managedByLabel, operatorName } from './relay-names.ts';
import {
  dkimActiveSelectorAnnotation,
  dkimDnsSelector,
  generatedDkimKeyName,
  generatedDkimSecretName,
  type SecretObject,
} from './sender-domain-binding.ts';
import {
  decodeSecretValue,
  dkimKeyProblem,
  dkimPublicKeyRecord,
  encodeSecretValue,
  type DkimKeyAlgorithm,
} from './sender-domain-dkim-keys.ts';

export const dkimActiveSinceAnnotation = 'mailfleet.dev/dkim-active-since';
export const dkimNextRotationAnnotation = 'mailfleet.dev/dkim-next-rotation';
export const dkimRetiringSelectorAnnotation = 'mailfleet.dev/dkim-retiring-selector';

export type SelectorRole = 'active' | 'next' | 'retiring';

export interface PublishedSelector {
  readonly selector: string;
  readonly role: SelectorRole;
  /** PEM private keys, in spec.dkim.algorithms order. */
  readonly keys: readonly { readonly algorithm: DkimKeyAlgorithm; readonly privateKeyPem: string }[];
}

export type DkimChange =
  | {
      readonly kind: 'generated';
      readonly selector: string;
      readonly algorithms: readonly DkimKeyAlgorithm[];
      /** When a next key starts signing; undefined for the active selector (it signs at once). */
      readonly signsFromMs?: number;
    }
  | { readonly kind: 'rotated'; readonly from: string; readonly to: string; readonly retiresAtMs: number }
  | { readonly kind: 'retired'; readonly selector: string };

/**
 * Where an automatic rotation stands (with `switchWhenVisible`): `steady` (one selector), `awaitingDns`
 * (the next selector is published and not yet seen by DNS verification), `nextVisible` (seen; it
 * signs at status.dkim.nextRotation), `retiring` (the previous selector stays published for `overlap`).
 */
export type RotationPhase = 'steady' | 'awaitingDns' | 'nextVisible' | 'retiring';

/** A key the plan needs made: the shell generates it and plans again with it in `newKeys`. */
export interface NeededKey {
  readonly selector: string;
  readonly algorithm: DkimKeyAlgorithm;
}

export interface GeneratedDkimPlan {
  readonly ok: true;
  readonly needsKeys?: undefined;
  readonly secret: SecretObject;
  /** Active first, then the next, then the retiring selector. */
  readonly published: readonly PublishedSelector[];
  readonly status: DkimStatus;
  readonly changes: readonly DkimChange[];
  /** When the plan changes next without any input changing (publish, switch, retire). */
  readonly nextChangeMs: number | undefined;
  readonly phase: RotationPhase;
}

export type GeneratedDkimPlanResult =
  | GeneratedDkimPlan
  | { readonly ok: true; readonly needsKeys: readonly NeededKey[] }
  | { readonly ok: false; readonly reason: 'InvalidRotation' | 'SecretNotOwned'; readonly message: string };

export interface GeneratedDkimInput {
  readonly domain: SenderDomain;
  /** The generated Secret as last read, or undefined when it does not exist. */
  readonly secret: SecretObject | undefined;
  readonly nowMs: number;
  /** PEM keys made for this plan, by Secret key (`generatedDkimKeyName`), as `needsKeys` asked. */
  readonly newKeys?: ReadonlyMap<string, string>;
  /** Switch only once DNS verification has seen the next selector's records (automatic publishing). */
  readonly switchWhenVisible?: boolean;
  /** The records the last DNS check found published (status.dnsRecords with `verified`). */
  readonly verifiedRecords?: readonly Pick<DnsRecord, 'name' | 'value' | 'verified'>[];
}

interface Rotation {
  readonly intervalMs: number;
  readonly overlapMs: number;
}

function rotationOf(domain: SenderDomain): Rotation | string | undefined {
  const rotation = domain.spec.dkim.rotation;
  if (rotation === undefined) return undefined;
  const intervalMs = durationMs(rotation.interval);
  const overlapMs = durationMs(rotation.overlap);
  if (intervalMs === undefined || overlapMs === undefined || overlapMs >= intervalMs) {
    return `spec.dkim.rotation: interval "${rotation.interval}" and overlap "${rotation.overlap}" must be durations (e.g. 2160h, 168h) with overlap shorter than interval`;
  }
  return { intervalMs, overlapMs };
}

export function durationMs(text: string): number | undefined {
  try {
    return Math.round(parseDurationSeconds(text) * 1_000);
  } catch {
    return undefined;
  }
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function selectorNumber(selector: string | undefined, prefix: string): number | undefined {
  if (!selector?.startsWith(`${prefix}-`)) return undefined;
  const suffix = selector.slice(prefix.length + 1);
  return /^[1-9][0-9]*$/.test(suffix) ? Number(suffix) : undefined;
}

export function planGeneratedDkim(input: GeneratedDkimInput): GeneratedDkimPlanResult {
  const { domain, secret, nowMs } = input;
  const newKeys = input.newKeys ?? new Map<string, string>();
  const needed: NeededKey[] = [];
  const rotation = rotationOf(domain);
  if (typeof rotation === 'string') return { ok: false, reason: 'InvalidRotation', message: rotation };
  const owner = secret?.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  if (secret !== undefined && (owner?.kind !== 'SenderDomain' || owner.uid !== domain.metadata.uid)) {
    const name = `${domain.metadata.namespace ?? ''}/${generatedDkimSecretName(domain)}`;
    return {
      ok: false,
      reason: 'SecretNotOwned',
      message: `Secret ${name} exists and is not owned by this SenderDomain (uid ${domain.metadata.uid ?? '?'}), so its keys are not replaced: delete or rename it, or use its keys through spec.dkim.privateKeySecretRef`,
    };
  }
  const { algorithms, selector: prefix } = domain.spec.dkim;
  const stamp = Math.floor(nowMs / 1_000) * 1_000;
  const annotations = secret?.metadata?.annotations ?? {};
  const changes: DkimChange[] = [];

  /** The keys `selector` already holds in the Secret that can sign, by algorithm. */
  const existingKeys = (selector: string) => {
    const found = new Map<DkimKeyAlgorithm, string>();
    for (const algorithm of algorithms) {
      const encoded = secret?.data?.[generatedDkimKeyName(selector, algorithm)];
      if (encoded === undefined) continue;
      const pem = decodeSecretValue(encoded);
      if (dkimKeyProblem(pem, algorithm) === undefined) found.set(algorithm, pem);
    }
    return found;
  };
  const hasAllKeys = (selector: string) => existingKeys(selector).size === algorithms.length;
  /** The selector's keys, taking made keys for the missing (or unusable) ones, or asking for them. */
  const ensureKeys = (selector: string, role: SelectorRole, signsFromMs?: number): PublishedSelector => {
    const found = existingKeys(selector);
    const generated = algorithms.filter((algorithm) => !found.has(algorithm));
    for (const algorithm of generated) {
      const made = newKeys.get(generatedDkimKeyName(selector, algorithm));
      if (made === undefined || dkimKeyProblem(made, algorithm) !== undefined) {
        needed.push({ selector, algorithm });
      } else found.set(algorithm, made);
    }
    if (generated.length > 0) {
      changes.push({
        kind: 'generated',
        selector,
        algorithms: generated,
        ...(signsFromMs === undefined ? {} : { signsFromMs }),
      });
    }
    return {
      selector,
      role,
      keys: algorithms.map((algorithm) => ({ algorithm, privateKeyPem: found.get(algorithm) ?? '' })),
    };
  };

  const verified = new Set(
    (input.verifiedRecords ?? [])
      .filter((record) => record.verified === true)
      .map((record) => `${record.name} ${record.value}`),
  );
  /** Whether DNS verification saw every record of the selector (as it is now). */
  const visible = ({ selector, keys }: PublishedSelector) =>
    keys.every(({ algorithm, privateKeyPem }) =>
      verified.has(
        `${dkimDnsSelector(selector, algorithm, algorithms)}._domainkey.${domain.spec.domain} ${dkimPublicKeyRecord(privateKeyPem, algorithm)}`,
      ),
    );

  const previousActive = annotations[dkimActiveSelectorAnnotation];
  const previousSince = parseTime(annotations[dkimActiveSinceAnnotation]);
  let published: PublishedSelector[];
  let state: { activeSince: number; nextRotation?: number; retiring?: string };
  let status: DkimStatus;
  let nextChangeMs: number | undefined;
  let phase: RotationPhase = 'steady';

  if (rotation === undefined) {
    const active = ensureKeys(prefix, 'active');
    if (previousActive !== undefined && previousActive !== prefix) {
      changes.push({ kind: 'retired', selector: previousActive });
    }
    published = [active];
    state = { activeSince: previousActive === prefix ? (previousSince ?? stamp) : stamp };
    status = { activeSelector: prefix };
    nextChangeMs = undefined;
  } else {
    const { intervalMs, overlapMs } = rotation;
    const activeNumber = selectorNumber(previousActive, prefix);
    let activeSelector: string;
    let activeSince: number;
    let nextSelector: string;
    let plannedSwitch: number;
    if (previousActive === undefined || (activeNumber === undefined && !hasAllKeys(previousActive))) {
      // Nothing signs yet (or only a selector whose keys are gone): start at once with `<prefix>-1`.
      activeSelector = `${prefix}-1`;
      activeSince = stamp;
      nextSelector = `${prefix}-2`;
      plannedSwitch = activeSince + intervalMs;
    } else {
      activeSelector = previousActive;
      activeSince = previousSince ?? stamp;
      // A selector from before rotation (or another prefix) hands over to `<prefix>-1` as soon as
      // that key has been published for `overlap`.
      nextSelector = `${prefix}-${(activeNumber ?? 0) + 1}`;
      plannedSwitch = activeNumber === undefined ? stamp : activeSince + intervalMs;
    }
    const publishAt = plannedSwitch - overlapMs;
    const storedSwitch = parseTime(annotations[dkimNextRotationAnnotation]);
    let next: PublishedSelector | undefined;
    let nextRotation: number | undefined;
    if (hasAllKeys(nextSelector) || nowMs >= publishAt) {
      nextRotation = hasAllKeys(nextSelector)
        ? (storedSwitch ?? Math.max(plannedSwitch, stamp + overlapMs))
        : Math.max(plannedSwitch, stamp + overlapMs);
      next = ensureKeys(nextSelector, 'next', nextRotation);
    }
    let retiring = annotations[dkimRetiringSelectorAnnotation];
    let active: PublishedSelector;
    const waitsForDns =
      input.switchWhenVisible === true && !(next !== undefined && needed.length === 0 && visible(next));
    if (next !== undefined && nextRotation !== undefined && nowMs >= nextRotation && !waitsForDns) {
      // The switch: the next key signs now, the old one stays published for `overlap`.
      changes.push({
        kind: 'rotated',
        from: activeSelector,
        to: next.selector,
        retiresAtMs: stamp + overlapMs,
      });
      if (retiring !== undefined && retiring !== activeSelector) {
        changes.push({ kind: 'retired', selector: retiring });
      }
      retiring = activeSelector;
      activeSelector = next.selector;
      activeSince = stamp;
      active = { ...next, role: 'active' };
      next = undefined;
      nextRotation = undefined;
      plannedSwitch = activeSince + intervalMs;
    } else {
      active = ensureKeys(activeSelector, 'active');
    }
    let retiringKeys: PublishedSelector | undefined;
    if (retiring !== undefined && retiring !== activeSelector) {
      const retireAt = activeSince + overlapMs;
      const keys = existingKeys(retiring);
      if (nowMs < retireAt && keys.size > 0) {
        retiringKeys = {
          selector: retiring,
          role: 'retiring',
          keys: algorithms.flatMap((algorithm) => {
            const privateKeyPem = keys.get(algorithm);
            return privateKeyPem === undefined ? [] : [{ algorithm, privateKeyPem }];
          }),
        };
      } else {
        changes.push({ kind: 'retired', selector: retiring });
      }
    }
    published = [
      active,
      ...(next === undefined ? [] : [next]),
      ...(retiringKeys === undefined ? [] : [retiringKeys]),
    ];
    state = {
      activeSince,
      ...(nextRotation === undefined ? {} : { nextRotation }),
      ...(retiringKeys === undefined ? {} : { retiring: retiringKeys.selector }),
    };
    const switchAt = nextRotation ?? plannedSwitch;
    status = {
      activeSelector,
      ...(next === undefined ? {} : { nextSelector: next.selector }),
      nextRotation: kubeTime(switchAt),
    };
    // A switch waiting for DNS comes with the check that sees the records (a status write), not a time.
    const switchDue = next === undefined ? plannedSwitch - overlapMs : waitsForDns ? undefined : switchAt;
    const upcoming = [
      ...(switchDue === undefined ? [] : [switchDue]),
      ...(retiringKeys === undefined ? [] : [activeSince + overlapMs]),
    ];
    nextChangeMs = upcoming.length === 0 ? undefined : Math.min(...upcoming);
    if (input.switchWhenVisible === true) {
      phase =
        next !== undefined
          ? waitsForDns
            ? 'awaitingDns'
            : 'nextVisible'
          : retiringKeys === undefined
            ? 'steady'
            : 'retiring';
    }
  }
  if (needed.length > 0) return { ok: true, needsKeys: needed };

  const data: Record<string, string> = {};
  for (const { selector, keys } of published) {
    for (const { algorithm, privateKeyPem } of keys) {
      data[generatedDkimKeyName(selector, algorithm)] = encodeSecretValue(privateKeyPem);
    }
  }
  const activeSelector = published[0]?.selector ?? prefix;
  const secretAnnotations: Record<string, string> = {
    [dkimActiveSelectorAnnotation]: activeSelector,
    [dkimActiveSinceAnnotation]: kubeTime(state.activeSince),
  };
  if (state.nextRotation !== undefined) {
    secretAnnotations[dkimNextRotationAnnotation] = kubeTime(state.nextRotation);
  }
  if (state.retiring !== undefined) secretAnnotations[dkimRetiringSelectorAnnotation] = state.retiring;
  return {
    ok: true,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: generatedDkimSecretName(domain),
        namespace: domain.metadata.namespace ?? '',
        // The operator caches only the Secrets it labels (or that are named by its objects).
        labels: { [managedByLabel]: operatorName },
        annotations: secretAnnotations,
        ownerReferences: [
          controllerReference({
            apiVersion: domain.apiVersion,
            kind: domain.kind,
            metadata: domain.metadata,
          }),
        ],
      },
      type: 'Opaque',
      data,
    },
    published,
    status,
    changes,
    nextChangeMs,
    phase,
  };
}
