// Whether the clock is synchronised (clock_synchronized 1/0, systemd's NTPSynchronized: the
// kernel's adjtimex status is not STA_UNSYNC) and, with chrony, how far off it is
// (clock_offset_seconds, chronyc's "System time": positive when the clock is fast). Both ask a
// command every `everyMs`; where neither exists the values are absent.
import type { LabelledValue } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';
import type { Collector } from './collector.ts';
import { addAllSeries, logOncePer, PeriodicJob } from './series.ts';
import { runForOutput } from './services.ts';

/** `timedatectl show -p NTPSynchronized --value` → 1/0. */
export function parseNtpSynchronized(text: string): number | undefined {
  const v = text.trim();
  return v === 'yes' ? 1 : v === 'no' ? 0 : undefined;
}

/**
 * `chronyc -c tracking` (CSV): field 5 is the system time's offset from NTP time, s (positive: the
 * clock is slow in chrony's sign, so negated here to read "fast"); field 13 the leap status.
 */
export function parseChronyTracking(text: string): { offsetSeconds: number; synchronized: number } | undefined {
  const f = text.trim().split(',');
  const offset = Number(f[4]);
  const leap = f[13];
  if (f.length < 14 || !Number.isFinite(offset) || leap === undefined) return undefined;
  return { offsetSeconds: -offset, synchronized: leap === 'Not synchronised' ? 0 : 1 };
}

export interface ClockOptions {
  timedatectl?: string;
  chronyc?: string;
  /** Default 5 min: synchronisation changes slowly, and each run spawns a command (10–20 ms of CPU). */
  everyMs?: number;
  log?: (msg: string) => void;
}

export function createClockCollector(options: ClockOptions = {}): Collector {
  const timedatectl = options.timedatectl ?? 'timedatectl';
  const chronyc = options.chronyc ?? 'chronyc';
  const logOnce = logOncePer(options.log ?? ((msg) => console.warn(msg)));
  let chronyGone = false;
  const job = new PeriodicJob<LabelledValue[]>(
    options.everyMs ?? 300_000,
    async () => {
      const values: LabelledValue[] = [];
      let synced: number | undefined;
      try {
        synced = parseNtpSynchronized(await runForOutput(timedatectl, ['show', '-p', 'NTPSynchronized', '--value'], 5000, [0]));
      } catch {
        // no systemd: chrony may still tell
      }
      if (!chronyGone) {
        try {
          const t = parseChronyTracking(await runForOutput(chronyc, ['-c', 'tracking'], 5000, [0]));
          if (t) {
            values.push({ name: 'clock_offset_seconds', labels: {}, value: t.offsetSeconds });
            synced ??= t.synchronized;
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') chronyGone = true;
        }
      }
      if (synced === undefined) throw new Error(`neither ${timedatectl} nor ${chronyc} tells whether the clock is synchronised`);
      values.push({ name: 'clock_synchronized', labels: {}, value: synced });
      return values;
    },
    (err) => logOnce('clock', `clock: ${(err as Error).message}; clock values are left out while so`),
  );
  return {
    name: 'clock',
    collect(out: Reading, nowMs: number) {
      addAllSeries(out, job.poll(nowMs) ?? []);
    },
  };
}
