// The relay relies on private internals of smtp-server, nodemailer and mailauth (docs/performance.md
// lists them and what each gains). The three are pinned exactly in package.json; this test is
// what an upgrade meets first. For each internal it checks, on the real classes and instances, that
// it exists with the arity the override assumes and that its source is still the one the override was
// written against (a fingerprint of the whitespace-normalised function text). A failure names the
// internal, the override that depends on it and what to re-check, and only then should the
// fingerprint be updated here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough, Transform } from 'node:stream';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import NodemailerConnection from 'nodemailer/lib/smtp-connection';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

const repoRoot = new URL('../../../', import.meta.url);
const requireMailauth = createRequire(new URL('relay/dkim/prepared-signer.ts', repoRoot));

function fingerprint(member: unknown): string {
  return createHash('sha256').update(String(member).replace(/\s+/g, ' ')).digest('hex').slice(0, 16);
}

/** A member of a prototype, read without calling it. */
function memberOf(prototype: object, name: string): unknown {
  return (prototype as Record<string, unknown>)[name];
}

/** nodemailer's DataStream is not exported: a real connection makes one, as the relay's seam sees it. */
function nodemailerSendStream(): Transform & Record<string, unknown> {
  const connection = new NodemailerConnection({}) as unknown as Record<string, unknown> & {
    _createSendStream(callback: unknown): Transform & Record<string, unknown>;
  };
  connection['_socket'] = new PassThrough();
  connection['_envelope'] = { accepted: [] };
  return connection._createSendStream(() => undefined);
}

interface Contract {
  /** library and member, as the failure names it */
  readonly internal: string;
  readonly member: () => unknown;
  readonly arity: number;
  readonly fingerprint: string;
  /** Which override depends on it, and what to re-check when it changed. */
  readonly reliedOnBy: string;
}

const contracts: readonly Contract[] = [
  {
    internal: 'smtp-server SMTPServer.prototype._handleProxy',
    member: () => memberOf(SMTPServer.prototype, '_handleProxy'),
    arity: 2,
    fingerprint: '95b040fae0e7981d',
    reliedOnBy:
      'relay/smtp/connection.ts RelaySmtpServer._handleProxy answers for clients without a PROXY header ' +
      'itself ({ id, ignore } from options.ignoredHosts, synchronously) and calls this one otherwise. ' +
      "Re-check that upstream's non-PROXY branch still computes only id and ignore.",
  },
  {
    internal: 'smtp-server SMTPServer.prototype._expectsProxyHeader',
    member: () => memberOf(SMTPServer.prototype, '_expectsProxyHeader'),
    arity: 1,
    fingerprint: '19b909b66bd36da3',
    reliedOnBy:
      'RelaySmtpServer._handleProxy decides with it whether a PROXY header is expected (options.useProxy).',
  },
  {
    internal: 'smtp-server SMTPServer.prototype.connect',
    member: () => memberOf(SMTPServer.prototype, 'connect'),
    arity: 2,
    fingerprint: '760cd6611cf58d7f',
    reliedOnBy:
      'RelaySmtpServer.connect repeats its body with RelayConnection in place of SMTPConnection ' +
      "(connections.add, 'error' → _onError, 'connect' → _onClientConnect, init()): copy any new step.",
  },
  {
    internal: 'smtp-server SMTPConnection.prototype.init',
    member: () => memberOf(SMTPConnection.prototype, 'init'),
    arity: 0,
    fingerprint: '67b68fcaf9a0a35f',
    reliedOnBy:
      'RelayConnection.init replaces it: _setListeners(callback), then connection slots instead of ' +
      'maxClients and greetingDelayMs instead of the fixed 100 ms before connectionReady(). A new step ' +
      'upstream must be added there.',
  },
  {
    internal: 'smtp-server SMTPConnection.prototype._setListeners',
    member: () => memberOf(SMTPConnection.prototype, '_setListeners'),
    arity: 1,
    fingerprint: 'cbf83a7bef4c02a3',
    reliedOnBy:
      'RelayConnection.init calls it with the callback that admits the connection and schedules the banner; ' +
      'it must still wire the socket and call the callback once.',
  },
  {
    internal: 'smtp-server SMTPConnection.prototype._createParser',
    member: () => memberOf(SMTPConnection.prototype, '_createParser'),
    arity: 0,
    fingerprint: '969851c58da15fb6',
    reliedOnBy:
      'RelayConnection._createParser is this method with RelaySmtpParser for SMTPStream (and the time of ' +
      'the last command noted): copy any change to the wiring (oncommand, the error reply).',
  },
  {
    internal: 'smtp-server SMTPStream.prototype._feedDataStream',
    member: () => memberOf(SMTPStream.prototype, '_feedDataStream'),
    arity: 2,
    fingerprint: 'f8d36018f7c40bea',
    reliedOnBy:
      'relay/smtp/data-parser.ts RelaySmtpParser._feedDataStream is a copy of it with indexOf for the ' +
      'per-byte loop: port every upstream change (end-of-data and escape-dot checks, the 4 bytes kept ' +
      'across chunks, back-pressure) and run test/unit/relay-smtp/data-parser.test.ts.',
  },
  {
    internal: 'nodemailer SMTPConnection.prototype._createSendStream',
    member: () => memberOf(NodemailerConnection.prototype, '_createSendStream'),
    arity: 1,
    fingerprint: 'ff8d726d825191a4',
    reliedOnBy:
      "relay/delivery/dot-stuffing.ts useFastDotStuffing wraps it per connection and replaces the returned DataStream's " +
      '_transform and _flush: it must still return the DataStream it pipes to the socket.',
  },
  {
    internal: 'nodemailer DataStream.prototype._transform',
    member: () => memberOf(Object.getPrototypeOf(nodemailerSendStream()) as object, '_transform'),
    arity: 3,
    fingerprint: '1f6c058f1f708b7a',
    reliedOnBy:
      'stuffChunk replaces it and keeps its state (inByteCount, outByteCount, lastByte): port any change to ' +
      'the escaping and run test/unit/relay-delivery/dot-stuffing.test.ts.',
  },
  {
    internal: 'nodemailer DataStream.prototype._flush',
    member: () => memberOf(Object.getPrototypeOf(nodemailerSendStream()) as object, '_flush'),
    arity: 1,
    fingerprint: 'eb7042ef7a1a32e5',
    reliedOnBy:
      'endOfData in dot-stuffing.ts is what it writes after the body, by the last byte: port any change.',
  },
  {
    internal:
      'mailauth DkimSigner (lib/dkim/dkim-signer.js), with its headers and bodyHash options and finalize()',
    member: () =>
      (requireMailauth('mailauth/lib/dkim/dkim-signer.js') as Record<string, unknown>)['DkimSigner'],
    arity: 1,
    fingerprint: '84f8f6f680c11e8d',
    reliedOnBy:
      'relay/dkim/prepared-signer.ts signPrepared: it constructs a signer with a parsed header section and a body ' +
      "hash made beforehand and calls finalize(), as mailauth's ARC sealer does. Re-check that both options still " +
      'skip the body pass and run test/unit/relay-dkim/prepared-signer.test.ts.',
  },
  {
    internal: 'mailauth parseHeaders (lib/tools.js)',
    member: () => (requireMailauth('mailauth/lib/tools.js') as Record<string, unknown>)['parseHeaders'],
    arity: 1,
    fingerprint: 'e7d632a790bd48c2',
    reliedOnBy:
      "relay/dkim/prepared-signer.ts parses the header section with it for the signer, as mailauth's own " +
      'message parser does: run test/unit/relay-dkim/prepared-signer.test.ts.',
  },
];

test('smtp-server, nodemailer and mailauth are pinned exactly, and the installed versions are the pinned ones', async () => {
  const manifest = JSON.parse(await readFile(new URL('package.json', repoRoot), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const library of ['smtp-server', 'nodemailer', 'mailauth']) {
    const pinned = manifest.dependencies[library] ?? '';
    assert.match(
      pinned,
      /^\d+\.\d+\.\d+$/,
      `${library} must be pinned exactly (its internals are overridden), not ${pinned}`,
    );
    const installed = JSON.parse(
      await readFile(new URL(`node_modules/${library}/package.json`, repoRoot), 'utf8'),
    ) as { version: string };
    assert.equal(
      installed.version,
      pinned,
      `${library} ${installed.version} is installed, package.json pins ${pinned}: npm ci`,
    );
  }
});

for (const contract of contracts) {
  test(`internal: ${contract.internal}`, () => {
    const member = contract.member();
    assert.equal(
      typeof member,
      'function',
      `${contract.internal} is gone. It is relied on by ${contract.reliedOnBy}`,
    );
    const fn = member as (...args: unknown[]) => unknown;
    assert.equal(
      fn.length,
      contract.arity,
      `${contract.internal} now takes ${fn.length} parameters, not ${contract.arity}. It is relied on by ${contract.reliedOnBy}`,
    );
    assert.equal(
      fingerprint(fn),
      contract.fingerprint,
      `${contract.internal} changed in this version of the library. It is relied on by ${contract.reliedOnBy} ` +
        'When the override is brought in line (or removed), put the new fingerprint here.',
    );
  });
}

test("smtp-server's accept path still calls _handleProxy(socket, callback), then connect(socket, { id, ignore })", async () => {
  const calls: string[] = [];
  let options: unknown;
  class Watched extends SMTPServer {
    override _handleProxy(socket: Socket, callback: Parameters<SMTPServer['_handleProxy']>[1]): void {
      calls.push('_handleProxy');
      super._handleProxy(socket, callback);
    }
    override connect(socket: Socket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
      calls.push('connect');
      options = socketOptions;
      super.connect(socket, socketOptions);
    }
  }
  const server = new Watched({ logger: false, disabledCommands: ['STARTTLS'], ignoredHosts: ['127.0.0.1'] });
  await new Promise<void>((listening) => {
    server.listen(0, '127.0.0.1', listening);
  });
  const { port } = server.server.address() as AddressInfo;
  const client = connect(port, '127.0.0.1');
  const banner = await new Promise<string>((resolve) =>
    client.once('data', (data) => {
      resolve(data.toString());
    }),
  );
  client.destroy();
  await new Promise<void>((closed) => {
    server.close(() => {
      closed();
    });
  });
  assert.match(banner, /^220 /);
  assert.deepEqual(calls, ['_handleProxy', 'connect'], 'RelaySmtpServer overrides both at these names');
  assert.deepEqual(
    Object.keys(options as object).sort(),
    ['id', 'ignore'],
    'the socketOptions RelaySmtpServer builds',
  );
  assert.equal((options as { ignore: boolean }).ignore, true);
});

test('smtp-server SMTPConnection still makes its parser with _createParser, for the session and after STARTTLS', () => {
  const source = String(SMTPConnection);
  assert.equal(
    source.match(/this\._parser = this\._createParser\(\)/g)?.length,
    2,
    'RelayConnection._createParser installs RelaySmtpParser at this seam: both parsers must come from it',
  );
});

test('the SMTPStream state RelaySmtpParser._feedDataStream reads and writes exists on a real parser in data mode', () => {
  const parser = new SMTPStream() as unknown as Record<string, unknown> & {
    startDataMode(size?: number): unknown;
  };
  parser.startDataMode(0);
  assert.ok(parser['_dataStream'] !== undefined && parser['_dataStream'] !== false, '_dataStream');
  for (const [member, arity] of [
    ['_endDataMode', 3],
    ['_countDataBytes', 1],
  ] as const) {
    const fn = parser[member];
    assert.equal(typeof fn, 'function', `SMTPStream.${member} is gone (data-parser.ts calls it)`);
    assert.equal((fn as () => void).length, arity, `SMTPStream.${member} arity`);
  }
  assert.equal(parser['_atDataStart'], true, 'SMTPStream._atDataStart (data-parser.ts reads it)');
  assert.ok('_lastBytes' in parser, 'SMTPStream._lastBytes (data-parser.ts keeps the last 4 bytes there)');
  assert.equal(typeof parser['dataBytes'], 'number', 'SMTPStream.dataBytes (connection.ts reads it)');
});

test("nodemailer's DataStream carries the state useFastDotStuffing keeps", () => {
  const stream = nodemailerSendStream();
  assert.ok(stream instanceof Transform, '_createSendStream returns a Transform');
  assert.equal(stream['inByteCount'], 0);
  assert.equal(stream['outByteCount'], 0);
  assert.equal(stream['lastByte'], false);
});
