// `make profile` (hack/profile-relay.sh) on a small load: it drives the real relay with smtp-source
// into smtp-sink and reports a rate and the CPU per message of the relay's threads; with
// PROFILE_DKIM it signs every message; with PROFILE_FLOOR it measures hack/floor-server.ts instead.
// Checks the script runs and says what it measured, not the figures.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const script = join(import.meta.dirname, '..', '..', '..', 'hack', 'profile-relay.sh');

function profile(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [script],
      {
        env: { ...process.env, PROFILE_MESSAGES: '60', PROFILE_SESSIONS: '4', PROFILE_WARMUP: '20', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

test('make profile reports the rate and the CPU per message of the main thread', async () => {
  const report = await profile({});
  assert.match(
    report,
    /^60 messages of 2048 bytes from 4 sessions: accepted in [\d.]+ s, delivered end to end in [\d.]+ s \(\d+ msg\/s\)$/m,
  );
  assert.match(report, /^ {2}main thread +user \d+\.\d{3} {2}system \d+\.\d{3}$/m);
  assert.match(report, /^ {2}all threads +user \d+\.\d{3} {2}system \d+\.\d{3} {2}\(total \d+\.\d{3}\)$/m);
  assert.match(report, /^machine \(every process, \/proc\/stat jiffies\): \d+% idle during the run$/m);
});

test('make profile with PROFILE_DKIM signs every message on the signing thread', async () => {
  const report = await profile({ PROFILE_DKIM: 'ed25519-sha256' });
  assert.match(report, /^DKIM signatures made: 60$/m);
  assert.match(report, /^ {2}DKIM signing threads +user \d+\.\d{3}/m);
});

test('make profile receive-only accepts without delivering', async () => {
  const report = await profile({ PROFILE_RECEIVE_ONLY: '1' });
  assert.match(
    report,
    /^60 messages of 2048 bytes from 4 sessions: accepted in [\d.]+ s \(\d+ msg\/s\), none delivered \(receive only\)$/m,
  );
});

test('make profile with PROFILE_FLOOR measures the floor servers instead of the relay', async () => {
  for (const floor of ['raw', 'smtp-server']) {
    // Enough messages that the floor's main thread shows at least one clock tick (10 ms) of CPU:
    // 60 took about 0.05 s, and a thread without a tick has no line.
    const report = await profile({ PROFILE_FLOOR: floor, PROFILE_MESSAGES: '600' });
    assert.match(
      report,
      /^600 messages of 2048 bytes from 4 sessions: accepted in [\d.]+ s \(\d+ msg\/s\), none delivered \(receive only\)$/m,
      floor,
    );
    assert.match(report, /^ {2}main thread +user \d+\.\d{3} {2}system \d+\.\d{3}$/m, floor);
  }
});
