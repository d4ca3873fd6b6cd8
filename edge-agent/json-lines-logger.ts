// What the agent bundle takes for pino (scripts/build.mjs points shared/logger.ts's `pino` here):
// the same JSON lines ({"level":30,"time":…,"name":"agent",…fields,"msg":"…"}) written at once to
// the destination, in a page of code. pino's own modules (redaction, serializers, sonic-boom, its
// exit hooks) cost the long-lived agent 0.3 MiB of resident memory for features it never uses.
import { writeSync } from 'node:fs';

const LEVELS = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 } as const;
type LevelName = keyof typeof LEVELS;

interface Options {
  name?: string;
  level?: string;
}

/** Where lines go: a stream (pino-pretty's, on a terminal) or pino.destination's file descriptor. */
interface Destination {
  write(line: string): unknown;
}

/** Fields as JSON, without the braces; a value JSON cannot take (a cycle, a BigInt) becomes its string. */
function fieldsJson(fields: object): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    let json: string | undefined;
    try {
      json = JSON.stringify(value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value);
    } catch {
      json = JSON.stringify(String(value));
    }
    if (json !== undefined) parts.push(`${JSON.stringify(key)}:${json}`);
  }
  return parts.join(',');
}

export function pino(options: Options, destination: Destination) {
  const threshold = options.level === 'silent' ? Number.POSITIVE_INFINITY : (LEVELS[options.level as LevelName] ?? LEVELS.info);
  const head = options.name === undefined ? '' : `,"name":${JSON.stringify(options.name)}`;
  const method = (level: number) =>
    level < threshold
      ? () => {}
      : (first?: unknown, message?: string) => {
          const fields = typeof first === 'object' && first !== null ? fieldsJson(first) : '';
          const msg = typeof first === 'object' && first !== null ? message : first;
          const line = `{"level":${level},"time":${Date.now()}${head}${fields ? `,${fields}` : ''}${msg === undefined ? '' : `,"msg":${JSON.stringify(String(msg))}`}}\n`;
          destination.write(line);
        };
  return Object.fromEntries((Object.keys(LEVELS) as LevelName[]).map((name) => [name, method(LEVELS[name])]));
}

/** pino.destination({ dest: fd, sync: true }): each line written whole before the call returns. */
pino.destination = ({ dest }: { dest: number }): Destination => ({
  write(line: string) {
    const bytes = Buffer.from(line);
    // A non-blocking pipe may take part of a line, or none for a moment (EAGAIN): the rest is
    // retried a bounded number of times; a line a closed stderr refuses is dropped, not thrown.
    for (let done = 0, busy = 0; done < bytes.length && busy < 1000; ) {
      try {
        done += writeSync(dest, bytes, done);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        busy++;
      }
    }
  },
});
