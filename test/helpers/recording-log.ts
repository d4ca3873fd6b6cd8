// A real pino logger that keeps its lines, for tests that check what the hub logged and how often.
import { pino, type Logger } from 'pino';

export interface LogLine {
  level: number;
  msg: string;
  err?: string;
  [field: string]: unknown;
}

export const WARN = 40;

export function recordingLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info', base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}
