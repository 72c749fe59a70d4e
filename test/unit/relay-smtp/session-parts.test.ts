// The named parts of the session hooks (relay/smtp/session*.ts): the state kept between commands,
// the envelope the spool keeps, and the rate limits of MAIL FROM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { declaredSize, inboundEnvelope, userOf } from '../../../relay/smtp/inbound-envelope.ts';
import type { RateLimiters } from '../../../relay/smtp/live-settings.ts';
import { TokenBuckets } from '../../../relay/smtp/rate-limit.ts';
import { SessionState } from '../../../relay/smtp/session-state.ts';
import { rateLimitRefusal } from '../../../relay/smtp/session-transaction.ts';

function session(fields: Record<string, unknown> = {}): SMTPServerSession {
  return {
    id: 's1',
    remoteAddress: '192.0.2.7',
    clientHostname: '[192.0.2.7]',
    hostNameAppearsAs: 'client.example',
    envelope: { mailFrom: { address: 'a@sender.example', args: {} }, rcptTo: [] },
    ...fields,
  } as unknown as SMTPServerSession;
}

const address = (value: string, extra: Record<string, unknown> = {}): SMTPServerAddress => ({
  address: value,
  args: {},
  ...extra,
});

test('SessionState: a session counted open is counted closed once, one never opened not at all', () => {
  const state = new SessionState();
  const one = session();
  const other = session();
  state.opened(one);
  assert.equal(state.closed(other), false);
  assert.equal(state.closed(one), true);
  assert.equal(state.closed(one), false, 'a second close does not count again');
});

test('SessionState: AUTH failures are counted per session', () => {
  const state = new SessionState();
  const one = session();
  const other = session();
  assert.deepEqual([state.authFailed(one), state.authFailed(one), state.authFailed(other)], [1, 2, 1]);
});

test('SessionState: what MAIL FROM decided belongs to that transaction envelope only', () => {
  const state = new SessionState();
  const first = session();
  const next = session();
  state.beginTransaction(first.envelope, { senderDomain: 'sender.example' });
  assert.deepEqual(state.transaction(first.envelope), { senderDomain: 'sender.example' });
  assert.equal(state.transaction(next.envelope), undefined);
});

test('userOf and declaredSize read only what the client established', () => {
  assert.equal(userOf(session()), undefined);
  assert.equal(userOf(session({ user: '' })), undefined);
  assert.equal(userOf(session({ user: 'app' })), 'app');
  assert.equal(declaredSize(address('a@b.example')), undefined);
  assert.equal(declaredSize(address('a@b.example', { args: { SIZE: '2048' } })), 2048);
  assert.equal(declaredSize(address('a@b.example', { args: { SIZE: true } })), undefined);
});

const envelopeCases: [string, Record<string, unknown>, string | undefined, Record<string, unknown>][] = [
  [
    'a plain transaction: sender, recipient, client, no user, no DSN',
    { envelope: { mailFrom: address('a@sender.example'), rcptTo: [address('r@dest.example')] } },
    undefined,
    {
      mailFrom: 'a@sender.example',
      recipients: [{ address: 'r@dest.example' }],
      smtpUtf8: false,
      eightBitMime: false,
      client: { address: '192.0.2.7', heloName: 'client.example' },
      receivedAt: 1000,
    },
  ],
  [
    'the null sender, DSN (known NOTIFY values only, ORCPT, RET, ENVID), 8BITMIME, SMTPUTF8, user, reverse name, sender domain',
    {
      user: 'app',
      clientHostname: 'host.client.example',
      envelope: {
        mailFrom: false,
        rcptTo: [
          address('r@dest.example', {
            dsn: { notify: ['SUCCESS', 'BOGUS', 'DELAY'], orcpt: 'rfc822;o@x.example' },
          }),
          address('s@dest.example', { dsn: { notify: ['BOGUS'] } }),
        ],
        dsn: { ret: 'HDRS', envid: 'env-1' },
        bodyType: '8bitmime',
        smtpUtf8: true,
      },
    },
    'sender.example',
    {
      mailFrom: '',
      recipients: [
        { address: 'r@dest.example', notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;o@x.example' },
        { address: 's@dest.example' },
      ],
      dsnReturn: 'HDRS',
      dsnEnvelopeId: 'env-1',
      smtpUtf8: true,
      eightBitMime: true,
      client: { address: '192.0.2.7', hostname: 'host.client.example', heloName: 'client.example' },
      authenticatedUser: 'app',
      senderDomain: 'sender.example',
      receivedAt: 1000,
    },
  ],
  [
    'a RET other than FULL or HDRS and an empty HELO are left out',
    {
      hostNameAppearsAs: '',
      envelope: { mailFrom: address('a@sender.example'), rcptTo: [], dsn: { ret: 'SOME', envid: null } },
    },
    undefined,
    {
      mailFrom: 'a@sender.example',
      recipients: [],
      smtpUtf8: false,
      eightBitMime: false,
      client: { address: '192.0.2.7' },
      receivedAt: 1000,
    },
  ],
];

for (const [name, fields, senderDomain, expected] of envelopeCases) {
  test(`inboundEnvelope: ${name}`, () => {
    assert.deepEqual(
      inboundEnvelope(session(fields), senderDomain === undefined ? undefined : { senderDomain }, 1000),
      expected,
    );
  });
}

const bucket = (burst: number): TokenBuckets => new TokenBuckets({ perMinute: 1, burst });
const authBuckets = { authFailuresPerIp: bucket(10), authFailuresPerIpUser: bucket(10) };
const keys = { clientIp: '192.0.2.7', user: 'app', senderDomain: 'sender.example', namespace: 'team' };

test('rateLimitRefusal: no limits configured, nothing refused', () => {
  assert.equal(rateLimitRefusal(authBuckets, keys, 0), undefined);
});

test('rateLimitRefusal: the first exhausted limit in the order client IP, user, sender domain, namespace', () => {
  const limiters: RateLimiters = {
    ...authBuckets,
    perClientIp: bucket(2),
    perUser: bucket(1),
    perSenderDomain: bucket(1),
    perNamespace: bucket(2),
  };
  assert.equal(rateLimitRefusal(limiters, keys, 0), undefined);
  assert.equal(rateLimitRefusal(limiters, keys, 0)?.key, 'user');
  const third = rateLimitRefusal(limiters, keys, 0);
  assert.deepEqual([third?.key, third?.reply.enhancedCode], ['client_ip', '4.7.1']);
  // Every limit took a token each time, also after an earlier one was exhausted.
  assert.equal(limiters.perNamespace?.spent('team', 0), 2);
});

test('rateLimitRefusal: a transaction without a user, sender domain or namespace is not charged to them', () => {
  const limiters: RateLimiters = {
    ...authBuckets,
    perUser: bucket(1),
    perSenderDomain: bucket(1),
    perNamespace: bucket(1),
  };
  const anonymous = { clientIp: '192.0.2.7', user: undefined, senderDomain: undefined, namespace: undefined };
  for (let i = 0; i < 3; i++) assert.equal(rateLimitRefusal(limiters, anonymous, 0), undefined);
  assert.equal(rateLimitRefusal(limiters, { ...anonymous, senderDomain: 'sender.example' }, 0), undefined);
  assert.equal(
    rateLimitRefusal(limiters, { ...anonymous, senderDomain: 'sender.example' }, 0)?.key,
    'sender_domain',
  );
});
