// Raspberry Pi firmware throttling bits from `vcgencmd get_throttled` ("throttled=0x50005"):
// under-voltage and throttling that /proc and /sys do not show. The command exists only on a Pi
// (Raspberry Pi OS ships it in /usr/bin), so elsewhere the field is simply absent, and no complaint.
// Spawning costs a few ms, so it runs at most every `everyMs` and each sample reuses the last value.
import { execFile } from 'node:child_process';
import type { Reading } from '../sampler.ts';
import type { Collector } from './collector.ts';

/** Parses `throttled=0x50005` → 0x50005; undefined for anything else. */
export function parseThrottled(output: string): number | undefined {
  const match = /throttled=0x([0-9a-f]+)/i.exec(output);
  if (!match) return undefined;
  const n = Number.parseInt(match[1]!, 16);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export interface ThrottledOptions {
  /** The command to run; tests put a stub named vcgencmd on PATH instead. */
  command?: string;
  /** How often the command runs, in ms (monotonic clock of the sampler). Default 30 s. */
  everyMs?: number;
  /** After this many failures in a row the command is considered absent for good. */
  giveUpAfter?: number;
}

export function createThrottledCollector(options: ThrottledOptions = {}): Collector {
  const command = options.command ?? 'vcgencmd';
  const everyMs = options.everyMs ?? 30_000;
  const giveUpAfter = options.giveUpAfter ?? 3;
  let value: number | undefined;
  let lastRunMs = -Infinity;
  let failures = 0;
  let running: Promise<void> | null = null;

  const run = () =>
    new Promise<void>((resolve) => {
      execFile(command, ['get_throttled'], { timeout: 2000, encoding: 'utf8' }, (err, stdout) => {
        const parsed = err ? undefined : parseThrottled(stdout);
        if (parsed === undefined) {
          // No such command: not a Pi, give up at once. Other failures may pass (firmware busy).
          failures = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? giveUpAfter : failures + 1;
          value = undefined;
        } else {
          failures = 0;
          value = parsed;
        }
        resolve();
      });
    });

  return {
    name: 'throttled',
    // Not async: a promise only while the first run is awaited, none on each sample of a non-Pi.
    collect(out: Reading, nowMs: number) {
      if (failures >= giveUpAfter) return undefined; // not a Pi (or no firmware tools): stay quiet and cheap
      const report = () => {
        if (value !== undefined) out.throttled = value;
      };
      if (nowMs - lastRunMs >= everyMs && !running) {
        lastRunMs = nowMs;
        running = run().finally(() => (running = null));
        // Only the first read waits for the command; later ones use the cached value meanwhile.
        if (value === undefined) return running.then(report);
      }
      report();
      return undefined;
    },
  };
}
