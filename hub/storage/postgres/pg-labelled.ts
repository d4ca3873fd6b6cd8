// Labelled series on PostgreSQL (schema step 8, hub/storage/postgres/pg-schema.ts), as on SQLite (hub/storage/sqlite/labelled-rollups.ts)
// and through the same pure code (hub/storage/labelled-series.ts): raw values are the samples' detail
// blobs; each batch marks the (node, minute)s it stored in labelled_dirty, under its node locks;
// the rollup run takes those marks a slice at a time under the same locks, rebuilds the minutes'
// buckets from the blobs and writes them into labelled_rollups' daily partitions. Reads serve
// short ranges from the blobs and longer ones from the buckets.
import type { Pool, PoolClient } from 'pg';
import {
  bucketedLabelledSeries,
  bucketStepMs,
  MAX_SERIES_PER_NODE_MINUTE,
  minuteBuckets,
  RAW_LABELLED_MS,
  rawLabelledSeries,
  type DetailRow,
  type LabelledSeries,
  type MinuteBucket,
} from '../labelled-series.ts';
import { createPartitions, DAY_MS, dayOf, dropPartitionsBefore, listPartitionDays } from './pg-partitions.ts';
import type { Partitioning } from './pg-schema.ts';

/**
 * How long a transaction of the rollup run should take, ms: the slice's nodes wait for it to commit
 * (their batches take the same locks). The node-minutes a slice takes follow from the last slice's
 * time: at 1 Hz a node-minute is 60 blobs to read and decode (about 5 ms on a busy 2-core machine).
 */
const SLICE_MS = 100;
/** Node-minutes of the first slice of a run, and the most any slice takes. */
const FIRST_SLICE_MINUTES = 20;
const MAX_SLICE_MINUTES = 1000;

/** Marks the (node, minute)s of $1 (int[]), $2 (bigint[], ms) as stored since the last rebuild; run under the batch's node locks. */
export const MARK_LABELLED_SQL = {
  name: 'rm_labelled_dirty',
  text: 'INSERT INTO labelled_dirty (node_id, minute_ms) SELECT * FROM unnest($1::int[], $2::bigint[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING',
};

export class PgLabelled {
  /** Days (start ms) known to have a partition of labelled_rollups. */
  private readonly partitionDays = new Set<number>();
  /** Nodes already told of (once each): over the label-set limit. */
  private readonly overLimit = new Set<number>();

  constructor(
    private readonly pool: Pool,
    private readonly partitioning: Partitioning,
    private readonly onOverLimit: (nodeId: number, limit: number) => void = () => {},
    /** The node's detail blobs kept in compressed chunks (hub/storage/postgres/pg-chunks.ts), in time order. */
    private readonly chunkDetails: (nodeId: number, fromMs: number, toMs: number) => Promise<DetailRow[]> = async () => [],
  ) {}

  /** The (node, minute)s of stored rows, each once, for MARK_LABELLED_SQL. */
  static marks(rows: Iterable<{ node_id: number; ts_ms: number }>): [number[], number[]] {
    const seen = new Set<string>();
    const nodes: number[] = [];
    const minutes: number[] = [];
    for (const r of rows) {
      const minute = r.ts_ms - (r.ts_ms % 60_000);
      const key = `${r.node_id} ${minute}`;
      if (seen.has(key)) continue;
      seen.add(key);
      nodes.push(r.node_id);
      minutes.push(minute);
    }
    return [nodes, minutes];
  }

  /**
   * Rebuilds the buckets of the marked minutes, a slice of about SLICE_MS a transaction with `pause`
   * between; marks of minutes before `keepFromMs` (whose samples may be partly purged) are dropped
   * unbuilt, keeping the buckets they have. At most as many marks as there were at the start, so
   * that a live fleet marking the current minute again and again cannot keep it going.
   * `transaction` runs a transaction (retried after a deadlock). Returns the slices done. `nowMs`:
   * the hub's clock, for the partitions made ahead.
   */
  async rebuild(
    nowMs: number,
    keepFromMs: number,
    transaction: <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>,
    pause: () => Promise<void>,
  ): Promise<number> {
    const { rows: count } = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM labelled_dirty');
    const marks = count[0]!.n;
    if (marks === 0) return 0;
    // The partitions first, outside the slices' transactions (making one locks the whole table):
    // the marked days, and today and tomorrow for marks made meanwhile.
    const { rows: days } = await this.pool.query<{ day: number }>(
      'SELECT DISTINCT minute_ms - minute_ms % $1::bigint AS day FROM labelled_dirty WHERE minute_ms >= $2',
      [DAY_MS, keepFromMs],
    );
    const today = dayOf(nowMs);
    await this.ensurePartitions([...days.map((d) => d.day), today, today + DAY_MS]);
    let slices = 0;
    let perSlice = FIRST_SLICE_MINUTES;
    for (let taken = 0; taken < marks; ) {
      const started = performance.now();
      const n = await transaction((client) => this.rebuildSlice(client, keepFromMs, perSlice)).catch((err: Error & { code?: string }) => {
        // 23514: a bucket's day has no partition (another hub dropped it, or a mark came for a new day meanwhile).
        if (err.code === '23514') this.partitionDays.clear();
        throw err;
      });
      if (n === 0) break;
      taken += n;
      slices++;
      const ms = Math.max(1, performance.now() - started);
      perSlice = Math.max(1, Math.min(MAX_SLICE_MINUTES, Math.round((perSlice * SLICE_MS) / ms)));
      await pause();
    }
    return slices;
  }

  /** One slice of rebuild(), of at most `limit` node-minutes; returns the marks taken (0: none were left). */
  private async rebuildSlice(client: PoolClient, keepFromMs: number, limit: number): Promise<number> {
    const { rows: candidates } = await client.query<{ node_id: number }>(
      'SELECT DISTINCT node_id FROM (SELECT node_id FROM labelled_dirty ORDER BY node_id, minute_ms LIMIT $1) c',
      [limit],
    );
    if (candidates.length === 0) return 0;
    // The nodes' locks first, as a batch takes them (id order): a batch that marked a minute has
    // committed its samples before the marks are taken, and one that comes later marks it again.
    const nodeIds = candidates.map((r) => r.node_id).sort((a, b) => a - b);
    await client.query({ name: 'rm_labelled_lock', text: 'SELECT 1 FROM nodes WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE', values: [nodeIds] });
    const { rows: taken } = await client.query<{ node_id: number; minute_ms: number }>({
      name: 'rm_labelled_take',
      text: `DELETE FROM labelled_dirty WHERE (node_id, minute_ms) IN (
               SELECT node_id, minute_ms FROM labelled_dirty WHERE node_id = ANY($1::int[]) ORDER BY node_id, minute_ms LIMIT $2)
             RETURNING node_id, minute_ms`,
      values: [nodeIds, limit],
    });
    const minutes = taken.filter((t) => t.minute_ms >= keepFromMs);
    if (minutes.length === 0) return taken.length;
    const m = { nodes: minutes.map((t) => t.node_id), minutes: minutes.map((t) => t.minute_ms) };
    const { rows: details } = await client.query<{ node_id: number } & DetailRow>({
      name: 'rm_labelled_details',
      text: `SELECT s.node_id, s.ts_ms, s.detail FROM unnest($1::int[], $2::bigint[]) AS d(node_id, minute_ms)
             JOIN samples s ON s.node_id = d.node_id AND s.ts_ms >= d.minute_ms AND s.ts_ms < d.minute_ms + 60000`,
      values: [m.nodes, m.minutes],
    });
    const byNode = new Map<number, DetailRow[]>();
    for (const r of details) {
      let list = byNode.get(r.node_id);
      if (!list) byNode.set(r.node_id, (list = []));
      list.push(r);
    }
    const buckets: (MinuteBucket & { nodeId: number })[] = [];
    for (const [nodeId, rows] of byNode) {
      const built = minuteBuckets(rows);
      if (built.overLimit && !this.overLimit.has(nodeId)) {
        this.overLimit.add(nodeId);
        this.onOverLimit(nodeId, MAX_SERIES_PER_NODE_MINUTE);
      }
      for (const b of built.buckets) buckets.push({ ...b, nodeId });
    }
    await client.query({
      name: 'rm_labelled_clear',
      text: `DELETE FROM labelled_rollups r USING labelled_series s, unnest($1::int[], $2::bigint[]) AS d(node_id, minute_ms)
             WHERE r.series_id = s.id AND s.node_id = d.node_id AND r.bucket_ms = d.minute_ms`,
      values: [m.nodes, m.minutes],
    });
    if (buckets.length === 0) return taken.length;
    const ids = await this.seriesIds(client, buckets);
    await client.query({
      name: 'rm_labelled_insert',
      text: 'INSERT INTO labelled_rollups (series_id, bucket_ms, n, sum) SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[], $4::float8[])',
      values: [
        buckets.map((b) => ids.get(`${b.nodeId}\u0000${b.name}\u0000${b.labels}`)!),
        buckets.map((b) => b.bucketMs),
        buckets.map((b) => b.n),
        buckets.map((b) => b.sum),
      ],
    });
    return taken.length;
  }

  /**
   * The ids of the buckets' series, made where missing. Read each time rather than cached: another
   * hub may have removed a node and its series since.
   */
  private async seriesIds(client: PoolClient, buckets: readonly (MinuteBucket & { nodeId: number })[]): Promise<Map<string, number>> {
    const wanted = new Map<string, { nodeId: number; name: string; labels: string }>();
    for (const b of buckets) wanted.set(`${b.nodeId}\u0000${b.name}\u0000${b.labels}`, b);
    const series = [...wanted.values()];
    const values = [series.map((s) => s.nodeId), series.map((s) => s.name), series.map((s) => s.labels)];
    await client.query({
      name: 'rm_labelled_add_series',
      text: 'INSERT INTO labelled_series (node_id, name, labels) SELECT * FROM unnest($1::int[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING',
      values,
    });
    const { rows } = await client.query<{ id: number; node_id: number; name: string; labels: string }>({
      name: 'rm_labelled_series_ids',
      text: `SELECT s.id, s.node_id, s.name, s.labels FROM labelled_series s
             JOIN unnest($1::int[], $2::text[], $3::text[]) AS u(node_id, name, labels) USING (node_id, name, labels)`,
      values,
    });
    return new Map(rows.map((r) => [`${r.node_id}\u0000${r.name}\u0000${r.labels}`, r.id]));
  }

  /** The partitions of labelled_rollups for `days`, made where missing. */
  private async ensurePartitions(days: Iterable<number>): Promise<void> {
    if (this.partitioning !== 'native') return;
    if (this.partitionDays.size === 0) for (const d of await listPartitionDays(this.pool, 'labelled_rollups')) this.partitionDays.add(d);
    const missing = [...new Set(days)].filter((d) => !this.partitionDays.has(d)).sort((a, b) => a - b);
    if (missing.length === 0) return;
    await createPartitions(this.pool, missing, 'labelled_rollups');
    for (const d of missing) this.partitionDays.add(d);
  }

  /** A labelled metric of node `nodeId` over [fromMs, toMs] in about `points` steps (hub/storage/labelled-series.ts). */
  async query(nodeId: number, name: string, fromMs: number, toMs: number, points: number): Promise<LabelledSeries> {
    if (toMs - fromMs <= RAW_LABELLED_MS) {
      const { rows } = await this.pool.query<DetailRow>({
        name: 'rm_labelled_raw',
        text: 'SELECT ts_ms, detail FROM samples WHERE node_id = $1 AND ts_ms BETWEEN $2 AND $3 ORDER BY ts_ms',
        values: [nodeId, fromMs, toMs],
      });
      // Hours past the first ones may lie in chunks.
      const chunked = await this.chunkDetails(nodeId, fromMs, toMs);
      const all = chunked.length > 0 ? [...chunked, ...rows].sort((a, b) => a.ts_ms - b.ts_ms) : rows;
      return rawLabelledSeries(all, name, fromMs, toMs, points);
    }
    const stepMs = bucketStepMs(fromMs, toMs, points);
    const { rows } = await this.pool.query<{ t: number; labels: string; mean: number }>({
      name: 'rm_labelled_buckets',
      text: `SELECT r.bucket_ms - r.bucket_ms % $1::bigint AS t, s.labels, sum(r.sum) / sum(r.n) AS mean
             FROM labelled_series s JOIN labelled_rollups r ON r.series_id = s.id
             WHERE s.node_id = $2 AND s.name = $3 AND r.bucket_ms BETWEEN $4 AND $5 GROUP BY t, s.labels ORDER BY t`,
      values: [stepMs, nodeId, name, fromMs - (fromMs % 60_000), toMs],
    });
    return bucketedLabelledSeries(rows, stepMs);
  }

  /**
   * Drops the partitions of buckets whose whole day is past `beforeMs` (a day goes whole, so buckets
   * stay up to a day past it), and the marks of minutes before `marksBeforeMs`, whose samples are
   * going. Returns the buckets removed.
   */
  async purge(beforeMs: number, marksBeforeMs: number, pause: () => Promise<void>): Promise<number> {
    const dropped = await dropPartitionsBefore(this.pool, this.partitioning, beforeMs, pause, 'labelled_rollups');
    for (const day of dropped.days) this.partitionDays.delete(day);
    await this.pool.query('DELETE FROM labelled_dirty WHERE minute_ms < $1', [marksBeforeMs]);
    return dropped.rows;
  }

  /** Deletes what is stored of a removed node's labelled series (its raw values go with its samples). */
  async purgeNode(nodeId: number, pause: () => Promise<void>): Promise<number> {
    let deleted = 0;
    for (const sql of [
      'DELETE FROM labelled_rollups WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = $1)',
      'DELETE FROM labelled_series WHERE node_id = $1',
      'DELETE FROM labelled_dirty WHERE node_id = $1',
    ]) {
      deleted += (await this.pool.query(sql, [nodeId])).rowCount ?? 0;
      await pause();
    }
    return deleted;
  }
}
