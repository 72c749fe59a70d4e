// Structured JSON logs, one event a line. Field names are fixed here so every event reads alike;
// credentials never reach a log call (AUTH handlers log the user name only).
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/types.ts';

export type RelayLogger = Logger;

export function createLogger(
  level: LogLevel,
  destination: NodeJS.WritableStream = process.stdout,
): RelayLogger {
  return pino(
    {
      level,
      base: { component: 'relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', '*.password', 'key', '*.key'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream,
  );
}
