import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SenderDomain } from '../../../operator/api/types.generated.ts';
import { kubeTime } from '../../../operator/kube/status-diff.ts';
import {
  dkimActiveSelectorAnnotation,
  generatedDkimKeyName,
  signingKeys,
  type SecretObject,
} from '../../../operator/render/sender-domain-binding.ts';
import {
  dkimActiveSinceAnnotation,
  dkimNextRotationAnnotation,
  dkimRetiringSelectorAnnotation,
  durationMs,
  planGeneratedDkim,
  type GeneratedDkimInput,
  type GeneratedDkimPlan,
} from '../../../operator/render/sender-domain-dkim-plan.ts';
import { dkimPublicKeyRecord } from '../../../operator/render/sender-domain-dkim-keys.ts';
import { day, hour, KeyPool, senderDomain } from './fixtures.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');

/** The two phases as the reconciler runs them: the keys asked for are made, then the plan takes them. */
function plan(
  domain: SenderDomain,
  secret: SecretObject | undefined,
  nowMs: number,
  pool = new KeyPool(),
  extra: Partial<GeneratedDkimInput> = {},
): GeneratedDkimPlan {
  const input = { domain, secret, nowMs, ...extra };
  const first = planGeneratedDkim(input);
  if (!first.ok) assert.fail(first.message);
  if (first.needsKeys === undefined) return first;
  const newKeys = new Map(
    first.needsKeys.map(({ selector, algorithm }) => [
      generatedDkimKeyName(selector, algorithm),
      pool.generate(algorithm),
    ]),
  );
  const second = planGeneratedDkim({ ...input, newKeys });
  if (!second.ok) assert.fail(second.message);
  if (second.needsKeys !== undefined) assert.fail('keys asked for twice');
  return second;
}

function keyNames(result: GeneratedDkimPlan): string[] {
  return Object.keys(result.secret.data ?? {}).sort();
}

test('durationMs reads the API duration forms and refuses others', () => {
  const cases: [string, number | undefined][] = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2160h', 2160 * 3_600_000],
    ['500ms', 500],
    ['1h0m10s', 3_610_000],
    ['', undefined],
    ['1d', undefined],
    ['-5m', undefined],
    ['1.5h', undefined],
    ['h', undefined],
  ];
  for (const [text, expected] of cases) assert.equal(durationMs(text), expected, text);
});

test('without rotation: one selector, keys generated once, owned by the domain, read back by signingKeys', () => {
  const domain = senderDomain({ dkim: { selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] } });
  const pool = new KeyPool();
  const first = plan(domain, undefined, t0, pool);
  assert.deepEqual(keyNames(first), ['mf.ed25519.pem', 'mf.rsa.pem']);
  assert.deepEqual(first.secret.metadata?.annotations, {
    [dkimActiveSelectorAnnotation]: 'mf',
    [dkimActiveSinceAnnotation]: '2026-01-01T00:00:00Z',
  });
  assert.equal(first.secret.metadata.name, 'example-dkim');
  assert.equal(first.secret.metadata.namespace, 'mail');
  assert.deepEqual(first.secret.metadata.ownerReferences, [
    {
      apiVersion: 'mailfleet.dev/v1alpha1',
      kind: 'SenderDomain',
      name: 'example',
      uid: 'uid-1',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.deepEqual(first.status, { activeSelector: 'mf' });
  assert.deepEqual(first.changes, [
    { kind: 'generated', selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] },
  ]);
  assert.equal(first.nextChangeMs, undefined);
  assert.equal(pool.generated.length, 2);

  const again = plan(domain, first.secret, t0 + 400 * day, pool);
  assert.deepEqual(again.secret, first.secret, 'nothing changes later: no rotation');
  assert.deepEqual(again.changes, []);
  assert.equal(pool.generated.length, 2, 'no key generated twice');

  const keys = signingKeys(domain, first.secret);
  assert.ok(keys.ok);
  assert.deepEqual(
    keys.keys.map((key) => [key.selector, key.algorithm, key.secretKey]),
    [
      ['mf-rsa', 'rsa-sha256', 'mf.rsa.pem'],
      ['mf-ed25519', 'ed25519-sha256', 'mf.ed25519.pem'],
    ],
  );
});

test('rotation over a full cycle: publish overlap before, switch at the interval, retire overlap after', () => {
  const domain = senderDomain({
    dkim: { selector: 'mf', algorithms: ['RSA2048'], rotation: { interval: '240h', overlap: '48h' } },
  });
  const pool = new KeyPool();
  const steps: {
    at: number;
    keys: string[];
    status: GeneratedDkimPlan['status'];
    changes: GeneratedDkimPlan['changes'];
    nextChangeMs: number;
    retiring?: string;
  }[] = [
    {
      at: t0,
      keys: ['mf-1.rsa.pem'],
      status: { activeSelector: 'mf-1', nextRotation: kubeTime(t0 + 10 * day) },
      changes: [{ kind: 'generated', selector: 'mf-1', algorithms: ['RSA2048'] }],
      nextChangeMs: t0 + 8 * day,
    },
    {
      at: t0 + 8 * day - 1_000,
      keys: ['mf-1.rsa.pem'],
      status: { activeSelector: 'mf-1', nextRotation: kubeTime(t0 + 10 * day) },
      changes: [],
      nextChangeMs: t0 + 8 * day,
    },
    {
      at: t0 + 8 * day,
      keys: ['mf-1.rsa.pem', 'mf-2.rsa.pem'],
      status: { activeSelector: 'mf-1', nextSelector: 'mf-2', nextRotation: kubeTime(t0 + 10 * day) },
      changes: [{ kind: 'generated', selector: 'mf-2', algorithms: ['RSA2048'], signsFromMs: t0 + 10 * day }],
      nextChangeMs: t0 + 10 * day,
    },
    {
      at: t0 + 10 * day,
      keys: ['mf-1.rsa.pem', 'mf-2.rsa.pem'],
      status: { activeSelector: 'mf-2', nextRotation: kubeTime(t0 + 20 * day) },
      changes: [{ kind: 'rotated', from: 'mf-1', to: 'mf-2', retiresAtMs: t0 + 12 * day }],
      nextChangeMs: t0 + 12 * day,
      retiring: 'mf-1',
    },
    {
      at: t0 + 12 * day,
      keys: ['mf-2.rsa.pem'],
      status: { activeSelector: 'mf-2', nextRotation: kubeTime(t0 + 20 * day) },
      changes: [{ kind: 'retired', selector: 'mf-1' }],
      nextChangeMs: t0 + 18 * day,
    },
    {
      at: t0 + 18 * day,
      keys: ['mf-2.rsa.pem', 'mf-3.rsa.pem'],
      status: { activeSelector: 'mf-2', nextSelector: 'mf-3', nextRotation: kubeTime(t0 + 20 * day) },
      changes: [{ kind: 'generated', selector: 'mf-3', algorithms: ['RSA2048'], signsFromMs: t0 + 20 * day }],
      nextChangeMs: t0 + 20 * day,
    },
  ];
  let secret: SecretObject | undefined;
  const pemOf = (result: GeneratedDkimPlan, selector: string) =>
    result.published.find((entry) => entry.selector === selector)?.keys[0]?.privateKeyPem;
  let mf2: string | undefined;
  for (const step of steps) {
    const result = plan(domain, secret, step.at, pool);
    const when = new Date(step.at).toISOString();
    assert.deepEqual(keyNames(result), step.keys, when);
    assert.deepEqual(result.status, step.status, when);
    assert.deepEqual(result.changes, step.changes, when);
    assert.equal(result.nextChangeMs, step.nextChangeMs, when);
    assert.equal(result.secret.metadata?.annotations?.[dkimRetiringSelectorAnnotation], step.retiring, when);
    assert.equal(
      result.secret.metadata?.annotations?.[dkimActiveSelectorAnnotation],
      step.status.activeSelector,
    );
    assert.equal(result.published[0]?.role, 'active');
    if (mf2 === undefined) mf2 = pemOf(result, 'mf-2');
    else if (pemOf(result, 'mf-2') !== undefined)
      assert.equal(pemOf(result, 'mf-2'), mf2, 'mf-2 keeps its key');
    secret = result.secret;
  }
  assert.equal(pool.generated.length, 3, 'mf-1, mf-2, mf-3: one key each');
});

test('a late operator never switches to a key that was not published for the overlap', () => {
  const domain = senderDomain({
    dkim: { selector: 'mf', algorithms: ['Ed25519'], rotation: { interval: '240h', overlap: '48h' } },
  });
  const pool = new KeyPool();
  const start = plan(domain, undefined, t0, pool);
  const late = t0 + 35 * day;
  const published = plan(domain, start.secret, late, pool);
  assert.deepEqual(published.status, {
    activeSelector: 'mf-1',
    nextSelector: 'mf-2',
    nextRotation: kubeTime(late + 2 * day),
  });
  assert.equal(
    published.secret.metadata?.annotations?.[dkimNextRotationAnnotation],
    kubeTime(late + 2 * day),
  );
  const beforeSwitch = plan(domain, published.secret, late + 2 * day - 1_000, pool);
  assert.equal(beforeSwitch.status.activeSelector, 'mf-1');
  const switched = plan(domain, published.secret, late + 2 * day, pool);
  assert.equal(switched.status.activeSelector, 'mf-2');
  assert.equal(switched.secret.metadata?.annotations?.[dkimActiveSinceAnnotation], kubeTime(late + 2 * day));
  assert.equal(switched.nextChangeMs, late + 4 * day, 'mf-1 retires overlap after the actual switch');
});

test('turning rotation on hands the plain selector over to <selector>-1 after the overlap', () => {
  const pool = new KeyPool();
  const plain = senderDomain({ dkim: { selector: 'mf', algorithms: ['RSA2048'] } });
  const before = plan(plain, undefined, t0, pool);
  const rotating = senderDomain({
    dkim: { selector: 'mf', algorithms: ['RSA2048'], rotation: { interval: '240h', overlap: '48h' } },
  });
  const handover = plan(rotating, before.secret, t0 + day, pool);
  assert.deepEqual(handover.status, {
    activeSelector: 'mf',
    nextSelector: 'mf-1',
    nextRotation: kubeTime(t0 + 3 * day),
  });
  assert.deepEqual(keyNames(handover), ['mf-1.rsa.pem', 'mf.rsa.pem']);
  const switched = plan(rotating, handover.secret, t0 + 3 * day, pool);
  assert.equal(switched.status.activeSelector, 'mf-1');
  assert.deepEqual(
    switched.published.map((entry) => [entry.selector, entry.role]),
    [
      ['mf-1', 'active'],
      ['mf', 'retiring'],
    ],
  );
  const retired = plan(rotating, switched.secret, t0 + 5 * day, pool);
  assert.deepEqual(keyNames(retired), ['mf-1.rsa.pem']);
});

test('keys that cannot sign are replaced, keys of dropped algorithms and selectors are removed', () => {
  const pool = new KeyPool();
  const both = senderDomain({ dkim: { selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] } });
  const first = plan(both, undefined, t0, pool);
  const broken: SecretObject = {
    ...first.secret,
    data: { ...first.secret.data, 'mf.rsa.pem': Buffer.from('not a key').toString('base64') },
  };
  const repaired = plan(both, broken, t0 + 1_000, pool);
  assert.deepEqual(repaired.changes, [{ kind: 'generated', selector: 'mf', algorithms: ['RSA2048'] }]);
  assert.equal(repaired.secret.data?.['mf.ed25519.pem'], first.secret.data?.['mf.ed25519.pem']);
  assert.notEqual(repaired.secret.data?.['mf.rsa.pem'], broken.data?.['mf.rsa.pem']);

  const edOnly = senderDomain({ dkim: { selector: 'mf', algorithms: ['Ed25519'] } });
  assert.deepEqual(keyNames(plan(edOnly, repaired.secret, t0 + 2_000, pool)), ['mf.ed25519.pem']);

  const renamed = senderDomain({ dkim: { selector: 'mx', algorithms: ['Ed25519'] } });
  const moved = plan(renamed, repaired.secret, t0 + 3_000, pool);
  assert.deepEqual(keyNames(moved), ['mx.ed25519.pem']);
  assert.deepEqual(moved.changes, [
    { kind: 'generated', selector: 'mx', algorithms: ['Ed25519'] },
    { kind: 'retired', selector: 'mf' },
  ]);
});

test('a rotation the planner cannot follow is refused naming the fields', () => {
  const domain = senderDomain({
    dkim: { selector: 'mf', rotation: { interval: '24h', overlap: '48h' } },
  });
  const result = planGeneratedDkim({ domain, secret: undefined, nowMs: t0 });
  assert.ok(!result.ok);
  assert.match(result.message, /spec\.dkim\.rotation: interval "24h" and overlap "48h"/);
});

test('a Secret of that name the domain does not own is never taken over', () => {
  const domain = senderDomain({ dkim: { selector: 'mf' } });
  const foreign: SecretObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'example-dkim', namespace: 'mail' },
    data: { 'mf.rsa.pem': 'eA==' },
  };
  const previousOwner: SecretObject = {
    ...foreign,
    metadata: {
      ...foreign.metadata,
      ownerReferences: [
        {
          apiVersion: 'mailfleet.dev/v1alpha1',
          kind: 'SenderDomain',
          name: 'example',
          uid: 'old-uid',
          controller: true,
        },
      ],
    },
  };
  for (const secret of [foreign, previousOwner]) {
    const result = planGeneratedDkim({ domain, secret, nowMs: t0 });
    assert.ok(!result.ok);
    assert.equal(result.reason, 'SecretNotOwned');
    assert.match(
      result.message,
      /^Secret mail\/example-dkim exists and is not owned by this SenderDomain \(uid uid-1\)/,
    );
  }
});

test('the planner asks for the keys it needs as data and takes them back; unusable ones are asked again', () => {
  const domain = senderDomain({ dkim: { selector: 'mf', algorithms: ['RSA2048', 'Ed25519'] } });
  const first = planGeneratedDkim({ domain, secret: undefined, nowMs: t0 });
  assert.deepEqual(first, {
    ok: true,
    needsKeys: [
      { selector: 'mf', algorithm: 'RSA2048' },
      { selector: 'mf', algorithm: 'Ed25519' },
    ],
  });
  const pool = new KeyPool();
  const rsa = pool.generate('RSA2048');
  const wrongType = new Map([
    ['mf.rsa.pem', rsa],
    ['mf.ed25519.pem', rsa],
  ]);
  assert.deepEqual(planGeneratedDkim({ domain, secret: undefined, nowMs: t0, newKeys: wrongType }), {
    ok: true,
    needsKeys: [{ selector: 'mf', algorithm: 'Ed25519' }],
  });
  const ed25519 = pool.generate('Ed25519');
  const planned = planGeneratedDkim({
    domain,
    secret: undefined,
    nowMs: t0,
    newKeys: new Map([
      ['mf.rsa.pem', rsa],
      ['mf.ed25519.pem', ed25519],
    ]),
  });
  assert.ok(planned.ok && planned.needsKeys === undefined);
  assert.deepEqual(
    planned.published[0]?.keys.map((key) => key.privateKeyPem),
    [rsa, ed25519],
  );
});

test('with publishing through external-dns the switch waits until DNS verification saw the next selector', () => {
  const domain = senderDomain({
    dkim: { selector: 'mf', algorithms: ['RSA2048'], rotation: { interval: '24h', overlap: '1h' } },
  });
  const pool = new KeyPool();
  const auto = { switchWhenVisible: true };
  const start = plan(domain, undefined, t0, pool, auto);
  assert.equal(start.phase, 'steady');
  const listed = plan(domain, start.secret, t0 + 23 * hour, pool, auto);
  assert.equal(listed.phase, 'awaitingDns');
  assert.equal(listed.nextChangeMs, undefined, 'the wait ends with a DNS check, not at a time');
  const mf2 = listed.published.find((entry) => entry.selector === 'mf-2')?.keys[0]?.privateKeyPem ?? '';
  const record = {
    name: 'mf-2._domainkey.example.com',
    value: dkimPublicKeyRecord(mf2, 'RSA2048'),
    verified: true,
  };

  // Past the switch time, not seen: no switch. Seen with another key, or not verified: no switch.
  const late = t0 + 30 * hour;
  const waiting = plan(domain, listed.secret, late, pool, auto);
  assert.equal(waiting.status.activeSelector, 'mf-1');
  assert.equal(waiting.phase, 'awaitingDns');
  assert.deepEqual(waiting.changes, []);
  const otherKey = dkimPublicKeyRecord(start.published[0]?.keys[0]?.privateKeyPem ?? '', 'RSA2048');
  for (const verifiedRecords of [[{ ...record, value: otherKey }], [{ ...record, verified: false }]]) {
    const notYet = plan(domain, listed.secret, late, pool, { ...auto, verifiedRecords });
    assert.equal(notYet.status.activeSelector, 'mf-1');
  }
  // Without publishing the switch is on time, seen or not (the manual path as before).
  assert.equal(plan(domain, listed.secret, late, pool).status.activeSelector, 'mf-2');

  // Seen before its time: visible, the switch at its time; seen after it: the switch at once.
  const visible = plan(domain, listed.secret, t0 + 23 * hour + 60_000, pool, {
    ...auto,
    verifiedRecords: [record],
  });
  assert.equal(visible.phase, 'nextVisible');
  assert.equal(visible.nextChangeMs, t0 + 24 * hour);
  const switched = plan(domain, listed.secret, late, pool, { ...auto, verifiedRecords: [record] });
  assert.equal(switched.status.activeSelector, 'mf-2');
  assert.equal(switched.phase, 'retiring');
  assert.deepEqual(switched.changes, [
    { kind: 'rotated', from: 'mf-1', to: 'mf-2', retiresAtMs: late + hour },
  ]);
  assert.deepEqual(
    switched.published.map((entry) => [entry.selector, entry.role]),
    [
      ['mf-2', 'active'],
      ['mf-1', 'retiring'],
    ],
  );
  const retired = plan(domain, switched.secret, late + hour, pool, auto);
  assert.equal(retired.phase, 'steady');
  assert.deepEqual(retired.changes, [{ kind: 'retired', selector: 'mf-1' }]);
  assert.equal(pool.generated.length, 2, 'mf-1 and mf-2, one key each');
});
