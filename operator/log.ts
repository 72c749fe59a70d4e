// Structured JSON logs, one event a line (pino). The runtime takes a Log so tests can pass a silent one.
import { pino, type Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export type Log = Pick<Logger, 'error' | 'warn' | 'info' | 'debug' | 'child'>;

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { component: 'mailfleet-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger that drops everything, for tests of the runtime. */
export function silentLog(): Logger {
  return pino({ level: 'silent' });
}

/** The message of an unknown thrown value, for a log field. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
