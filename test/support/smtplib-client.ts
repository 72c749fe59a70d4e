// examples/clients/send-with-smtplib.py run as written: the token goes into a file, as the kubelet
// writes a projected token, and the script reads it from TOKEN_FILE.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = new URL('../../examples/clients/send-with-smtplib.py', import.meta.url).pathname;

export interface SmtplibSend {
  readonly port: number;
  readonly caFile: string;
  readonly token: string;
  /** Where the token file is written. */
  readonly tokenDir: string;
  readonly from: string;
  readonly mechanism?: 'OAUTHBEARER' | 'XOAUTH2';
}

/** ok with the script's stdout, or not ok with its stderr (`refused: <code> <text>`). */
export async function sendWithSmtplib(send: SmtplibSend): Promise<{ ok: boolean; output: string }> {
  const tokenFile = join(send.tokenDir, randomUUID());
  await writeFile(tokenFile, send.token);
  try {
    const { stdout } = await run('python3', [script], {
      env: {
        PATH: process.env['PATH'] ?? '',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(send.port),
        TOKEN_FILE: tokenFile,
        SMTP_CA_FILE: send.caFile,
        SMTP_AUTH_MECHANISM: send.mechanism ?? 'OAUTHBEARER',
        MAIL_FROM: send.from,
        MAIL_TO: 'someone@example.net',
      },
    });
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: (error as { stderr: string }).stderr };
  }
}
