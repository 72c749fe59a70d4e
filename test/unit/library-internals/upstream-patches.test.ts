// Each patch in patches/upstream/ is applied with GNU patch to a copy of the pinned package (as
// npm installed it) in a temporary directory, and the patched library is held to what the relay's
// override does today: the same bytes for the same input, on the inputs the override handles. The
// unpatched package is compared as well, and each test first checks that the patch did change the
// code it is about, so an empty or mis-aimed patch cannot pass.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { connect, Socket, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import DataStream from '../../../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js';
import { RelaySmtpServer } from '../../../relay/smtp/connection.ts';
import { RelaySmtpParser } from '../../../relay/smtp/data-parser.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { parseSession, randomSession } from '../../support/smtp-stream-sessions.ts';
import { stuffedOutput } from '../../support/stuffed-output.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const scratch = await mkdtemp(join(tmpdir(), 'mailfleet-upstream-patches-'));
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * A copy of node_modules/<library> with the patches from patches/upstream/ applied in order, in a
 * directory of its own whose node_modules links the library's dependencies to the installed ones.
 * Returns the patched package's directory.
 */
async function patchedPackage(library: 'smtp-server' | 'nodemailer', ...patches: string[]): Promise<string> {
  const root = join(scratch, patches.join('+'));
  const packageDir = join(root, 'node_modules', library);
  const installed = join(repoRoot, 'node_modules', library);
  await cp(installed, packageDir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dependency of Object.keys(manifest.dependencies ?? {}))
    await symlink(join(repoRoot, 'node_modules', dependency), join(root, 'node_modules', dependency));
  // --forward and --batch: a patch that is already applied or does not fit fails instead of asking.
  for (const patch of patches)
    execFileSync(
      'patch',
      ['-p1', '--forward', '--batch', '--silent', '-i', join(repoRoot, 'patches/upstream', patch)],
      {
        cwd: packageDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  return packageDir;
}

/** A prototype's method as its source text, for telling a patched method from the original. */
function sourceOf(prototype: object, name: string): string {
  return String((prototype as Record<string, unknown>)[name]);
}

async function importFrom<T>(packageDir: string, file: string): Promise<T> {
  return (await import(pathToFileURL(join(packageDir, file)).href)) as T;
}

test('smtp-server-data-indexof.patch: DATA parsed as by upstream and by RelaySmtpParser', async () => {
  const packageDir = await patchedPackage('smtp-server', 'smtp-server-data-indexof.patch');
  const { SMTPStream: PatchedStream } = await importFrom<{ SMTPStream: typeof SMTPStream }>(
    packageDir,
    'dist/esm/smtp-stream.js',
  );
  const patchedFeed = sourceOf(PatchedStream.prototype, '_feedDataStream');
  assert.notEqual(patchedFeed, sourceOf(SMTPStream.prototype, '_feedDataStream'));
  assert.match(patchedFeed, /indexOf\(LINE_START_DOT/);
  const cjsSource = await readFile(join(packageDir, 'dist/cjs/smtp-stream.js'), 'utf8');
  assert.match(cjsSource, /indexOf\(LINE_START_DOT/, 'the CommonJS build is patched too');

  const session = (body: string): Buffer => Buffer.from(`DATA\r\n${body}QUIT\r\n`, 'latin1');
  const named: readonly (readonly [string, readonly Buffer[]])[] = [
    ['dot-stuffed lines', [session('..one\r\ntwo\r\n..\r\n...three\r\n.\r\n')]],
    ['a lone dot: an empty message', [session('.\r\n')]],
    [
      'the first line a stuffed lone dot, in its own chunk',
      [Buffer.from('DATA\r\n'), Buffer.from('..\r\n'), Buffer.from('x\r\n.\r\nQUIT\r\n')],
    ],
    [
      'CRLF split across chunks',
      [Buffer.from('DATA\r\nline one\r'), Buffer.from('\n.x\r'), Buffer.from('\n.\r\nQUIT\r\n')],
    ],
    ['bare LF: "\\n.\\n" does not end the data', [session('a\n.\nb\r\n.\r\n')]],
    ['bare CR: "\\r.\\r" does not end the data', [session('a\r.\rb\r\n.\r\n')]],
    ...Array.from({ length: 6 }, (_, cut) => {
      const whole = session('body line\r\n.\r\n');
      const at = whole.indexOf('\r\n.\r\n') + cut;
      return [
        `the chunk boundary at offset ${cut} of "\\r\\n.\\r\\n"`,
        [whole.subarray(0, at), whole.subarray(at)],
      ] as const;
    }),
  ];
  for (const [name, chunks] of named) {
    const patched = await parseSession(new PatchedStream(), chunks);
    assert.deepEqual(patched, await parseSession(new SMTPStream(), chunks), `${name}: patched vs upstream`);
    assert.deepEqual(patched, await parseSession(new RelaySmtpParser(), chunks), `${name}: patched vs relay`);
    assert.equal(patched.commands.at(-1), 'QUIT', `${name}: the session ran to its QUIT`);
  }

  const random = seededRandom(20261205);
  for (let round = 0; round < 120; round += 1) {
    const input = randomSession(random);
    const chunks = random.chance(0.2) ? [input] : random.chunks(input, 1, 12);
    const patched = await parseSession(new PatchedStream(), chunks);
    const label = JSON.stringify(input.toString('latin1'));
    assert.deepEqual(patched, await parseSession(new SMTPStream(), chunks), `patched vs upstream: ${label}`);
    assert.deepEqual(
      patched,
      await parseSession(new RelaySmtpParser(), chunks),
      `patched vs relay: ${label}`,
    );
  }
});

type ProxyCallback = (error: Error | null, options?: { id: string; ignore?: boolean | undefined }) => void;
type HandleProxy = (this: SMTPServer, socket: Socket, callback: ProxyCallback) => void;

function handleProxyOf(prototype: object): HandleProxy {
  return (prototype as Record<string, unknown>)['_handleProxy'] as HandleProxy;
}

/** What _handleProxy hands over for a client without a PROXY header, and whether it did so at once. */
async function handOver(
  server: SMTPServer,
  handleProxy: HandleProxy,
  remoteAddress: string,
): Promise<{ readonly synchronous: boolean; readonly id: string; readonly ignore: boolean | undefined }> {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  let returned = false;
  const handed = await new Promise<{ synchronous: boolean; id: string; ignore: boolean | undefined }>(
    (resolve, reject) => {
      handleProxy.call(server, socket, (error, options) => {
        if (error || !options) reject(error ?? new Error('no socket options'));
        else resolve({ synchronous: !returned, id: options.id, ignore: options.ignore });
      });
      returned = true;
    },
  );
  socket.destroy();
  return handed;
}

/** A session id's 16 base-32 digits read back as a number, written again as upstream writes it. */
function asUpstreamWritesIt(id: string): string {
  let value = 0n;
  for (let at = 0; at < id.length; at += 1) value = value * 32n + BigInt(parseInt(id.charAt(at), 32));
  return value.toString(32).padStart(16, '0');
}

/**
 * Connects, sends `first` at once, waits for `replies` complete replies (the greeting counts), then
 * says QUIT; returns everything the server wrote until the connection closed. A 421 ends it there.
 */
async function converse(port: number, first = '', replies = 1): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    const finals = received.split('\r\n').filter((line) => /^\d{3} /.test(line));
    if (socket.writableEnded || finals.length < replies || finals.some((line) => line.startsWith('421 ')))
      return;
    socket.end('QUIT\r\n');
  });
  if (first !== '') socket.write(first);
  await new Promise<void>((resolve, reject) => {
    socket.on('close', () => {
      resolve();
    });
    socket.on('error', reject);
  });
  return received;
}

async function listening(server: SMTPServer): Promise<number> {
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  return (server.server.address() as AddressInfo).port;
}

async function closed(server: SMTPServer): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

test('smtp-server-proxy-fast-path.patch: hands the socket over at once, upstream ids, PROXY path intact', async () => {
  const packageDir = await patchedPackage('smtp-server', 'smtp-server-proxy-fast-path.patch');
  const { SMTPServer: PatchedServer } = await importFrom<{ SMTPServer: typeof SMTPServer }>(
    packageDir,
    'dist/esm/smtp-server.js',
  );
  const { createSessionId } = await importFrom<{ createSessionId: () => string }>(
    packageDir,
    'dist/esm/smtp-connection.js',
  );
  const options: SMTPServerOptions = { logger: false, ignoredHosts: ['192.0.2.9'] };
  const servers = {
    upstream: new SMTPServer({ ...options }),
    patched: new PatchedServer({ ...options }),
    relay: new SMTPServer({ ...options }),
  };
  const handleProxy = {
    upstream: handleProxyOf(SMTPServer.prototype),
    patched: handleProxyOf(PatchedServer.prototype),
    relay: handleProxyOf(RelaySmtpServer.prototype),
  };
  assert.notEqual(String(handleProxy.patched), String(handleProxy.upstream));
  for (const address of ['192.0.2.9', '198.51.100.1']) {
    const upstream = await handOver(servers.upstream, handleProxy.upstream, address);
    const patched = await handOver(servers.patched, handleProxy.patched, address);
    const relay = await handOver(servers.relay, handleProxy.relay, address);
    assert.equal(upstream.synchronous, false, 'upstream calls back a turn later');
    assert.equal(patched.synchronous, true, 'the patched library calls back at once, as the relay does');
    assert.equal(relay.synchronous, true);
    assert.equal(patched.ignore, upstream.ignore, `ignoredHosts for ${address}`);
    assert.equal(patched.ignore, relay.ignore, `ignoredHosts for ${address}`);
    for (const id of [upstream.id, patched.id, relay.id]) assert.match(id, /^[0-9a-v]{16}$/);
  }

  const ids = Array.from({ length: 1000 }, () => createSessionId());
  assert.equal(new Set(ids).size, ids.length, 'session ids do not repeat across pool refills');
  for (const id of ids) assert.equal(asUpstreamWritesIt(id), id, `${id} has upstream's form`);
  const firstDigits = new Set(ids.map((id) => id[0]));
  assert.ok(firstDigits.size > 20, 'the leading digit carries 5 random bits, as in a BigInt of 80 bits');

  // Over real sockets: a PROXY header is still read, and a client without one is greeted.
  const seen: string[] = [];
  const server = new PatchedServer({
    logger: false,
    disableReverseLookup: true,
    useProxy: ['127.0.0.1'],
    onConnect(session, callback) {
      seen.push(`${session.remoteAddress} ${session.id}`);
      callback();
    },
  });
  const port = await listening(server);
  const proxied = await converse(port, 'PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\n');
  await closed(server);
  assert.match(proxied, /^220 /);
  assert.match(seen[0] ?? '', /^192\.0\.2\.7 [0-9a-v]{16}$/);
  const plain = new PatchedServer({ logger: false, disableReverseLookup: true });
  const plainPort = await listening(plain);
  assert.match(await converse(plainPort), /^220 /);
  await closed(plain);
});

interface AcceptInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly secure: boolean;
}

/** The options smtp-server-accept-hook.patch adds. */
interface AcceptOptions extends SMTPServerOptions {
  onAccept?(info: AcceptInfo, callback: (error?: Error | null) => void): void;
  earlyTalkerDelay?: number | ((info: AcceptInfo) => number);
}

function refusal(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

test('smtp-server-accept-hook.patch: onAccept sees the connection before the greeting; earlyTalkerDelay', async () => {
  const packageDir = await patchedPackage('smtp-server', 'smtp-server-accept-hook.patch');
  const { SMTPServer: PatchedServer } = await importFrom<{ SMTPServer: typeof SMTPServer }>(
    packageDir,
    'dist/esm/smtp-server.js',
  );
  const events: string[] = [];
  let retiring = false;
  let acceptWaitMs = 20;
  let delayFor: (address: string) => number = () => 0;
  const options: AcceptOptions = {
    logger: false,
    disableReverseLookup: true,
    // A connection the hook never lets through is closed in 2 s, not the default minute.
    socketTimeout: 2000,
    onAccept(info, callback) {
      events.push(`accept ${info.remoteAddress} ${info.id}`);
      // A slot check as the relay makes it: refused before any greeting, with the relay's reply.
      if (retiring) callback(refusal(421, '4.3.2 Service shutting down'));
      else if (acceptWaitMs === 0) callback();
      else setTimeout(callback, acceptWaitMs);
    },
    earlyTalkerDelay: (info) => delayFor(info.remoteAddress),
    onConnect(session, callback) {
      events.push(`connect ${session.id}`);
      callback();
    },
  };
  const server = new PatchedServer(options);
  const port = await listening(server);
  try {
    const greeted = await converse(port);
    assert.match(greeted, /^220 /);
    assert.equal(events.length, 2);
    const [accepted, connected] = events;
    const id = /^accept 127\.0\.0\.1 ([0-9a-v]{16})$/.exec(accepted ?? '')?.[1];
    assert.ok(id !== undefined, `onAccept got the client's address and the session id: ${accepted}`);
    assert.equal(connected, `connect ${id}`, 'onAccept runs before onConnect, for the same connection');

    retiring = true;
    events.length = 0;
    const refused = await converse(port);
    assert.equal(refused, '421 4.3.2 Service shutting down\r\n', 'refused in place of the greeting');
    assert.deepEqual(
      events.map((event) => event.split(' ')[0]),
      ['accept'],
      'onConnect never ran',
    );
    retiring = false;

    // earlyTalkerDelay 0 (and every hook calling back at once): greeted before the client's first
    // bytes are read, so a command sent right away is answered.
    acceptWaitMs = 0;
    assert.match(await converse(port, 'EHLO client.example\r\n', 2), /^220 [^\r]*\r\n250[- ]/);
    // A delay for this client: the same command is early and refused.
    delayFor = (address) => (address === '127.0.0.1' ? 300 : 0);
    assert.match(await converse(port, 'EHLO client.example\r\n', 2), /^421 .*You talk too soon/);
  } finally {
    await closed(server);
  }

  // The unpatched library ignores both options: the test above depends on the patch.
  let upstreamAccepted = false;
  const upstream = new SMTPServer({
    ...options,
    onAccept: () => {
      upstreamAccepted = true;
    },
  } as AcceptOptions);
  const upstreamPort = await listening(upstream);
  assert.match(await converse(upstreamPort), /^220 /);
  await closed(upstream);
  assert.equal(upstreamAccepted, false);
});

/** A DataStream's output for the chunks: the bytes, how many pushes, and its counters. */
async function dataStreamRun(
  Stream: typeof DataStream,
  chunks: readonly Buffer[],
): Promise<{
  bytes: string;
  pushes: number;
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}> {
  const stream = new Stream();
  const pieces: Buffer[] = [];
  stream.on('data', (piece: Buffer) => pieces.push(piece));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  Readable.from(chunks, { objectMode: false }).pipe(stream);
  await ended;
  const { inByteCount, outByteCount, lastByte } = stream;
  return {
    bytes: Buffer.concat(pieces).toString('latin1'),
    pushes: pieces.length,
    inByteCount,
    outByteCount,
    lastByte,
  };
}

test('nodemailer-dot-stuffing-indexof.patch: the same bytes as upstream and the relay, the end in one write', async () => {
  const packageDir = await patchedPackage('nodemailer', 'nodemailer-dot-stuffing-indexof.patch');
  const { default: PatchedDataStream } = await importFrom<{ default: typeof DataStream }>(
    packageDir,
    'dist/esm/smtp-connection/data-stream.js',
  );
  assert.notEqual(
    sourceOf(PatchedDataStream.prototype, '_transform'),
    sourceOf(DataStream.prototype, '_transform'),
  );
  const cjsSource = await readFile(join(packageDir, 'dist/cjs/smtp-connection/data-stream.js'), 'utf8');
  assert.match(cjsSource, /_escape\(chunk\)/, 'the CommonJS build is patched too');

  const random = seededRandom(20261205);
  const alphabet = ['a', 'b', ' ', '.', '.', '\r', '\n', '\r\n', '\r\n.', '\r\n..', '\n.', '\r.'];
  const inputs: Buffer[][] = [
    [],
    [Buffer.from('.')],
    [Buffer.from('a\r')],
    [Buffer.from('\r'), Buffer.from('.\n')],
  ];
  for (let round = 0; round < 600; round += 1) {
    const text = Array.from({ length: random.int(0, 60) }, () => random.pick(alphabet)).join('');
    const bytes = Buffer.from(text, 'latin1');
    inputs.push(random.chance(0.3) ? [bytes] : random.chunks(bytes, 1, 9));
  }
  // Binary and 8-bit content, in chunks as large as a socket read.
  for (let round = 0; round < 20; round += 1)
    inputs.push(random.chunks(random.bytes(random.int(1, 70_000)), 1, 65_536));
  for (const chunks of inputs) {
    const label = JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200));
    const patched = await dataStreamRun(PatchedDataStream, chunks);
    const upstream = await dataStreamRun(DataStream, chunks);
    assert.equal(patched.bytes, upstream.bytes, `patched vs upstream: ${label}`);
    assert.equal(patched.bytes, stuffedOutput(chunks), `patched vs relay: ${label}`);
    assert.deepEqual(
      [patched.inByteCount, patched.outByteCount, patched.lastByte],
      [upstream.inByteCount, upstream.outByteCount, upstream.lastByte],
      `counters: ${label}`,
    );
    const written = chunks.filter((chunk) => chunk.length > 0).length;
    assert.equal(patched.pushes, Math.max(written, 1), `the last chunk goes with the final dot: ${label}`);
  }
});

test('the three smtp-server patches apply together, and both builds of the result load', async () => {
  const packageDir = await patchedPackage(
    'smtp-server',
    'smtp-server-accept-hook.patch',
    'smtp-server-data-indexof.patch',
    'smtp-server-proxy-fast-path.patch',
  );
  const requireFrom = createRequire(import.meta.url);
  for (const build of ['esm', 'cjs']) {
    const file = (name: string): string => join(packageDir, 'dist', build, name);
    type Modules = [{ SMTPServer: typeof SMTPServer }, { SMTPStream: typeof SMTPStream }];
    const [{ SMTPServer: Server }, { SMTPStream: Stream }] = (
      build === 'esm'
        ? await Promise.all([
            import(pathToFileURL(file('smtp-server.js')).href),
            import(pathToFileURL(file('smtp-stream.js')).href),
          ])
        : [requireFrom(file('smtp-server.js')), requireFrom(file('smtp-stream.js'))]
    ) as Modules;
    assert.match(sourceOf(Server.prototype, 'onAccept'), /callback\(\)/, build);
    assert.match(sourceOf(Server.prototype, '_handleProxy'), /createSessionId/, build);
    assert.match(sourceOf(Stream.prototype, '_feedDataStream'), /indexOf\(LINE_START_DOT/, build);
  }
});
