// Holes in a series must show as holes: uPlot draws a line across missing x values unless a null
// sits between them. These pure helpers put one there, and shape every store's series answer.
import type { SeriesMetric, SeriesResponse } from '../../shared/api-types.ts';
import type { Resolution } from './rollups.ts';

/** The typical spacing of `times`: the median of consecutive differences (0 with fewer than 2 points). */
export function typicalStep(times: readonly number[]): number {
  if (times.length < 2) return 0;
  const diffs: number[] = [];
  for (let i = 1; i < times.length; i++) diffs.push(times[i]! - times[i - 1]!);
  diffs.sort((a, b) => a - b);
  return diffs[Math.floor(diffs.length / 2)]!;
}

/**
 * Inserts a null row after every point followed by a silence longer than `factor` × `stepMs`.
 * `columns` are parallel to `times`; returns new arrays.
 */
export function withGaps(
  times: readonly number[],
  columns: readonly (readonly (number | null)[])[],
  stepMs: number,
  factor = 2.5,
): { times: number[]; columns: (number | null)[][] } {
  const outTimes: number[] = [];
  const outColumns: (number | null)[][] = columns.map(() => []);
  for (let i = 0; i < times.length; i++) {
    if (i > 0 && stepMs > 0 && times[i]! - times[i - 1]! > factor * stepMs) {
      outTimes.push(times[i - 1]! + stepMs);
      for (const col of outColumns) col.push(null);
    }
    outTimes.push(times[i]!);
    columns.forEach((col, c) => outColumns[c]!.push(col[i] ?? null));
  }
  return { times: outTimes, columns: outColumns };
}

/**
 * The series API's answer from query rows of `[ts_ms, ...metric values]`: uPlot's `[xs, ...ys]`
 * in seconds, with holes made visible. `stepMs` 0 means raw samples (their own spacing decides
 * what a hole is); otherwise each row is a bucket of that width.
 */
export function seriesResponse(
  node: string,
  metrics: SeriesMetric[],
  fromMs: number,
  toMs: number,
  resolution: Resolution,
  stepMs: number,
  rows: (number | null)[][],
): SeriesResponse {
  const times = rows.map((r) => r[0] as number);
  const columns = metrics.map((_, m) => rows.map((r) => r[m + 1] ?? null));
  const filled = withGaps(times, columns, stepMs === 0 ? typicalStep(times) : stepMs);
  return {
    node,
    metrics,
    from_ms: fromMs,
    to_ms: toMs,
    step_s: stepMs === 0 ? null : stepMs / 1000,
    resolution,
    data: [filled.times.map((t) => t / 1000), ...filled.columns],
  };
}
