// The reference Postfix must be as durable as mailfleet: its cleanup daemon fsync()s every queue
// file before smtpd may answer 250. Observed with strace on the real daemons, not assumed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startPostfix } from '../../../bench/postfix.ts';
import { processTree } from '../../../bench/process-tree.ts';
import { runProbe } from '../../../bench/smtp-probe.ts';
import { startSmtpSink } from '../../../bench/smtp-sink.ts';

const messages = 3;

test('Postfix fsyncs each accepted message', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'mailfleet-bench-strace-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const sink = await startSmtpSink();
  t.after(() => sink.stop());
  const postfix = await startPostfix({ nextHopPort: sink.port });
  t.after(() => postfix.stop());

  // Trace the daemons already running (an smtpd stays up for the next client) and, through the
  // master, every one it starts later: the calls that make a queue file durable, and the replies.
  const daemons = await processTree(postfix.masterPid);
  const tracePath = join(directory, 'trace');
  const strace = spawn(
    'strace',
    ['-f', '-e', 'trace=fsync', '-o', tracePath, ...daemons.flatMap((daemon) => ['-p', String(daemon.pid)])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const straceExited = new Promise<void>((done) =>
    strace.once('exit', () => {
      done();
    }),
  );
  t.after(async () => {
    strace.kill('SIGINT');
    await straceExited;
  });
  // strace announces nothing once attached; a message through before it attaches would only be missed.
  await new Promise((attached) => setTimeout(attached, 1000));

  const probe = await runProbe({
    port: postfix.port,
    payloadBytes: 1024,
    reuseConnection: true,
    maxMessages: messages,
  });
  assert.deepEqual(probe.failures, []);
  assert.equal(probe.accepted, messages);
  // strace prints a call after it returns; the client may read the reply a moment before that.
  await new Promise((printed) => setTimeout(printed, 500));
  strace.kill('SIGINT');
  await straceExited;

  const trace = await readFile(tracePath, 'utf8');
  // cleanup fsyncs each finished queue file (the only fsync in this set-up) and only then tells
  // smtpd, which answers 250. (A call another process interrupts is split by strace into
  // "fsync(… <unfinished ...>" and "<... fsync resumed>": the first line counts.)
  const fsyncs = trace.split('\n').filter((line) => / fsync\(\d+/.test(line));
  assert.equal(fsyncs.length, messages, trace);
});
