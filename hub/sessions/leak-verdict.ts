// The leak verdict: a pure function of a session's memory samples. Shared by the hub (sessions),
// the web (demo session) and `remonitor record`.
//
// How it decides (each threshold is in LeakThresholds, with its default):
//  1. Not enough data: fewer than `minSamples` samples, or less than `minDurationMs` covered.
//  2. The first `warmupFraction` of the session is left out of the fit: a process filling its
//     caches and pools at start-up is not leaking (the warm-up plateau).
//  3. Over the rest: least-squares slope of RSS (MB/h, MB = 2^20 bytes) and r².
//  4. `leak suspected` only when all hold:
//     - the slope is at least `minSlopeMbPerHour`;
//     - the fit explains the data: r² ≥ `minR2`;
//     - the floor rises: the minimum RSS of each of `windows` equal slices never falls by more
//       than the noise, and the last floor is above the first by at least `minGrowthMb` and
//       `minGrowthPct` %. A garbage-collected heap (a sawtooth) returns to the same floor after
//       each collection, so its floors stay level however high its teeth;
//     - the climb goes on to the end: the slope over the last half of the fitted part is at least
//       `tailSlopeRatio` of the whole slope (a late plateau is not a leak).
//  5. Otherwise `no leak` only when the fitted line is flat: its slope is under `minSlopeMbPerHour`,
//     or all it rises over the fitted part is less than the growth the floor rule asks for (so a
//     sawtooth's slope of a few MB/h over its teeth stays `no leak`). A line that does rise by that
//     much, but fails another test (a step, a late plateau, a noisy climb, too few teeth to tell), is
//     `growing`: never shown as "no leak" beside a slope that says otherwise.
// `headline` puts the verdict in a few words for every place that shows it (the session page, the
// sessions list, `remonitor record`'s summary and HTML report), so that none words it on its own.
import type { LeakAnalysis, LeakThresholds, Verdict } from '../../shared/leak-analysis.ts';

export type { LeakAnalysis, LeakThresholds, Verdict };

export const DEFAULT_THRESHOLDS: Readonly<LeakThresholds> = Object.freeze({
  minSamples: 10,
  minDurationMs: 3000,
  warmupFraction: 0.2,
  minSlopeMbPerHour: 1,
  minR2: 0.2,
  windows: 4,
  minGrowthMb: 1,
  minGrowthPct: 5,
  tailSlopeRatio: 0.3,
});

export interface MemoryPoint {
  ts_ms: number;
  rss_bytes: number;
}

const MB = 1024 * 1024;
const HOUR_MS = 3_600_000;

/**
 * The points a verdict is reached on once the process has ended: a program frees its memory as it
 * shuts down (V8 disposes its heap before the exit call), so a read in the last interval before the
 * end may catch RSS halfway down, which reads as a leak that stopped. That interval is left out.
 */
export function beforeTheEnd<P extends MemoryPoint>(points: readonly P[], endedMs: number, intervalMs: number): P[] {
  return points.filter((p) => p.ts_ms < endedMs - intervalMs);
}

/** Least squares of y on x: slope, intercept (at x = 0) and r². */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  if (n < 2) return { slope: 0, intercept: ys[0] ?? 0, r2: 0 };
  let sx = 0,
    sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n,
    my = sy / n;
  let sxx = 0,
    sxy = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx,
      dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: 0, intercept: my, r2: 0 };
  const slope = sxy / sxx;
  // A flat series (syy = 0) is explained perfectly by a flat line, but has nothing to explain: 0.
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}

export function analyzeLeak(points: readonly MemoryPoint[], overrides: Partial<LeakThresholds> = {}): LeakAnalysis {
  const th: LeakThresholds = { ...DEFAULT_THRESHOLDS, ...overrides };
  const pts = [...points].filter((p) => Number.isFinite(p.ts_ms) && Number.isFinite(p.rss_bytes)).sort((a, b) => a.ts_ms - b.ts_ms);
  const n = pts.length;
  const duration = n > 0 ? pts[n - 1]!.ts_ms - pts[0]!.ts_ms : 0;
  const base = { samples: n, duration_ms: duration, thresholds: th };
  const peak = n > 0 ? Math.max(...pts.map((p) => p.rss_bytes)) : null;
  if (n < th.minSamples || duration < th.minDurationMs) {
    return {
      ...base,
      verdict: 'not enough data',
      headline: 'Not enough data',
      reason: `${n} samples over ${(duration / 1000).toFixed(1)} s; a verdict needs at least ${th.minSamples} samples over ${(th.minDurationMs / 1000).toFixed(1)} s`,
      slope_mb_per_h: null,
      r2: null,
      growth_bytes: null,
      growth_pct: null,
      peak_rss_bytes: peak,
      fit: null,
    };
  }
  const t0 = pts[0]!.ts_ms;
  const tenth = Math.max(1, Math.floor(n / 10));
  const mean = (xs: readonly MemoryPoint[]) => xs.reduce((a, p) => a + p.rss_bytes, 0) / xs.length;
  const startMean = mean(pts.slice(0, tenth));
  const growth = mean(pts.slice(n - tenth)) - startMean;
  const growthPct = startMean > 0 ? (growth / startMean) * 100 : 0;

  const fitted = pts.filter((p) => p.ts_ms >= t0 + duration * th.warmupFraction);
  const fitFrom = fitted[0]!.ts_ms;
  const fit = linearFit(
    fitted.map((p) => p.ts_ms - fitFrom),
    fitted.map((p) => p.rss_bytes),
  );
  const slopeMbH = (fit.slope * HOUR_MS) / MB;
  const tailFrom = fitFrom + (pts[n - 1]!.ts_ms - fitFrom) / 2;
  const tail = fitted.filter((p) => p.ts_ms >= tailFrom);
  const tailSlopeMbH =
    (linearFit(
      tail.map((p) => p.ts_ms - fitFrom),
      tail.map((p) => p.rss_bytes),
    ).slope *
      HOUR_MS) /
    MB;

  // Floors: the minimum of each equal time slice of the fitted part.
  const span = pts[n - 1]!.ts_ms - fitFrom;
  const floors: number[] = [];
  for (let w = 0; w < th.windows; w++) {
    const lo = fitFrom + (span * w) / th.windows;
    const hi = fitFrom + (span * (w + 1)) / th.windows;
    const inWindow = fitted.filter((p) => p.ts_ms >= lo && (w === th.windows - 1 ? p.ts_ms <= hi : p.ts_ms < hi));
    if (inWindow.length > 0) floors.push(Math.min(...inWindow.map((p) => p.rss_bytes)));
  }
  const floorRise = floors.length >= 2 ? floors[floors.length - 1]! - floors[0]! : 0;
  const floorBase = floors[0] ?? 0;
  const minRise = Math.max(th.minGrowthMb * MB, (floorBase * th.minGrowthPct) / 100);
  // A floor may dip by noise (a tenth of the needed rise) without breaking "never falls".
  const floorsRise = floors.every((f, i) => i === 0 || f >= floors[i - 1]! - minRise / 10) && floorRise >= minRise;

  const checks: [boolean, string][] = [
    [slopeMbH >= th.minSlopeMbPerHour, `slope ${slopeMbH.toFixed(2)} MB/h ${slopeMbH >= th.minSlopeMbPerHour ? '≥' : '<'} ${th.minSlopeMbPerHour} MB/h`],
    [fit.r2 >= th.minR2, `r² ${fit.r2.toFixed(2)} ${fit.r2 >= th.minR2 ? '≥' : '<'} ${th.minR2}`],
    [
      floorsRise,
      `the floor ${floorsRise ? 'rises' : 'does not keep rising'} (${(floorRise / MB).toFixed(1)} MB over ${floors.length} slices, ${(minRise / MB).toFixed(1)} MB needed)`,
    ],
    [tailSlopeMbH >= slopeMbH * th.tailSlopeRatio, `the last half climbs at ${tailSlopeMbH.toFixed(2)} MB/h`],
  ];
  const leak = checks.every(([ok]) => ok);
  // What the fitted line itself rises over the fitted part, against the growth the floor rule asks for.
  const rise = fit.slope * span;
  const flat = slopeMbH < th.minSlopeMbPerHour || rise < minRise;
  const verdict: Verdict = leak ? 'leak suspected' : flat ? 'no leak' : 'growing';
  const failed = checks.filter(([ok]) => !ok).map(([, text]) => text);
  const riseText = `the fitted line rises ${(rise / MB).toFixed(1)} MB over ${(span / 1000).toFixed(1)} s`;
  let reason: string;
  let headline: string;
  if (verdict === 'leak suspected') {
    reason = `steady climb: ${checks.map(([, text]) => text).join('; ')}`;
    headline = 'Leak suspected';
  } else if (verdict === 'no leak') {
    const why = slopeMbH < th.minSlopeMbPerHour ? failed : [`${riseText}, less than the ${(minRise / MB).toFixed(1)} MB that counts as growth`, ...failed];
    reason = `no sustained climb: ${why.join('; ')}`;
    headline = 'No leak';
  } else {
    reason = `growing, not a steady leak: ${riseText}, but ${failed.join('; ')}`;
    // The first test it fails, in a few words (the slope test passes, or it would be flat).
    const short = fit.r2 < th.minR2 ? `r² ${fit.r2.toFixed(2)}` : !floorsRise ? 'its floor does not keep rising' : 'levelled off';
    headline = `Growing, not a steady leak (${short})`;
  }
  return {
    ...base,
    verdict,
    headline,
    reason,
    slope_mb_per_h: round(slopeMbH, 3),
    r2: round(fit.r2, 3),
    growth_bytes: Math.round(growth),
    growth_pct: round(growthPct, 1),
    peak_rss_bytes: peak,
    fit: { from_ms: fitFrom, to_ms: pts[n - 1]!.ts_ms, intercept_bytes: fit.intercept, slope_bytes_per_ms: fit.slope },
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Reads thresholds from a partial record (config file, query), refusing unknown keys and bad values. */
export function parseThresholds(raw: Record<string, unknown>): Partial<LeakThresholds> | { problem: string } {
  const out: Partial<LeakThresholds> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in DEFAULT_THRESHOLDS)) return { problem: `unknown leak threshold "${key}"; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}` };
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      return { problem: `leak threshold "${key}" must be a number ≥ 0, got ${JSON.stringify(value)}` };
    (out as Record<string, number>)[key] = value;
  }
  return out;
}
