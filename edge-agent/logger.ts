// Structured logs: readable lines on a terminal, JSON lines under systemd or in a pipe.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', name = 'remonitor'): Logger {
  // Log to stderr so that stdout stays for what a command prints (URLs, JSON lines).
  const destination = process.stderr.isTTY
    ? pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' })
    : pino.destination({ dest: 2, sync: true });
  return pino({ name, level, base: undefined }, destination);
}

export function logLevel(raw: string): LogLevel | { problem: string } {
  return (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : { problem: `must be one of ${LOG_LEVELS.join(', ')}` };
}
