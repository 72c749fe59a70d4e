// ServiceAccount key rotation against the relay process (relay/main.ts, its file watch and its
// unknown-key re-read): a control plane of its own, restarted with a new signing key, first keeping
// the old public key (the overlap), then without it. The relay config is rewritten with the keys the
// API server serves after each step, as the operator renders them into the ConfigMap.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import {
  createServiceAccount,
  issuerKeys,
  requestToken,
  type IssuerKeys,
} from '../../support/service-account-tokens.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { sendWithSmtplib } from '../../support/smtplib-client.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';

const audience = 'mailfleet.dev/smtp';
let cluster: ControlPlane;
let relay: RelayProcess;
let certificates: TestCertificates;
let tokenDir: string;

const mint = (target: ControlPlane | ReturnType<typeof sharedControlPlane>): Promise<string> =>
  requestToken(target, 'team-a', 'mailer', { audiences: [audience] });

const send = (token: string) =>
  sendWithSmtplib({
    port: relay.smtpPorts['submission'] ?? 0,
    caFile: certificates.caFile,
    token,
    tokenDir,
    from: 'app@a.example',
  });

/** Rewrites tokenAuth.keys in the relay's config file and waits for the relay to reload it. */
async function renderKeys(keys: IssuerKeys): Promise<void> {
  const reloads = relay.logs.filter((line) => line.event === 'reloaded').length;
  const config = JSON.parse(await readFile(relay.configPath, 'utf8')) as { tokenAuth: { keys: unknown } };
  config.tokenAuth.keys = keys.keys;
  await writeFile(relay.configPath, JSON.stringify(config));
  await relay.waitForLog(
    (line) => line.event === 'reloaded' && relay.logs.filter((l) => l.event === 'reloaded').length > reloads,
  );
}

const refusedBy = (reason: string) => (line: { event?: string; reason?: unknown }) =>
  line.event === 'auth_failed' && line.reason === reason;

before(async () => {
  cluster = await startControlPlane({ crdDir: null });
  await createServiceAccount(cluster, 'team-a', 'mailer');
  await createServiceAccount(sharedControlPlane(), 'team-a', 'mailer');
  certificates = await makeTestCertificates(['relay.test']);
  tokenDir = await mkdtemp(join(tmpdir(), 'mailfleet-tokens-'));
  const keys = await issuerKeys(cluster);
  relay = await startRelayProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' }],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    tokenAuth: { issuer: keys.issuer, audiences: [audience], keys: keys.keys, unknownKeyRereadSeconds: 60 },
    policy: { senderDomains: [{ domain: 'a.example', serviceAccounts: [{ namespace: 'team-a' }] }] },
    limits: { greetingDelayMs: 0 },
  });
});

after(async () => {
  await relay.stop();
  await cluster.stop();
  await rm(certificates.dir, { recursive: true, force: true });
  await rm(tokenDir, { recursive: true, force: true });
});

test('rotation: new tokens pass once the new key is rendered, old ones until their key is dropped', async () => {
  const first = await mint(cluster);
  assert.ok((await send(first)).ok, 'a token of the current key');

  // Another cluster with the same issuer name (both are https://kubernetes.default.svc).
  const foreign = await send(await mint(sharedControlPlane()));
  assert.match(foreign.output, /refused: 535 5\.7\.8 /);
  await relay.waitForLog(refusedBy('unknown_key'));

  await cluster.rotateServiceAccountKey({ keepOldKeys: true });
  const second = await mint(cluster);
  // The relay's keys are those of before: a burst of tokens it cannot place re-reads the config once.
  const rereadsBefore = relay.logs.filter((line) => line.event === 'unknown_token_key').length;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    assert.match((await send(second)).output, /refused: 535 5\.7\.8 /);
  }
  assert.equal(relay.logs.filter((line) => line.event === 'unknown_token_key').length, rereadsBefore);

  const overlap = await issuerKeys(cluster);
  assert.equal(overlap.keys.length, 2, 'the API server serves the old and the new key');
  await renderKeys(overlap);
  assert.ok((await send(second)).ok, 'a token of the new key');
  assert.ok((await send(first)).ok, 'a token of the old key, still in the JWKS');

  await cluster.rotateServiceAccountKey({ keepOldKeys: false });
  const third = await mint(cluster);
  await renderKeys(await issuerKeys(cluster));
  assert.ok((await send(third)).ok, 'a token of the newest key');
  for (const retired of [first, second]) {
    assert.match((await send(retired)).output, /refused: 535 5\.7\.8 /, 'a token of a key no longer served');
  }
});

test('an unknown key id re-reads the config at most once per unknownKeyRereadSeconds', () => {
  // Every refusal above with reason unknown_key (1 foreign + 5 + 2 retired) came within the 60 s
  // interval of the first: one re-read, not one per token.
  const unknownKey = relay.logs.filter(refusedBy('unknown_key')).length;
  const rereads = relay.logs.filter((line) => line.event === 'unknown_token_key').length;
  assert.ok(unknownKey >= 8, `${unknownKey} unknown_key refusals`);
  assert.equal(rereads, 1);
});
