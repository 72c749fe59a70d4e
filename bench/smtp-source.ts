// Drives a relay with Postfix's smtp-source and times how long it takes to have every message accepted.
import { spawn } from 'node:child_process';

export const smtpSourcePath = '/usr/sbin/smtp-source';
export const benchSender = 'bench@sender.example';
export const benchRecipient = 'rcpt@sink.example';

export interface SourceLoad {
  readonly sessions: number;
  readonly messages: number;
  readonly payloadBytes: number;
  /** Send every message of a session over one connection (-d) rather than a new connection each. */
  readonly reuseConnections: boolean;
}

export function smtpSourceArguments(load: SourceLoad, port: number): string[] {
  return [
    '-4',
    ...(load.reuseConnections ? ['-d'] : []),
    '-s',
    String(load.sessions),
    '-m',
    String(load.messages),
    '-l',
    String(load.payloadBytes),
    // A distinct recipient per message, so no cache sees an artificial 100% hit rate.
    '-N',
    '-M',
    'source.bench.example',
    '-f',
    benchSender,
    '-t',
    benchRecipient,
    `127.0.0.1:${port}`,
  ];
}

export interface SourceRun {
  readonly elapsedSeconds: number;
  /** smtp-source stops at the first unexpected reply: a non-zero exit means not every message was accepted. */
  readonly exitCode: number;
  readonly diagnostics: string;
}

export async function runSmtpSource(load: SourceLoad, port: number): Promise<SourceRun> {
  const started = process.hrtime.bigint();
  const child = spawn(smtpSourcePath, smtpSourceArguments(load, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let diagnostics = '';
  const collect = (chunk: Buffer): void => {
    diagnostics = (diagnostics + chunk.toString('utf8')).slice(-2000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exitCode = await new Promise<number>((done) => {
    child.once('exit', (code, signal) => {
      done(code ?? (signal === null ? 0 : 128));
    });
  });
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { elapsedSeconds, exitCode, diagnostics: diagnostics.trim() };
}
