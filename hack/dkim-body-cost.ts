// What a DKIM signature (RSA-2048, relaxed/relaxed) costs the relay for a message streamed through
// mailauth's own canonicalization (a body read from the spool) against one held in memory, hashed
// with native searches (relay/dkim/relaxed-body.ts) and signed from its header section
// (prepared-signer.ts): CPU ms per message, 2 KB and 100 KB, the median of 5 rounds that alternate
// between the two, each in a fresh process. Both paths sign alike (test/unit/relay-dkim).
// Usage: node hack/dkim-body-cost.ts [messages per round, default 300]
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { signMessage } from '../relay/dkim/sign.ts';
import { medianOfFreshRounds } from './fresh-process-rounds.ts';

type Mode = 'streamed through mailauth' | 'in memory';
const modes: Mode[] = ['streamed through mailauth', 'in memory'];
const sizes = [2048, 102_400];

async function measure(mode: Mode, bytes: number, messages: number): Promise<number> {
  const privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const keyring = new Map([
    ['signer.example', [{ selector: 's', algorithm: 'rsa-sha256' as const, privateKeyPem }]],
  ]);
  const line = `${'x'.repeat(76)}\r\n`;
  const message = Buffer.from(
    `From: <a@signer.example>\r\nTo: <b@x.example>\r\nSubject: cost\r\n\r\n${line.repeat(Math.ceil(bytes / line.length))}`,
    'latin1',
  );
  const signOnce = async (): Promise<void> => {
    const source = mode === 'in memory' ? message : () => Readable.from([message]);
    const result = await signMessage(keyring, 'signer.example', source, new Date());
    if (result.errors.length > 0 || result.signatures === '') throw new Error(JSON.stringify(result.errors));
  };
  for (let warm = 0; warm < 50; warm += 1) await signOnce();
  const before = process.cpuUsage();
  for (let sent = 0; sent < messages; sent += 1) await signOnce();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / messages;
}

const [first, modeArgument, bytesArgument, messagesArgument] = process.argv.slice(2);
if (first === 'child') {
  process.stdout.write(
    `${await measure(modeArgument as Mode, Number(bytesArgument), Number(messagesArgument))}\n`,
  );
} else {
  const messages = Number(first ?? 300);
  console.log(`| message | ${modes.join(' | ')} | ratio |\n| --- | ---: | ---: | ---: |`);
  for (const bytes of sizes) {
    const medians = medianOfFreshRounds(import.meta.filename, modes, [String(bytes), String(messages)]);
    const [streamed = Number.NaN, inMemory = Number.NaN] = medians;
    console.log(
      `| ${bytes >= 102_400 ? '100 KB' : '2 KB'} | ${medians.map((ms) => `${ms.toFixed(3)} ms`).join(' | ')} | ${(streamed / inMemory).toFixed(2)}× |`,
    );
  }
}
