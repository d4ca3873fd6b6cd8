// A leak verdict as the hub, the web pages and `remonitor record` show it; how it is reached is
// hub/sessions/leak-verdict.ts.

export const VERDICTS = ['leak suspected', 'growing', 'no leak', 'not enough data'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface LeakThresholds {
  minSamples: number;
  minDurationMs: number;
  warmupFraction: number;
  minSlopeMbPerHour: number;
  minR2: number;
  windows: number;
  minGrowthMb: number;
  minGrowthPct: number;
  tailSlopeRatio: number;
}

export interface LeakAnalysis {
  verdict: Verdict;
  /** The verdict in a few words, as shown: "Leak suspected", "Growing, not a steady leak (r² 0.06)", "No leak", "Not enough data". */
  headline: string;
  /** One sentence saying why, with the numbers. */
  reason: string;
  samples: number;
  duration_ms: number;
  /** Least-squares slope over the fitted part, MB/h; null without enough data. */
  slope_mb_per_h: number | null;
  r2: number | null;
  /** Mean RSS of the last tenth minus that of the first tenth of the session, bytes. */
  growth_bytes: number | null;
  growth_pct: number | null;
  peak_rss_bytes: number | null;
  /** The fitted line, to draw over the data: rss = intercept_bytes + slope × (t − from_ms). */
  fit: { from_ms: number; to_ms: number; intercept_bytes: number; slope_bytes_per_ms: number } | null;
  thresholds: LeakThresholds;
}
