// The rollup SQL of hub/storage/rollups.ts in PostgreSQL's dialect: ON CONFLICT instead of INSERT OR
// REPLACE, $n parameters, a slice of nodes per statement (node_id = ANY), and float8 sums (a sum
// of `real` would add up in float4).
import { SERIES_METRICS, type SeriesMetric } from '../../../shared/api-types.ts';

const ROLLUP_COLUMNS = SERIES_METRICS.flatMap((m) => [`${m}_min`, `${m}_max`, `${m}_sum`, `${m}_n`]);
const UPSERT = `ON CONFLICT (tier, node_id, bucket_ms) DO UPDATE SET n = EXCLUDED.n, ${ROLLUP_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

/** Rebuilds the 1 min buckets of the nodes $1 (int[]) from their raw samples, from $2 (ms, a minute boundary) on. */
export const PG_ROLLUP_FROM_RAW_SQL = `INSERT INTO rollups (tier, node_id, bucket_ms, n, ${ROLLUP_COLUMNS.join(', ')})
  SELECT 60, node_id, ts_ms - ts_ms % 60000 AS b, count(*),
    ${SERIES_METRICS.map((m) => `min(${m})::float8, max(${m})::float8, sum(${m}::float8), count(${m})`).join(', ')}
  FROM samples WHERE node_id = ANY($1::int[]) AND ts_ms >= $2 GROUP BY node_id, b
  ${UPSERT}`;

/** Rebuilds a derived tier ($1 s, $2 ms) of the nodes $3 (int[]) from their 1 min tier, from $4 (ms) on. */
export const PG_ROLLUP_DERIVE_SQL = `INSERT INTO rollups (tier, node_id, bucket_ms, n, ${ROLLUP_COLUMNS.join(', ')})
  SELECT $1::int, node_id, bucket_ms - bucket_ms % $2::bigint AS b, sum(n),
    ${SERIES_METRICS.map((m) => `min(${m}_min), max(${m}_max), sum(${m}_sum), sum(${m}_n)`).join(', ')}
  FROM rollups WHERE tier = 60 AND node_id = ANY($3::int[]) AND bucket_ms >= $4 GROUP BY node_id, b
  ${UPSERT}`;

/** Means of `metrics` per bucket of $1 ms from tier $2, node $3, buckets $4..$5. */
export function pgRollupSelectSql(metrics: readonly SeriesMetric[]): string {
  return `SELECT bucket_ms - bucket_ms % $1::bigint AS t, ${metrics.map((m) => `sum(${m}_sum) / nullif(sum(${m}_n), 0)`).join(', ')}
    FROM rollups WHERE tier = $2 AND node_id = $3 AND bucket_ms BETWEEN $4 AND $5 GROUP BY t ORDER BY t`;
}
