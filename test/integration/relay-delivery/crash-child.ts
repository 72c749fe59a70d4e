// Accepts messages into the spool at argv[2] as fast as it can, 8 at a time, printing each queue id
// once accept() resolved (the moment the SMTP side would answer 250). The parent kills it with -9.
import { Readable } from 'node:stream';
import { openSpool } from '../../../relay/queue/spool.ts';

const dir = process.argv[2] ?? '';
const spool = await openSpool({ dir, minFreeBytes: 0, now: () => Date.now() });
const body = `From: <crash@example.org>\r\nSubject: crash test\r\n\r\n${'x'.repeat(2000)}\r\n`;

async function acceptForever(): Promise<never> {
  for (;;) {
    const queueId = spool.newQueueId();
    await spool.accept(
      queueId,
      {
        mailFrom: 'crash@example.org',
        recipients: [{ address: 'sink@x.test' }],
        smtpUtf8: false,
        eightBitMime: false,
        client: { address: '127.0.0.1' },
        receivedAt: Date.now(),
      },
      Readable.from([Buffer.from(body)]),
    );
    process.stdout.write(`accepted ${queueId}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 8 }, acceptForever));
