// docs/security-cases.md cases of the SMTP input, byte-exact over raw sockets against the relay started
// in-process through startRelay() with the real spool.
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { SmtpTestClient } from './smtp-client.ts';

let relay: InProcessRelay;
let proxied: InProcessRelay;
let lenient: InProcessRelay;

before(async () => {
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: {
      allowedNetworks: ['127.0.0.0/8'],
      maxMessageBytes: 100_000,
      maxRecipients: 5,
      recipientDomainsDenied: ['victim.example'],
    },
    limits: { greetingDelayMs: 50, allowedNetworksGreetingDelayMs: 50, maxConnectionsPerIp: 20 },
  });
  proxied = await startRelayInProcess({
    hostname: 'relay.test',
    // Only 192.0.2.1 may send a PROXY header; the test client (127.0.0.1) is not trusted.
    listeners: [
      {
        name: 'smtp',
        port: 0,
        address: '127.0.0.1',
        mode: 'relay',
        proxyProtocolTrustedPeers: ['192.0.2.1'],
      },
    ],
    policy: { allowedNetworks: ['10.0.0.0/8'] },
    limits: { greetingDelayMs: 0 },
  });
  lenient = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'], pipelining: 'lenient' },
    limits: { greetingDelayMs: 0 },
  });
});

after(async () => {
  await relay.stop();
  await proxied.stop();
  await lenient.stop();
});

async function session(target = relay): Promise<SmtpTestClient> {
  const client = await SmtpTestClient.connect(target.port());
  assert.equal((await client.reply()).code, 220);
  return client;
}

async function transaction(client: SmtpTestClient, recipients = ['rcpt@example.com']): Promise<void> {
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<sender@example.org>')).code, 250);
  for (const recipient of recipients)
    assert.equal((await client.command(`RCPT TO:<${recipient}>`)).code, 250);
  assert.equal((await client.command('DATA')).code, 354);
}

function queued(): number {
  return relay.spool.size();
}

test('ESMTP: EHLO advertises the extensions; every reply carries an enhanced status code', async () => {
  const client = await session();
  const ehlo = await client.command('EHLO client.test');
  for (const extension of [
    'PIPELINING',
    '8BITMIME',
    'SMTPUTF8',
    'ENHANCEDSTATUSCODES',
    'DSN',
    'SIZE 100000',
  ]) {
    assert.ok(
      ehlo.lines.some((line) => line.slice(4) === extension),
      `${extension} missing:\n${ehlo.text}`,
    );
  }
  assert.ok(!ehlo.lines.some((line) => line.includes('STARTTLS')), 'no STARTTLS without a certificate');
  assert.match((await client.command('VRFY someone')).text, /^252 2\.\d\.\d /);
  assert.match((await client.command('NOOP')).text, /^250 2\.0\.0 /);
  assert.match(
    (await client.command('MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8')).text,
    /^250 2\.1\.0 /,
  );
  assert.match(
    (await client.command('RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE')).text,
    /^250 2\.1\.5 /,
  );
  assert.match((await client.command('RSET')).text, /^250 2\.0\.0 /);
  assert.match((await client.command('QUIT')).text, /^221 2\.0\.0 /);
});

test('a message is queued with its DSN parameters, and 250 names the queue id', async () => {
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<s@example.org> RET=HDRS ENVID=abc123')).code, 250);
  assert.equal(
    (await client.command('RCPT TO:<r@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;r@example.com')).code,
    250,
  );
  assert.equal((await client.command('DATA')).code, 354);
  const done = await client.command('Subject: hi\r\n\r\nhello\r\n.');
  const queueId = /^250 2\.6\.0 Ok: queued as (\S+)$/.exec(done.text)?.[1];
  assert.ok(queueId, done.text);
  const message = relay.spool.show(queueId);
  assert.ok(message, 'the message is in the spool');
  const headerSection = (await relay.spool.readHeaderSection(queueId, 4096)).toString();
  assert.match(
    headerSection,
    new RegExp(
      `^Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.test \\(mailfleet\\) with ESMTP id ${queueId};`,
    ),
  );
  assert.ok(
    relay.logs.some(
      (line) => line.event === 'received' && line['queueId'] === queueId && line['recipients'] === 1,
    ),
  );
  client.close();
});

for (const [name, sequence] of [
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<LF>.<LF>', '\n.\n'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR><LF>.<CR><CR><LF>', '\r\n.\r\r\n'],
] as const) {
  test(`case 1: smuggling with ${name} yields one refused transaction, never a second message`, async () => {
    const before = queued();
    const client = await session();
    await transaction(client);
    client.write(
      `Subject: one\r\n\r\nbody${sequence}MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n`,
    );
    const reply = await client.reply();
    assert.match(reply.text, /^550 5\.5\.2 /);
    assert.match((await client.command('NOOP')).text, /^250 /, 'the session is back in command state');
    assert.equal(queued(), before, 'nothing was queued');
    client.close();
  });
}

test('case 3: without users AUTH is neither advertised nor accepted (with users: tls-auth.test.ts)', async () => {
  const client = await session();
  const ehlo = await client.command('EHLO client.test');
  assert.ok(!ehlo.lines.some((line) => line.includes('AUTH')), ehlo.text);
  assert.ok((await client.command('AUTH PLAIN AGFsaWNlAHNlY3JldA==')).code >= 500);
  client.close();
});

test('case 5: outside the allowed networks every recipient gets 554 5.7.1 and nothing is queued', async () => {
  const client = await session(proxied);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.match((await client.command('MAIL FROM:<a@example.org>')).text, /^554 5\.7\.1 /);
  assert.match((await client.command('RCPT TO:<b@example.com>')).text, /^5\d\d /);
  assert.equal(proxied.spool.size(), 0);
  client.close();
});

for (const address of [
  'user%victim.example@example.com',
  'victim.example!user@example.com',
  '"user@victim.example"@example.com',
  // The route names the denied domain and the mailbox does not: only the source-route refusal
  // (case 32) stops it, not recipientDomainsDenied.
  '@victim.example:user@example.com',
  'user@victim.example@example.com',
  'user@[192.0.2.7]',
]) {
  test(`case 6: routing trick ${address} is refused`, async () => {
    const client = await session();
    assert.equal((await client.command('EHLO client.test')).code, 250);
    assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
    const reply = await client.command(`RCPT TO:<${address}>`);
    assert.ok(reply.code >= 500, reply.text);
    client.close();
  });
}

test('case 6: upper case or a trailing dot cannot dodge the recipient deny list', async () => {
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
  assert.match((await client.command('RCPT TO:<a@VICTIM.Example>')).text, /^554 5\.7\.1 /);
  assert.ok((await client.command('RCPT TO:<a@victim.example.>')).code >= 500);
  assert.ok((await client.command('RCPT TO:<a@mx.victim.example>')).code >= 500);
  client.close();
});

const senderRouteRefused = '553 5.1.7 Source routes are not accepted in the sender address';
const recipientRouteRefused = '553 5.1.3 Source routes are not accepted in recipient addresses';

for (const [name, command, expected] of [
  ['MAIL with one hop', 'MAIL FROM:<@relay.example:sender@example.org>', senderRouteRefused],
  ['MAIL with two hops', 'MAIL FROM:<@a.example,@b.example:sender@example.org>', senderRouteRefused],
  ['MAIL with a space and lower case', 'mail from: <@relay.example:sender@example.org>', senderRouteRefused],
  ['MAIL with a SIZE parameter', 'MAIL FROM:<@relay.example:sender@example.org> SIZE=10', senderRouteRefused],
  ['RCPT with one hop', 'RCPT TO:<@relay.example:user@example.com>', recipientRouteRefused],
  ['RCPT with two hops', 'RCPT TO:<@a.example,@b.example:user@example.com>', recipientRouteRefused],
  ['RCPT with an address-literal hop', 'RCPT TO:<@[192.0.2.1]:user@example.com>', recipientRouteRefused],
  ['RCPT in mixed case', 'Rcpt To:<@Relay.EXAMPLE:User@Example.COM>', recipientRouteRefused],
  [
    'RCPT with a DSN parameter',
    'RCPT TO:<@relay.example:user@example.com> NOTIFY=NEVER',
    recipientRouteRefused,
  ],
] as const) {
  test(`case 32: source route refused, ${name}`, async () => {
    const client = await session();
    assert.equal((await client.command('EHLO client.test')).code, 250);
    if (command.toUpperCase().startsWith('RCPT'))
      assert.equal((await client.command('MAIL FROM:<sender@example.org>')).code, 250);
    assert.equal((await client.command(command)).text, expected);
    if (command.toUpperCase().startsWith('RCPT')) {
      assert.match((await client.command('DATA')).text, /^503 /, 'the routed recipient was not added');
      assert.equal((await client.command('RCPT TO:<user@example.com>')).code, 250);
    } else {
      assert.equal((await client.command('MAIL FROM:<sender@example.org>')).code, 250);
    }
    client.close();
  });
}

test('case 8: SIZE above the limit gets 552 5.3.4 at MAIL', async () => {
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.match((await client.command('MAIL FROM:<a@example.org> SIZE=100001')).text, /^552 5\.3\.4 /);
  client.close();
});

test('case 8: an undeclared oversize body gets 552 5.3.4 after the dot; nothing queued', async () => {
  const before = queued();
  const client = await session();
  await transaction(client);
  const line = `${'x'.repeat(998)}\r\n`;
  client.write('Subject: big\r\n\r\n');
  for (let i = 0; i < 2000; i++) client.write(line);
  client.write('.\r\n');
  assert.match((await client.reply()).text, /^552 5\.3\.4 /);
  assert.equal(queued(), before);
  client.close();
});

const lineTooLong = '550 5.5.2 Line longer than 998 octets in message data is not accepted';

/** Sends the pieces as separate TCP segments (a pause after each), then the final dot. */
async function sendInSegments(client: SmtpTestClient, pieces: readonly string[]): Promise<void> {
  for (const piece of pieces) {
    client.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  client.write('.\r\n');
}

for (const [name, pieces, expected] of [
  ['a 998-octet line is accepted', [`Subject: 998\r\n\r\n${'x'.repeat(998)}\r\n`], /^250 2\.6\.0 /],
  ['a 999-octet line is refused', [`Subject: 999\r\n\r\n${'x'.repeat(999)}\r\n`], lineTooLong],
  ['a 999-octet header line is refused', [`X-Long: ${'h'.repeat(991)}\r\n\r\nbody\r\n`], lineTooLong],
  [
    'a 998-octet line split across TCP segments, its CR and LF apart, is accepted',
    ['Subject: split\r\n\r\n', 'x'.repeat(500), `${'x'.repeat(498)}\r`, '\nend\r\n'],
    /^250 2\.6\.0 /,
  ],
  [
    'a 999-octet line split across TCP segments is refused',
    ['Subject: split\r\n\r\n', 'x'.repeat(500), 'x'.repeat(499), '\r\nend\r\n'],
    lineTooLong,
  ],
  [
    'a dot-stuffed line of 998 octets (999 on the wire) is accepted',
    [`Subject: dot\r\n\r\n..${'x'.repeat(997)}\r\n`],
    /^250 2\.6\.0 /,
  ],
  ['a 64 KiB line is refused', [`Subject: huge\r\n\r\n${'x'.repeat(65_536)}\r\n`], lineTooLong],
] as const) {
  test(`case 34: ${name}`, async () => {
    const before = queued();
    const client = await session();
    await transaction(client);
    await sendInSegments(client, pieces);
    const reply = await client.reply();
    if (typeof expected === 'string') {
      assert.equal(reply.text, expected);
      assert.equal(queued(), before, 'nothing was queued');
    } else {
      assert.match(reply.text, expected);
      const queueId = /queued as (\S+)/.exec(reply.text)?.[1] ?? '';
      const body = await text(relay.spool.openBody(queueId));
      const longest = Math.max(...body.split('\r\n').map((line) => line.length));
      assert.equal(longest, 998, 'the longest line is queued whole, unfolded');
    }
    assert.match((await client.command('NOOP')).text, /^250 /, 'the session is back in command state');
    client.close();
  });
}

test('case 9: recipients beyond the limit get 452 4.5.3', async () => {
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
  for (let i = 0; i < 5; i++) assert.equal((await client.command(`RCPT TO:<r${i}@example.com>`)).code, 250);
  assert.match((await client.command('RCPT TO:<r5@example.com>')).text, /^452 4\.5\.3 /);
  client.close();
});

test('case 10: a 10 KB line without LF is refused and the connection closed', async () => {
  const client = await session();
  client.write('EHLO '.padEnd(10 * 1024, 'a'));
  const reply = await client.reply();
  assert.ok(reply.code === 500 || reply.code === 421, reply.text);
  await client.closedByServer();
});

for (const [name, command] of [
  ['NUL in EHLO', 'EHLO a\0b'],
  ['lone CR in EHLO', 'EHLO a\rb'],
  ['control byte in MAIL', 'MAIL FROM:<a\x01b@example.org>'],
  ['NUL in RCPT', 'RCPT TO:<a\0b@example.com>'],
] as const) {
  test(`case 10: ${name} is answered 501`, async () => {
    const client = await session();
    if (!command.startsWith('EHLO')) {
      assert.equal((await client.command('EHLO client.test')).code, 250);
      if (command.startsWith('RCPT'))
        assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
    }
    const reply = await client.command(command);
    assert.equal(reply.code, 501, reply.text);
    client.close();
  });
}

test('case 13: an early talker gets 421 and is disconnected', async () => {
  const client = await SmtpTestClient.connect(relay.port());
  client.write('EHLO early.test\r\n');
  const reply = await client.reply();
  assert.equal(reply.code, 421, reply.text);
  await client.closedByServer();
});

test('case 13: an HTTP request gets 421 and is disconnected', async () => {
  const client = await session();
  const reply = await client.command('GET / HTTP/1.1');
  assert.equal(reply.code, 421, reply.text);
  await client.closedByServer();
});

test('case 14: a whole transaction with its body sent before 354 is refused with 554 5.5.0', async () => {
  const before = queued();
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  client.write(
    'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: eager\r\n\r\nbody\r\n.\r\n',
  );
  const replies = [await client.reply(), await client.reply(), await client.reply(), await client.reply()];
  assert.deepEqual(
    replies.slice(0, 3).map((reply) => reply.code),
    [250, 250, 354],
  );
  assert.match(replies[3]?.text ?? '', /^554 5\.5\.0 /);
  assert.equal(queued(), before);
  client.close();
});

test('case 14: a pipelined MAIL/RCPT/DATA group that waits for 354 is accepted', async () => {
  const client = await session();
  assert.equal((await client.command('EHLO client.test')).code, 250);
  client.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n');
  assert.deepEqual(
    [(await client.reply()).code, (await client.reply()).code, (await client.reply()).code],
    [250, 250, 354],
  );
  assert.match((await client.command('Subject: ok\r\n\r\nbody\r\n.')).text, /^250 2\.6\.0 /);
  client.close();
});

test('case 14, policy.pipelining lenient: a body sent before 354 is accepted and queued whole', async () => {
  const before = lenient.spool.size();
  const client = await session(lenient);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  client.write(
    'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: eager\r\n\r\nbody\r\n.\r\n',
  );
  const replies = [await client.reply(), await client.reply(), await client.reply(), await client.reply()];
  assert.deepEqual(
    replies.map((reply) => reply.code),
    [250, 250, 354, 250],
  );
  assert.match(replies[3]?.text ?? '', /^250 2\.6\.0 Ok: queued as (\S+)/);
  const queueId = /queued as (\S+)/.exec(replies[3]?.text ?? '')?.[1] ?? '';
  assert.equal(lenient.spool.size(), before + 1);
  assert.match(await text(lenient.spool.openBody(queueId)), /\r\nSubject: eager\r\n\r\nbody\r\n$/);
  client.close();
});

test('case 15: a PROXY header from an untrusted peer is not honoured; policy sees the real address', async () => {
  const client = await SmtpTestClient.connect(proxied.port());
  client.write('PROXY TCP4 10.1.2.3 127.0.0.1 12345 25\r\n');
  const first = await client.reply();
  // Either refused as an early talker or as an unknown command: never a session from 10.1.2.3.
  assert.ok(first.code === 421 || first.code === 220, first.text);
  if (first.code === 220) {
    const proxyReply = await client.reply();
    assert.ok(proxyReply.code >= 500, proxyReply.text);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    assert.match(
      (await client.command('MAIL FROM:<a@example.org>')).text,
      /^554 5\.7\.1 /,
      '10.0.0.0/8 is allowed, 127.0.0.1 is not',
    );
  }
  client.close();
});

test('case 16: a message with more than 50 Received: headers is refused with 554 5.4.6', async () => {
  const before = queued();
  const client = await session();
  await transaction(client);
  const reply = await client.command(
    `${'Received: from a by b; now\r\n'.repeat(51)}Subject: loop\r\n\r\nx\r\n.`,
  );
  assert.match(reply.text, /^554 5\.4\.6 /);
  assert.equal(queued(), before);
  client.close();
});

test('case 17: CR/LF cannot reach the Received: header through HELO', async () => {
  const client = await session();
  const reply = await client.command('EHLO evil.test\rBcc: x@example.com');
  assert.equal(reply.code, 501);
  client.close();
});

test('metrics count rejections by bounded reason', async () => {
  const text = await relay.registry.metrics();
  assert.match(text, /mailfleet_relay_rejections_total\{listener="smtp",reason="bare_line_ending"\} [1-9]/);
  assert.match(text, /mailfleet_relay_messages_received_total\{listener="smtp"\} [1-9]/);
});

test('case 15: a PROXY header from a trusted peer is honoured; policy sees the proxied client', async () => {
  const trusting = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [
      {
        name: 'smtp',
        port: 0,
        address: '127.0.0.1',
        mode: 'relay',
        proxyProtocolTrustedPeers: ['127.0.0.1'],
      },
    ],
    policy: { allowedNetworks: ['10.0.0.0/8'] },
    limits: { greetingDelayMs: 0 },
  });
  try {
    const client = await SmtpTestClient.connect(trusting.port());
    client.write('PROXY TCP4 10.1.2.3 127.0.0.1 12345 25\r\n');
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    assert.match((await client.command('MAIL FROM:<a@example.org>')).text, /^250 /);
    client.close();
  } finally {
    await trusting.stop();
  }
});
