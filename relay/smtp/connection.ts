// The few behaviours smtp-server 3.21 has no option for, added by subclassing at its documented
// seams (connect(), send(), the command handlers) instead of patching node_modules. Each one is a
// small option that could go upstream as is:
//  - greetingDelayMs: the early-talker window is a fixed 100 ms upstream (smtp-connection.js init());
//  - replies whose text leads with an enhanced status code keep it (upstream always derives one from
//    the numeric code, so `554 5.7.1` would become `554 5.6.0`);
//  - AUTH is neither advertised nor accepted before TLS, answered `538 5.7.11` (RFC 7817 / 4954);
//  - a message body that arrived before the 354 reply is flagged (pipelining sync check, case 14);
//  - a whole-session deadline, which upstream lacks (its socketTimeout is an idle timeout);
//  - the DATA parser finds line-start dots with indexOf, not a loop over every byte (data-parser.ts);
//  - connection slots are taken when a connection is accepted, per address first (connection-slots.ts),
//    and the time since the last complete command line is exposed for the command deadline;
//  - a retired relay (its SmtpRelay deleted) answers a new connection `421 4.3.2` in place of the banner;
//  - MAIL and RCPT note a source route in the raw command, which upstream strips before the hooks
//    (source-route.ts, case 32);
//  - SASL OAUTHBEARER (RFC 7628), which upstream lacks beside its XOAUTH2 (sasl-oauthbearer.ts).
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationMethod,
  type SMTPServerAuthenticationResponse,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { pooledRandomHex } from '../queue/random-pool.ts';
import { RelaySmtpParser } from './data-parser.ts';
import type { SlotVerdict } from './connection-slots.ts';
import { carriesEnhancedCode, replies, replyLine, type SmtpReply } from './replies.ts';
import { noteSourceRoute } from './source-route.ts';
import { oauthBearerErrorChallenge, parseOauthBearer } from './sasl-oauthbearer.ts';

/** What the relay's onAuth hook is handed: smtp-server's methods and the OAUTHBEARER it lacks. */
export type RelayAuthentication = Omit<SMTPServerAuthentication, 'method' | 'validatePassword'> & {
  readonly method: SMTPServerAuthenticationMethod | 'OAUTHBEARER';
};

export type RelayAuthHook = (
  auth: RelayAuthentication,
  session: SMTPServerSession,
  callback: (error?: Error | null, response?: SMTPServerAuthenticationResponse) => void,
) => void;

export interface RelayServerExtras {
  /** Takes one of the relay's connection slots for a client address (case 31). */
  readonly admit: (remoteAddress: string) => SlotVerdict;
  /** Gives the slot of a closed connection back. */
  readonly release: (remoteAddress: string) => void;
  /** The early-talker pause before the banner for this client address. */
  readonly greetingDelayMs: (remoteAddress: string) => number;
  readonly sessionTimeoutMs: number;
  /** True while the relay is retired: a new connection gets `421 4.3.2` instead of the banner. */
  readonly retiring: () => boolean;
  /** Called when a connection limit refuses a client (cases 11, 12, 31). */
  readonly onConnectionLimit: (limit: 'per_ip' | 'global', remoteAddress: string) => void;
  /** Called when a client sent its body before the 354 reply (case 14). */
  readonly onEarlyBody: (session: SMTPServerSession) => void;
  /** The onAuth hook, for the OAUTHBEARER exchange this class runs itself (none: not offered). */
  readonly authenticate?: RelayAuthHook;
  /** Called for each catalogue reply the connection itself refuses with (counted as a rejection). */
  readonly onRefusal: (reply: SmtpReply) => void;
}

/** Transactions (keyed by their envelope, new for each one) whose body came before the 354 reply. */
export const earlyBodyEnvelopes = new WeakSet<SMTPServerSession['envelope']>();

const extrasOf = new WeakMap<SMTPServer, RelayServerExtras>();

/** Session ids for logs: 16 hex digits, like upstream's 16 base-32 ones, from a pooled CSPRNG. */
const sessionId = pooledRandomHex(8);

type ProxyCallback = Parameters<SMTPServer['_handleProxy']>[1];

export class RelaySmtpServer extends SMTPServer {
  constructor(options: SMTPServerOptions, extras: RelayServerExtras) {
    super(options);
    extrasOf.set(this, extras);
  }

  /**
   * Upstream's _handleProxy for a client that sends no PROXY header, with two costs of every
   * connection taken out: the session id comes from a pooled random source (upstream makes one
   * CSPRNG call and a BigInt per connection), and connect() runs at once, not an event-loop turn later.
   */
  override _handleProxy(socket: Socket, callback: ProxyCallback): void {
    if (this._expectsProxyHeader(socket)) {
      super._handleProxy(socket, callback);
      return;
    }
    const ignored = this.options.ignoredHosts?.includes(socket.remoteAddress ?? '') === true;
    callback(null, { id: sessionId(), ignore: ignored });
  }

  override connect(
    socket: Socket | TLSSocket,
    socketOptions?: ConstructorParameters<typeof SMTPConnection>[2],
  ): void {
    const connection = new RelayConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => {
      this._onError(error);
    });
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => {
      this._onClientConnect(data);
    });
    connection.init();
  }
}

export class RelayConnection extends SMTPConnection {
  #advertising = false;
  #sessionTimer: NodeJS.Timeout | undefined;
  /** When the last complete command line arrived (or the connection was accepted). */
  #lastCommandAt = Date.now();
  /** Gives the connection slot back; set once the connection holds one. */
  #releaseSlot: (() => void) | undefined;

  /**
   * Upstream's close handling, for the plain socket and, after STARTTLS, the TLS socket that took
   * over its handle (the plain socket then never emits 'close' of its own): the slot goes back once.
   */
  override _onClose(): void {
    const release = this.#releaseSlot;
    this.#releaseSlot = undefined;
    release?.();
    super._onClose();
  }

  /**
   * How long the client has been composing its next command line: an idle client and one that
   * trickles bytes without ending the line look the same here. Undefined inside a message body,
   * where the socket's idle timeout applies instead.
   */
  commandWaitMs(now: number): number | undefined {
    return this._dataStream ? undefined : now - this.#lastCommandAt;
  }

  /** Ends the session with a reply from the catalogue (send() itself closes after a 421). */
  closeWith(reply: SmtpReply): void {
    this.#refuse(reply);
    if (reply.code !== 421) this.close();
  }

  /** Answers with a refusal from the catalogue and reports it, so every refusal is counted once. */
  #refuse(reply: SmtpReply): void {
    this.#extras().onRefusal(reply);
    this.send(reply.code, replyLine(reply));
  }

  #extras(): RelayServerExtras {
    const extras = extrasOf.get(this._server);
    if (!extras) throw new Error('RelayConnection belongs to a RelaySmtpServer');
    return extras;
  }

  override init(): void {
    const extras = this.#extras();
    this._setListeners(() => {
      if (extras.retiring()) {
        this.closeWith(replies.shuttingDown);
        return;
      }
      // Before the early-talker pause: a connection waiting for its banner holds a slot too.
      const verdict = extras.admit(this.remoteAddress);
      if (!verdict.admitted) {
        extras.onConnectionLimit(verdict.limit, this.remoteAddress);
        if (verdict.limit === 'per_ip') this.closeWith(replies.tooManyConnectionsFromIp);
        else this.send(421, `4.7.0 ${this.name} Too many connected clients, try again in a moment`);
        return;
      }
      const address = this.remoteAddress;
      this.#releaseSlot = () => {
        extras.release(address);
      };
      // The early-talker window: input before the banner is refused with 421 (case 13). Without
      // a pause the banner goes out before any input can be read.
      const delay = extras.greetingDelayMs(this.remoteAddress);
      if (delay === 0) this.connectionReady();
      else
        setTimeout(() => {
          this.connectionReady();
        }, delay).unref();
      this.#sessionTimer = setTimeout(() => {
        this.#refuse(replies.sessionTimeout);
      }, extras.sessionTimeoutMs);
      this.#sessionTimer.unref();
      this._socket.once('close', () => {
        clearTimeout(this.#sessionTimer);
      });
    });
  }

  /** Upstream's _createParser with RelaySmtpParser in place of SMTPStream. */
  override _createParser(): SMTPStream {
    const parser = new RelaySmtpParser({ maxCommandLength: this._server.options.maxCommandLength });
    parser.oncommand = (command, callback) => {
      this.#lastCommandAt = Date.now();
      this._onCommand(command, callback);
    };
    parser.on('error', (error: Error) => {
      this.send(421, `Error: ${error.message}`);
    });
    return parser;
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (this.#advertising && !this.secure && Array.isArray(data)) {
      super.send(
        code,
        data.filter((line) => !line.startsWith('AUTH ')),
        context,
      );
      return;
    }
    // smtp-server sends authRequiredMessage itself (MAIL before AUTH where AUTH is required).
    if (code === replies.authRequired.code && data === replyLine(replies.authRequired))
      this.#extras().onRefusal(replies.authRequired);
    const ownCode = typeof data === 'string' && carriesEnhancedCode(data);
    super.send(code, data, ownCode ? false : context);
    if (code === 354) this.#watchForEarlyBody();
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.#advertising = true;
    try {
      super.handler_EHLO(command, callback);
    } finally {
      this.#advertising = false;
    }
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    noteSourceRoute(this.session, command);
    super.handler_MAIL(command, callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    noteSourceRoute(this.session, command);
    super.handler_RCPT(command, callback);
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (!this.secure) {
      this.#refuse(replies.authEncryptionRequired);
      callback();
      return;
    }
    const [, method = '', ...args] = command.toString().trim().split(/\s+/);
    const authenticate = this.#extras().authenticate;
    const offered = this._server.options.authMethods.includes('OAUTHBEARER');
    if (method.toUpperCase() !== 'OAUTHBEARER' || !offered || !authenticate || this.session.user) {
      super.handler_AUTH(command, callback);
      return;
    }
    if (args.length > 1) {
      this.send(501, '5.5.4 Syntax: AUTH OAUTHBEARER [initial-response]');
      callback();
    } else if (args[0] === undefined) {
      this._nextHandler = (line, next) => {
        this.#oauthBearerResponse(line.toString().trim(), authenticate, next);
      };
      this.send(334);
      callback();
    } else {
      this.#oauthBearerResponse(args[0], authenticate, callback);
    }
  }

  /**
   * The client's OAUTHBEARER message, verified by the onAuth hook. A refusal is the RFC 7628 error
   * challenge (334 with a JSON status), and the final 535 follows the client's ^A; a temporary or
   * closing refusal (454, 421) is answered at once.
   */
  #oauthBearerResponse(response: string, authenticate: RelayAuthHook, callback: () => void): void {
    if (response === '*') {
      this.send(501, '5.7.0 Authentication aborted');
      callback();
      return;
    }
    const message = parseOauthBearer(response);
    if (!message.ok) {
      this.send(501, `5.5.2 Invalid OAUTHBEARER response: ${message.problem}`);
      callback();
      return;
    }
    const auth = {
      method: 'OAUTHBEARER',
      username: message.authzid ?? '',
      accessToken: message.token,
    } as const;
    authenticate(auth, this.session, (error, result) => {
      const user: unknown = result?.user;
      if (!error && typeof user === 'string') {
        this.session.user = user;
        this.session.transmissionType = this._transmissionType();
        this.send(235, 'Authentication successful');
        callback();
        return;
      }
      const code = (error as { responseCode?: number } | null | undefined)?.responseCode ?? 535;
      const text = error?.message ?? `${replies.authFailed.enhancedCode} ${replies.authFailed.text}`;
      if (code !== 535) {
        this.send(code, text);
      } else {
        this._nextHandler = (_line, next) => {
          this.send(code, text);
          next();
        };
        this.send(334, oauthBearerErrorChallenge);
      }
      callback();
    });
  }

  /**
   * A client that waits for 354 cannot have body bytes in our input yet. Bytes already read when
   * 354 is written are either the rest of the current packet, which the parser turns into body
   * synchronously before any microtask runs, or input still buffered in the socket or the parser.
   * A later poll phase (the client's answer to 354) cannot run before the microtask.
   */
  #watchForEarlyBody(): void {
    const parser = this._parser;
    if (!parser) return;
    const session = this.session;
    const envelope = session.envelope;
    const flag = (): void => {
      earlyBodyEnvelopes.add(envelope);
      this.#extras().onEarlyBody(session);
    };
    const socket = this._socket;
    queueMicrotask(() => {
      if (parser.dataBytes > 0 || parser.writableLength > 0 || socket.readableLength > 0) flag();
    });
  }
}
