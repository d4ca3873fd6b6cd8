// The agent bundle logs through edge-agent/json-lines-logger.ts in place of pino: its lines must be
// the ones pino writes for the same calls (time aside), since people and tools read them as pino's.
import { pino as realPino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pino as leanPino } from '../../edge-agent/json-lines-logger.ts';

type Log = Record<'info' | 'warn' | 'error' | 'debug', (...args: unknown[]) => void>;

const calls: ((log: Log) => void)[] = [
  (log) => log.info('agent started'),
  (log) => log.warn({ err: 'connect ECONNREFUSED 127.0.0.1:1' }, 'mqtt error'),
  (log) => log.info({ node: 'n1', backlog: 3, nested: { a: [1, 'x'] }, text: 'quote " and \\ and \n' }, 'connected to broker'),
  (log) => log.error({ seq: 7, username: null }, 'refused'),
  (log) => log.debug({ records: 1 }, 'spool closed'),
  (log) => log.warn('unicode: é → 温度'),
];

/** Every line a logger writes for `calls`, its time zeroed. */
function linesOf(make: (dest: { write(line: string): void }) => unknown): string[] {
  let out = '';
  const log = make({ write: (line) => void (out += line) }) as Log;
  for (const call of calls) call(log);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/"time":\d+/, '"time":0'));
}

describe('json-lines-logger', () => {
  for (const level of ['info', 'debug', 'warn', 'silent']) {
    it(`writes what pino writes at level ${level}`, () => {
      const lean = linesOf((dest) => leanPino({ name: 'agent', level }, dest));
      const real = linesOf((dest) => realPino({ name: 'agent', level, base: undefined }, dest));
      expect(lean).toEqual(real);
      expect(lean.length).toBe({ debug: 6, info: 5, warn: 3, silent: 0 }[level]);
    });
  }
});
