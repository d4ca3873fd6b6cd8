// What the collectors of labelled values share: adding a value to a sample's `series` field, and a
// job that runs at a slow cadence in the background (a command, an HTTP call) whose last result
// each sample reuses.
import type { LabelledValue } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';

/** Adds one labelled value; a value that is not finite (the wire refuses it) is left out. */
export function addSeries(out: Reading, name: string, labels: Record<string, string>, value: number): void {
  if (!Number.isFinite(value)) return;
  (out.series ??= []).push({ name, labels, value });
}

/** Adds values already made (a job's cached result). */
export function addAllSeries(out: Reading, values: readonly LabelledValue[]): void {
  if (values.length === 0) return;
  const series = (out.series ??= []);
  for (const v of values) series.push(v);
}

/**
 * A job run at most every `everyMs` (the sampler's monotonic clock), never two at once: `poll`
 * starts it when due and returns what the last run gave. Nothing waits for it, so a slow command
 * never delays a sample: its values arrive in the samples after it finishes. A failed run keeps no
 * stale values and goes to `onError`.
 */
export class PeriodicJob<T> {
  private last: T | undefined;
  private lastRunMs = -Infinity;
  private running = false;

  constructor(
    private readonly everyMs: number,
    private readonly job: () => Promise<T>,
    private readonly onError: (err: unknown) => void,
  ) {}

  poll(nowMs: number): T | undefined {
    if (!this.running && !(nowMs - this.lastRunMs < this.everyMs)) {
      this.lastRunMs = nowMs;
      this.running = true;
      this.job().then(
        (value) => {
          this.last = value;
          this.running = false;
        },
        (err: unknown) => {
          this.last = undefined;
          this.running = false;
          this.onError(err);
        },
      );
    }
    return this.last;
  }

  /** Whether a run is under way (tests wait for it). */
  get busy(): boolean {
    return this.running;
  }
}

/** Logs each distinct key once: a fault that repeats every run gets one line, a new fault its own. */
export function logOncePer(log: (msg: string) => void): (key: string, msg: string) => void {
  const seen = new Set<string>();
  return (key, msg) => {
    if (seen.has(key)) return;
    seen.add(key);
    log(msg);
  };
}
