// Rollup tiers: which tier serves a range, the SQL that keeps each tier current as samples are
// stored, and the SQL that reads a tier back as chart points.
import { parseDuration } from '../../protocol/index.ts';
import { SERIES_METRICS, type SeriesMetric } from '../../shared/api-types.ts';
import { NODE_MINUTES_SQL } from './sqlite/sample-minutes.ts';

export const TIERS = [
  { name: '1m', seconds: 60 },
  { name: '15m', seconds: 900 },
  { name: '1h', seconds: 3600 },
] as const;
export type TierName = (typeof TIERS)[number]['name'];
export type Resolution = 'raw' | TierName;

/** How long each resolution is kept, in ms. */
export type Retention = Record<Resolution, number>;

const DAY = 86_400_000;
export const DEFAULT_RETENTION: Retention = { raw: 2 * DAY, '1m': 14 * DAY, '15m': 90 * DAY, '1h': 730 * DAY };

/** Parses `raw=48h,1m=14d,15m=90d,1h=730d` (any subset; the rest keep their defaults). */
export function parseRetention(text: string): Retention | { problem: string } {
  const retention = { ...DEFAULT_RETENTION };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=');
    if (!key || !(key in retention)) return { problem: `unknown resolution "${key}": expected raw, 1m, 15m or 1h` };
    const ms = parseDuration(value ?? '');
    if (!ms) return { problem: `"${part}": expected a duration such as 48h or 14d` };
    retention[key as Resolution] = ms;
  }
  return retention;
}

/**
 * The coarsest resolution that still gives about `maxPoints` points over [from, to], falling back
 * to a coarser one when the finer one no longer holds data that old. Pure.
 */
export function chooseResolution(fromMs: number, toMs: number, maxPoints: number, nowMs: number, retention: Retention): Resolution {
  const stepMs = (toMs - fromMs) / maxPoints;
  const covers = (r: Resolution) => fromMs >= nowMs - retention[r];
  let choice: Resolution = 'raw';
  for (const tier of TIERS) if (tier.seconds * 1000 <= stepMs) choice = tier.name;
  const order: Resolution[] = ['raw', ...TIERS.map((t) => t.name)];
  for (let i = order.indexOf(choice); i < order.length; i++) if (covers(order[i]!)) return order[i]!;
  return order[order.length - 1]!;
}

/** `ms` moved down (floor) or up (ceil) to a multiple of `step`. */
export const alignDown = (ms: number, step: number) => ms - (ms % step);
export const alignUp = (ms: number, step: number) => alignDown(ms + step - 1, step);

export function tierSeconds(name: TierName): number {
  return TIERS.find((t) => t.name === name)!.seconds;
}

const ROLLUP_COLUMNS = SERIES_METRICS.flatMap((m) => [`${m}_min`, `${m}_max`, `${m}_sum`, `${m}_n`]);

/**
 * Rebuilds one node's 1 min buckets from its raw samples in the given minutes: binds (minutes as
 * a JSON array, node id). Only buckets that hold samples are written. One node at a time, each a
 * seek per minute in the samples' index (hub/storage/sqlite/sample-minutes.ts), not a scan of its history.
 */
export function rollupFromRawSql(): string {
  const aggregates = SERIES_METRICS.flatMap((m) => [`min(${m})`, `max(${m})`, `sum(${m})`, `count(${m})`]);
  return `INSERT OR REPLACE INTO rollups (tier, node_id, bucket_ms, n, ${ROLLUP_COLUMNS.join(', ')})
    SELECT 60, node_id, ts_ms - (ts_ms % 60000) AS b, count(*), ${aggregates.join(', ')}
    FROM samples WHERE ${NODE_MINUTES_SQL} GROUP BY b`;
}

/**
 * Merges one node's minute of new samples into its 1 min bucket (hub/storage/minute-sums.ts): binds (node
 * id, bucket ms, n, then min, max, sum, count per metric). min(a, b) is NULL when either is, hence
 * the coalesce: a metric the bucket had not seen yet takes the new value.
 */
export function rollupMergeSql(): string {
  const values = SERIES_METRICS.flatMap(() => ['?', '?', '?', '?']);
  const merge = SERIES_METRICS.flatMap((m) => [
    `${m}_min = coalesce(min(${m}_min, excluded.${m}_min), ${m}_min, excluded.${m}_min)`,
    `${m}_max = coalesce(max(${m}_max, excluded.${m}_max), ${m}_max, excluded.${m}_max)`,
    `${m}_sum = coalesce(${m}_sum + excluded.${m}_sum, ${m}_sum, excluded.${m}_sum)`,
    `${m}_n = ${m}_n + excluded.${m}_n`,
  ]);
  return `INSERT INTO rollups (tier, node_id, bucket_ms, n, ${ROLLUP_COLUMNS.join(', ')}) VALUES (60, ?, ?, ?, ${values.join(', ')})
    ON CONFLICT (tier, node_id, bucket_ms) DO UPDATE SET n = n + excluded.n, ${merge.join(', ')}`;
}

/** The tiers rebuilt from the 1 min tier. */
export const DERIVED_TIERS = TIERS.filter((t) => t.name !== '1m');

/**
 * Rebuilds one node's buckets of a derived tier from its 1 min tier, from a bucket boundary on:
 * binds (tier seconds, tier ms, node id, from ms).
 */
export function rollupDeriveSql(): string {
  const aggregates = SERIES_METRICS.flatMap((m) => [`min(${m}_min)`, `max(${m}_max)`, `sum(${m}_sum)`, `sum(${m}_n)`]);
  return `INSERT OR REPLACE INTO rollups (tier, node_id, bucket_ms, n, ${ROLLUP_COLUMNS.join(', ')})
    SELECT ?, node_id, bucket_ms - (bucket_ms % ?) AS b, sum(n), ${aggregates.join(', ')}
    FROM rollups WHERE tier = 60 AND node_id = ? AND bucket_ms >= ? GROUP BY b`;
}

/** Means of `metrics` per bucket of `step` ms from one tier: binds (step, tier, node_id, from, to). */
export function rollupSelectSql(metrics: readonly SeriesMetric[]): string {
  return `SELECT bucket_ms - (bucket_ms % ?) AS t, ${metrics.map((m) => `sum(${m}_sum) / nullif(sum(${m}_n), 0)`).join(', ')}
    FROM rollups WHERE tier = ? AND node_id = ? AND bucket_ms BETWEEN ? AND ? GROUP BY t ORDER BY t`;
}
