// What a DKIM signature costs with mailauth, a new key object per signature (mailauth as shipped)
// against one key object per key (relay/dkim/key-objects.ts): CPU ms per 2 KB message, RSA-2048 and
// Ed25519, the median of 5 rounds that alternate between the two, each in a fresh process.
// Usage: node hack/dkim-sign-cost.ts [messages per round, default 300]
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { medianOfFreshRounds } from './fresh-process-rounds.ts';

type Mode = 'new key object per signature' | 'key object reused';
const algorithms = { 'RSA-2048': 'rsa-sha256', Ed25519: 'ed25519-sha256' } as const;
type AlgorithmName = keyof typeof algorithms;

async function measure(mode: Mode, name: AlgorithmName, messages: number): Promise<number> {
  if (mode === 'key object reused') (await import('../relay/dkim/key-objects.ts')).reuseKeyObjects();
  const { dkimSign } = await import('mailauth');
  const pair =
    name === 'RSA-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const line = `${'x'.repeat(76)}\r\n`;
  const body = Buffer.from(
    `From: <a@signer.example>\r\nTo: <b@x.example>\r\nSubject: cost\r\n\r\n${line.repeat(26)}`,
  );
  const key = { signingDomain: 'signer.example', selector: 's', privateKey };
  const signOnce = async (): Promise<void> => {
    const options = {
      ...key,
      signatureData: [{ ...key, algorithm: algorithms[name], canonicalization: 'relaxed/relaxed' }],
    };
    const result = await dkimSign(Readable.from([body]), options);
    if (result.errors.length > 0) throw new Error(JSON.stringify(result.errors));
  };
  for (let warm = 0; warm < 50; warm += 1) await signOnce();
  const before = process.cpuUsage();
  for (let sent = 0; sent < messages; sent += 1) await signOnce();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / messages;
}

const [first, modeArgument, nameArgument] = process.argv.slice(2);
if (first === 'child') {
  const cost = await measure(modeArgument as Mode, nameArgument as AlgorithmName, Number(process.argv[5]));
  process.stdout.write(`${cost}\n`);
} else {
  const messages = Number(first ?? 300);
  const modes: Mode[] = ['new key object per signature', 'key object reused'];
  console.log(`| key | ${modes.join(' | ')} | ratio |\n| --- | ---: | ---: | ---: |`);
  for (const name of Object.keys(algorithms) as AlgorithmName[]) {
    const medians = medianOfFreshRounds(import.meta.filename, modes, [name, String(messages)]);
    const [fresh = Number.NaN, reused = Number.NaN] = medians;
    console.log(
      `| ${name} | ${medians.map((ms) => `${ms.toFixed(3)} ms`).join(' | ')} | ${(fresh / reused).toFixed(2)}× |`,
    );
  }
}
