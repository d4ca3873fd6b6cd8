// Daily partitions of the PostgreSQL `samples` table (by ts_ms) and of `labelled_rollups` (by
// bucket_ms): created ahead as rows arrive, dropped whole once past their retention (no row-by-row
// DELETE, no table bloat, no VACUUM debt). With TimescaleDB the hypertables make their chunks
// themselves; drop_chunks replaces the DROP.
import type { Pool, PoolClient } from 'pg';
import { alignDown } from '../rollups.ts';
import { LOCK_KEYS, type Partitioning } from './pg-schema.ts';

export const DAY_MS = 86_400_000;

/** The UTC day that holds `ms`, as the ms of its first instant (partition bounds). */
export const dayOf = (ms: number) => alignDown(ms, DAY_MS);

/** The tables split by day, each by its time column. */
export type PartitionedTable = 'samples' | 'labelled_rollups';
const TIME_COLUMN: Record<PartitionedTable, string> = { samples: 'ts_ms', labelled_rollups: 'bucket_ms' };

/** `samples_20261126` (or `labelled_rollups_20261126`) for the day starting at `dayMs` (UTC). */
export function tablePartitionName(table: PartitionedTable, dayMs: number): string {
  return `${table}_${new Date(dayMs).toISOString().split('T')[0]!.replace(/\D/g, '')}`;
}

/** `samples_20261126` for the day starting at `dayMs` (UTC). */
export const partitionName = (dayMs: number): string => tablePartitionName('samples', dayMs);

/** The days (start ms) that `table` has a partition for. */
export async function listPartitionDays(pool: Pool, table: PartitionedTable = 'samples'): Promise<number[]> {
  const { rows } = await pool.query<{ bound: string }>(
    `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass`,
    [table],
  );
  // FOR VALUES FROM ('1764115200000') TO ('1764201600000')
  return rows.map((r) => Number(/FROM \('?(-?\d+)/.exec(r.bound)?.[1] ?? NaN)).filter(Number.isFinite);
}

/**
 * Creates the partitions of `days` that do not exist yet, in one short transaction under an
 * advisory lock, so that two hubs creating the same day take turns instead of colliding.
 */
export async function createPartitions(pool: Pool, days: number[], table: PartitionedTable = 'samples'): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEYS.partitions.toString()]);
    for (const day of days) {
      await client.query(`CREATE TABLE IF NOT EXISTS ${tablePartitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    }
  });
}

/**
 * Drops the partitions that end at or before `cutoffMs`, one per transaction with `pause` between
 * them. Returns the rows they held and the days dropped. Rows younger than a day past the cutoff
 * stay until their whole day has expired.
 */
export async function dropPartitionsBefore(
  pool: Pool,
  partitioning: Partitioning,
  cutoffMs: number,
  pause: () => Promise<void>,
  table: PartitionedTable = 'samples',
): Promise<{ rows: number; days: number[] }> {
  const lastDay = dayOf(cutoffMs) - DAY_MS; // the newest day that has wholly expired
  if (partitioning === 'timescaledb') {
    // UNTESTED (no TimescaleDB here): chunks are 1 day wide from 0, as the partitions are.
    return inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${TIME_COLUMN[table]} < $1`, [lastDay + DAY_MS]);
      await client.query('SELECT drop_chunks($1::regclass, older_than => $2::bigint)', [table, lastDay + DAY_MS]);
      return { rows: rows[0]!.n, days: [] };
    });
  }
  const expired = (await listPartitionDays(pool, table)).filter((day) => day <= lastDay).sort((a, b) => a - b);
  let rows = 0;
  for (const day of expired) {
    rows += await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEYS.partitions.toString()]);
      const name = tablePartitionName(table, day);
      // Counted for the caller's log line: a scan of one day that is about to go anyway.
      const { rows: count } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}`);
      await client.query(`DROP TABLE IF EXISTS ${name}`);
      return count[0]!.n;
    });
    await pause();
  }
  return { rows, days: expired };
}

/**
 * Empties the partitions of `days` whose rows have all gone (moved into chunks,
 * hub/storage/postgres/pg-chunks.ts): DELETE leaves their pages, which no later insert reuses (new rows go
 * to newer days), until the day is dropped. TRUNCATE gives them back. Its lock waits for the
 * statements that read the table, and holds up those that come after: a partition that cannot be
 * locked within a moment is left to the next run. Returns the partitions emptied.
 */
export async function truncateEmptyPartitions(pool: Pool, days: readonly number[], pause: () => Promise<void>): Promise<number> {
  let emptied = 0;
  for (const day of days) {
    const name = partitionName(day);
    // Without a lock first: most days are long emptied (no pages), or still hold rows.
    const { rows } = await pool.query<{ pages: boolean; rows: boolean }>(
      `SELECT pg_relation_size($1::regclass) > 0 AS pages, EXISTS (SELECT 1 FROM ${name}) AS rows`,
      [name],
    );
    if (!rows[0]?.pages || rows[0].rows) continue;
    const done = await inTransaction(pool, async (client) => {
      await client.query("SET LOCAL lock_timeout = '200ms'");
      await client.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
      const { rowCount } = await client.query(`SELECT 1 FROM ${name} LIMIT 1`);
      if ((rowCount ?? 0) > 0) return false;
      await client.query(`TRUNCATE ${name}`);
      return true;
    }).catch((err: { code?: string }) => {
      if (err.code === '55P03' /* lock_not_available */) return false;
      throw err;
    });
    if (done) emptied++;
    await pause();
  }
  return emptied;
}

/** Runs `work` in a transaction on one pooled connection; rolls back and rethrows on failure. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // The connection may be what failed: then it leaves the pool rather than fail the next caller.
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
