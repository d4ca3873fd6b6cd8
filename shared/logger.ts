// Structured logs: readable lines on a terminal, JSON lines under systemd or in a pipe.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import * as v from 'valibot';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', name = 'remonitor'): Logger {
  // Log to stderr so that stdout stays for what a command prints (URLs, JSON lines).
  if (!process.stderr.isTTY) return pino({ name, level, base: undefined }, pino.destination({ dest: 2, sync: true }));
  // One line an event on a terminal: a person scans lines, and an alarm's fields spread over nine
  // lines each made a short run thousands of lines long. Our `err` fields are messages, so they stay
  // on the line too; only a thrown Error (pino's errorKey, renamed so) gets its stack below.
  const destination = pretty({
    destination: 2,
    sync: true,
    ignore: 'pid,hostname,name',
    translateTime: 'HH:MM:ss.l',
    singleLine: true,
    errorLikeObjectKeys: [],
  });
  return pino({ name, level, base: undefined, errorKey: 'exception' }, destination);
}

/** The --log-level option's schema. */
export const logLevel = v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`);
