// Structured JSON logs, one event a line. Field names are fixed here so every event reads alike;
// credentials never reach a log call (AUTH handlers log the user name only), and a field named
// password or key is censored if one ever does (log-redaction.ts).
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/types.ts';
import { censoredFields, redactSecrets } from './log-redaction.ts';

export type RelayLogger = Logger;

export function createLogger(
  level: LogLevel,
  destination: NodeJS.WritableStream | pino.DestinationStream = process.stdout,
): RelayLogger {
  return pino(
    {
      level,
      base: { component: 'relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactSecrets, bindings: redactSecrets },
      // A child logger's bindings skip the formatters: its top-level secret fields are censored here.
      serializers: censoredFields,
    },
    destination,
  );
}

/** What batchedLines writes to: process.stdout, or the relay's stdout destination (stdoutDestination). */
export interface LineSink {
  write(text: string): unknown;
}

/** A destination that writes the lines of one event-loop turn together (batchedLines). */
export interface BatchedLines extends pino.DestinationStream {
  /** Writes what is held now (the process calls it as it exits). */
  flush(): void;
}

/** Characters of lines held at most before they are written without waiting for the turn to end. */
const batchBytes = 64 * 1024;

/**
 * The relay's log lines of one event-loop turn go out in one write to `out`, at the end of the
 * turn, instead of a write(2) per line: two lines a message took 3.5% of the main thread under load.
 * Nothing waits longer than the turn, so a line is as current as before; only a kill -9 can lose
 * the lines of the turn it interrupts.
 */
export function batchedLines(out: LineSink): BatchedLines {
  let held: string[] = [];
  let heldBytes = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (held.length === 0) return;
    const text = held.length === 1 ? (held[0] ?? '') : held.join('');
    held = [];
    heldBytes = 0;
    out.write(text);
  };
  return {
    write(line: string) {
      held.push(line);
      heldBytes += line.length;
      if (heldBytes >= batchBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Bytes of log lines held for a stdout that does not keep up; what would pass it is dropped. */
export const maxHeldLogBytes = 8 * 1024 * 1024;

export interface StdoutDestination extends LineSink {
  /** Log lines dropped so far because `maxHeldLogBytes` were waiting for stdout. */
  droppedLines(): number;
  /** Writes what is held, blocking (the process calls it as it exits). */
  flushSync(): void;
}

/**
 * The relay's stdout, through pino's asynchronous destination (sonic-boom): each write is an
 * `fs.write` on libuv's thread pool, so a stdout that is slow or not read at all (a stalled log
 * collector) never blocks the event loop, which would stall every SMTP session; while a write is in
 * flight the next lines wait in memory, at most `maxBytes` of them. Past that a line is dropped and
 * counted, so memory stays bounded: availability of the relay over completeness of its log.
 */
export function stdoutDestination(fd = 1, maxBytes = maxHeldLogBytes): StdoutDestination {
  // Up to 1 MiB a write (sonic-boom's default is 16 KiB): at a burst of some 300,000 lines/s, 16 KiB
  // writes fell behind and dropped a quarter of the lines while the reader kept up (bench/log-lines.ts).
  const boom = pino.destination({ dest: fd, sync: false, maxLength: maxBytes, maxWrite: 1024 * 1024 });
  let dropped = 0;
  boom.on('drop', (data: string | Buffer) => {
    dropped += String(data).split('\n').length - 1;
  });
  return {
    write: (text) => boom.write(text),
    droppedLines: () => dropped,
    flushSync: () => {
      boom.flushSync();
    },
  };
}

/**
 * Every `intervalMs`, one warn line with the count of lines dropped since the last report (none when
 * nothing was dropped). The timer does not keep the process alive; the returned function stops it.
 */
export function reportDroppedLines(
  logger: RelayLogger,
  destination: Pick<StdoutDestination, 'droppedLines'>,
  intervalMs = 10_000,
): () => void {
  let reported = 0;
  const timer = setInterval(() => {
    const dropped = destination.droppedLines();
    if (dropped === reported) return;
    logger.warn(
      { event: 'log-lines-dropped', count: dropped - reported, total: dropped },
      'log lines dropped: stdout did not keep up',
    );
    reported = dropped;
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
