// Rollup buckets past their first hours, compressed (rollup_chunks, hub/storage/sqlite/migrations/015): one row
// per node, tier and window (RollupWindow) holding the window's buckets (n, then min, max, sum and
// count of every metric) encoded by hub/storage/chunk-codec.ts, against some 300 B a bucket in `rollups`.
// A window is either rows or one chunk, never both: compaction moves a finished window's rows into
// its chunk in one transaction, and a rollup run that is about to write into a compacted window
// (late samples, a backfill, a rebuild) first moves its chunk back into rows (expandFrom), so the
// SQL that merges and derives buckets works on rows as before. Readers read both.
import type Database from 'better-sqlite3';
import { decodeBuckets, encodeBuckets, type BucketRows } from '../chunk-codec.ts';
import { COMPACT_AFTER_MS } from './chunk-store.ts';
import { SAMPLE_COLUMNS } from '../packed-samples.ts';
import type { SeriesMetric } from '../../../shared/api-types.ts';
import { TIERS } from '../rollups.ts';
import { inSlicedTransactions } from './sliced-transactions.ts';

const HOUR = 3_600_000;

/**
 * A chunk's window by tier (seconds): some hundreds of buckets each (360, 96, 168), enough for the
 * compressor, few enough that rows hold at most a window and COMPACT_AFTER_MS of each tier.
 */
export const ROLLUP_WINDOW_MS: Readonly<Record<number, number>> = { 60: 6 * HOUR, 900: 24 * HOUR, 3600: 7 * 24 * HOUR };

/** The window of a tier that holds `ms` (floor, also for times before 1970). */
export const rollupWindowOf = (tierSeconds: number, ms: number) => Math.floor(ms / ROLLUP_WINDOW_MS[tierSeconds]!) * ROLLUP_WINDOW_MS[tierSeconds]!;

/** The columns of `rollups` a chunk holds, in its column order: four per metric of the registry (it only grows). */
const BUCKET_COLUMNS = SAMPLE_COLUMNS.flatMap((m) => [`${m}_min`, `${m}_max`, `${m}_sum`, `${m}_n`]);
const sumColumn = (metric: SeriesMetric) => 4 * SAMPLE_COLUMNS.indexOf(metric) + 2;

/** Rows of [bucket_ms, n, …BUCKET_COLUMNS], as read from `rollups`, in chunk form. */
function bucketRowsOf(rows: readonly (number | null)[][]): BucketRows {
  return {
    bucketMs: rows.map((r) => r[0]!),
    n: rows.map((r) => r[1]!),
    columns: BUCKET_COLUMNS.map((_, c) => rows.map((r) => r[2 + c] ?? null)),
  };
}

/** Sums in the order given with SQLite's sum() compensation (Kahan-Babuska-Neumaier), so that a mean matches SQL's to the last bit. */
export class CompensatedSum {
  sum = 0;
  private error = 0;
  seen = false;

  add(v: number): void {
    const s = this.sum;
    const t = s + v;
    this.error += Math.abs(s) > Math.abs(v) ? s - t + v : v - t + s;
    this.sum = t;
    this.seen = true;
  }

  value(): number {
    return this.sum + this.error;
  }
}

// Decoded chunks a chart's reads keep, newest first: a chart drawn again (a dashboard's refresh, a
// second node page on one node) reads the same chunks, and brotli costs most of a read (a 7-day
// chart of the 1 min tier decodes 28). Kept with their bytes and used only for the same bytes, so a
// chunk rewritten by the writer's thread (this cache is the reading connection's) is decoded anew.
const CACHED_CHUNKS = 64;

export class RollupChunks {
  private readonly stmt;
  private readonly meanStatements = new Map<string, Database.Statement>();
  private cached: { key: string; data: Buffer; buckets: BucketRows }[] = [];

  constructor(private readonly db: Database.Database) {
    const columns = BUCKET_COLUMNS.join(', ');
    this.stmt = {
      nodeIds: db.prepare<[], { id: number }>('SELECT id FROM nodes ORDER BY id'),
      // The node's oldest bucket of a tier still in rows: one seek in the primary key.
      oldest: db.prepare<[number, number], { b: number | null }>('SELECT min(bucket_ms) AS b FROM rollups WHERE tier = ? AND node_id = ?'),
      windowRows: db
        .prepare(`SELECT bucket_ms, n, ${columns} FROM rollups WHERE tier = ? AND node_id = ? AND bucket_ms BETWEEN ? AND ? ORDER BY bucket_ms`)
        .raw(),
      deleteRows: db.prepare('DELETE FROM rollups WHERE tier = ? AND node_id = ? AND bucket_ms BETWEEN ? AND ?'),
      insertRow: db.prepare(
        `INSERT OR IGNORE INTO rollups (tier, node_id, bucket_ms, n, ${columns}) VALUES (?, ?, ?, ?, ${BUCKET_COLUMNS.map(() => '?').join(', ')})`,
      ),
      chunk: db.prepare<[number, number, number], { data: Buffer }>('SELECT data FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms = ?'),
      save: db.prepare('INSERT OR REPLACE INTO rollup_chunks (tier, node_id, start_ms, buckets, data) VALUES (?, ?, ?, ?, ?)'),
      // A tier's chunks of a node with windows that start in [from, to]: binds (tier, node, from, to).
      chunks: db.prepare<[number, number, number, number], { start_ms: number; data: Buffer }>(
        'SELECT start_ms, data FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ? ORDER BY start_ms',
      ),
      any: db.prepare<[number, number, number, number], { one: number }>(
        'SELECT 1 AS one FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ? LIMIT 1',
      ),
      deleteChunks: db.prepare('DELETE FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ?'),
    };
  }

  /**
   * Moves every node's and tier's windows that ended COMPACT_AFTER_MS before `nowMs` from rows
   * into chunks, a window a step, in transactions of about `sliceMs` with `pause` between them
   * (on the writer's thread each holds up the next batch), for at most `budgetMs`: the rest is left
   * to the next run. Returns the buckets moved.
   */
  async compact(nowMs: number, pause: () => Promise<void>, sliceMs = 25, budgetMs = 60_000): Promise<number> {
    const work = this.finishedWindows(nowMs - COMPACT_AFTER_MS);
    const step = () => {
      const next = work.next();
      return next.done ? null : this.compactWindow(...next.value);
    };
    return inSlicedTransactions(this.db, step, pause, sliceMs, budgetMs);
  }

  /** (tier, node, window start) of each window with rows that ended by `cutoff`, oldest first per node and tier; read as it goes. */
  private *finishedWindows(cutoff: number): Generator<[number, number, number]> {
    for (const { id } of this.stmt.nodeIds.all()) {
      for (const { seconds } of TIERS) {
        for (let oldest = this.stmt.oldest.get(seconds, id)!.b; oldest !== null; oldest = this.stmt.oldest.get(seconds, id)!.b) {
          const start = rollupWindowOf(seconds, oldest);
          if (start + ROLLUP_WINDOW_MS[seconds]! > cutoff) break;
          yield [seconds, id, start];
        }
      }
    }
  }

  /** Moves a window's rows into its chunk (with the buckets of a chunk already there, rows winning); returns the rows moved. */
  private compactWindow(tier: number, nodeId: number, start: number): number {
    const end = start + ROLLUP_WINDOW_MS[tier]! - 1;
    const rows = this.stmt.windowRows.all(tier, nodeId, start, end) as (number | null)[][];
    let buckets = bucketRowsOf(rows);
    const old = this.stmt.chunk.get(tier, nodeId, start);
    if (old) buckets = mergeBuckets(decodeBuckets(old.data), buckets);
    this.stmt.save.run(tier, nodeId, start, buckets.bucketMs.length, encodeBuckets(buckets));
    this.stmt.deleteRows.run(tier, nodeId, start, end);
    return rows.length;
  }

  /**
   * Moves back into rows the node's chunks, of every tier, whose windows end after `fromMs`: a
   * rollup run is about to write buckets from there on (and derive the coarser tiers from the 1 min
   * one). In the caller's transaction. Returns the chunks expanded.
   */
  expandFrom(nodeId: number, fromMs: number): number {
    let expanded = 0;
    for (const { seconds } of TIERS) {
      const from = rollupWindowOf(seconds, fromMs);
      for (const chunk of this.stmt.chunks.all(seconds, nodeId, from, Number.MAX_SAFE_INTEGER)) {
        const b = decodeBuckets(chunk.data);
        const args: (number | null)[] = new Array(4 + BUCKET_COLUMNS.length);
        args[0] = seconds;
        args[1] = nodeId;
        for (let i = 0; i < b.bucketMs.length; i++) {
          args[2] = b.bucketMs[i]!;
          args[3] = b.n[i]!;
          // A chunk written before the registry grew lacks the new metrics: their count is 0.
          for (let c = 0; c < BUCKET_COLUMNS.length; c++) args[4 + c] = b.columns[c]?.[i] ?? (c % 4 === 3 ? 0 : null);
          this.stmt.insertRow.run(args);
        }
        expanded++;
      }
      this.stmt.deleteChunks.run(seconds, nodeId, from, Number.MAX_SAFE_INTEGER);
    }
    return expanded;
  }

  /** Whether the node has chunks of the tier whose windows meet [fromMs, toMs]. */
  holds(nodeId: number, tier: number, fromMs: number, toMs: number): boolean {
    return this.stmt.any.get(tier, nodeId, rollupWindowOf(tier, fromMs), toMs) !== undefined;
  }

  /**
   * Means of `metrics` per bucket of `stepMs` from one tier over [fromMs, toMs], from rows and chunks
   * together: what rollupSelectSql() gives from rows alone, to the last bit (buckets summed in time
   * order with SQL's compensation). Rows of [t, …means].
   */
  means(nodeId: number, tier: number, stepMs: number, fromMs: number, toMs: number, metrics: readonly SeriesMetric[]): (number | null)[][] {
    const width = metrics.length;
    const sumAt = metrics.map(sumColumn);
    const wanted = new Set(sumAt.flatMap((c) => [c, c + 1]));
    const wantedKey = [...wanted].join(',');
    const chunks = this.stmt.chunks
      .all(tier, nodeId, rollupWindowOf(tier, fromMs), toMs)
      .map((chunk) => this.decoded(`${tier}:${nodeId}:${chunk.start_ms}:${wantedKey}`, chunk.data, wanted));
    const rows = this.meanStatement(metrics).all(tier, nodeId, fromMs, toMs) as (number | null)[][];
    // Flat, with no array a bucket: times, then per bucket each metric's sum (NaN for NULL) and count.
    let total = rows.length;
    for (const b of chunks) total += b.bucketMs.length;
    const times = new Float64Array(total);
    const values = new Float64Array(total * 2 * width);
    let at = 0;
    for (const b of chunks) {
      const first = at;
      for (let i = 0; i < b.bucketMs.length; i++) {
        const t = b.bucketMs[i]!;
        if (t >= fromMs && t <= toMs) times[at++] = t;
      }
      for (let m = 0; m < width; m++) {
        const sums = b.columns[sumAt[m]!] ?? [];
        const counts = b.columns[sumAt[m]! + 1] ?? [];
        for (let i = 0, k = first; i < b.bucketMs.length; i++) {
          const t = b.bucketMs[i]!;
          if (t < fromMs || t > toMs) continue;
          values[k * 2 * width + 2 * m] = sums[i] ?? NaN;
          values[k * 2 * width + 2 * m + 1] = counts[i] ?? 0;
          k++;
        }
      }
    }
    for (const row of rows) {
      times[at] = row[0]!;
      for (let k = 1; k <= 2 * width; k++) values[at * 2 * width + k - 1] = row[k] ?? (k % 2 === 1 ? NaN : 0);
      at++;
    }
    // Chunks come in time order and rows after them; out of order only when a window between was rows.
    const order = Array.from({ length: at }, (_, i) => i);
    if (times.some((t, i) => i > 0 && i < at && t < times[i - 1]!)) order.sort((a, b) => times[a]! - times[b]!);
    const out: (number | null)[][] = [];
    const sums = new Array<number>(width);
    const errors = new Array<number>(width);
    const seen = new Array<boolean>(width);
    const counts = new Array<number>(width);
    let bucket: number | null = null;
    const flush = () => {
      if (bucket === null) return;
      const row: (number | null)[] = [bucket];
      for (let m = 0; m < width; m++) row.push(seen[m] && counts[m]! > 0 ? (sums[m]! + errors[m]!) / counts[m]! : null);
      out.push(row);
    };
    for (const i of order) {
      const t = times[i]! - (times[i]! % stepMs);
      if (t !== bucket) {
        flush();
        bucket = t;
        sums.fill(0);
        errors.fill(0);
        seen.fill(false);
        counts.fill(0);
      }
      for (let m = 0, at = i * 2 * width; m < width; m++, at += 2) {
        const v = values[at]!;
        if (!Number.isNaN(v)) {
          // SQLite's sum() compensation (Kahan-Babuska-Neumaier), as CompensatedSum.
          const s = sums[m]!;
          const sum = s + v;
          errors[m]! += Math.abs(s) > Math.abs(v) ? s - sum + v : v - sum + s;
          sums[m] = sum;
          seen[m] = true;
        }
        counts[m]! += values[at + 1]!;
      }
    }
    flush();
    return out;
  }

  private decoded(key: string, data: Buffer, wanted: ReadonlySet<number>): BucketRows {
    const at = this.cached.findIndex((c) => c.key === key);
    const hit = at >= 0 ? this.cached[at]! : null;
    if (hit?.data.equals(data)) return hit.buckets;
    if (hit) this.cached.splice(at, 1);
    const buckets = decodeBuckets(data, (c) => wanted.has(c));
    this.cached.unshift({ key, data, buckets });
    if (this.cached.length > CACHED_CHUNKS) this.cached.pop();
    return buckets;
  }

  /** The rows' [bucket_ms, then sum and count of each metric]: binds (tier, node, from, to). */
  private meanStatement(metrics: readonly SeriesMetric[]): Database.Statement {
    const key = metrics.join(',');
    let stmt = this.meanStatements.get(key);
    if (!stmt) {
      // Metric names come from SERIES_METRICS (checked by the caller), never from a request verbatim.
      stmt = this.db
        .prepare(
          `SELECT bucket_ms, ${metrics.map((m) => `${m}_sum, ${m}_n`).join(', ')} FROM rollups WHERE tier = ? AND node_id = ? AND bucket_ms BETWEEN ? AND ? ORDER BY bucket_ms`,
        )
        .raw();
      this.meanStatements.set(key, stmt);
    }
    return stmt;
  }

  /** Deletes a node's chunks of a tier whose windows ended at or before `beforeMs` (retention drops whole windows). */
  purgeBefore(nodeId: number, tier: number, beforeMs: number): number {
    return this.stmt.deleteChunks.run(tier, nodeId, Number.MIN_SAFE_INTEGER, beforeMs - ROLLUP_WINDOW_MS[tier]!).changes;
  }

  /** Deletes a node's chunks of a tier; returns the buckets they held. */
  purgeNode(nodeId: number, tier: number): number {
    const held = this.db
      .prepare<[number, number], { n: number | null }>('SELECT sum(buckets) AS n FROM rollup_chunks WHERE tier = ? AND node_id = ?')
      .get(tier, nodeId)!.n;
    this.stmt.deleteChunks.run(tier, nodeId, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    return held ?? 0;
  }
}

/** A window's buckets with others added, in time order; of two with one start, the second's. */
export function mergeBuckets(old: BucketRows, newer: BucketRows): BucketRows {
  const width = Math.max(old.columns.length, newer.columns.length);
  const at = new Map<number, [BucketRows, number]>();
  for (const part of [old, newer]) for (let i = 0; i < part.bucketMs.length; i++) at.set(part.bucketMs[i]!, [part, i]);
  const order = [...at].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return {
    bucketMs: order.map(([p, i]) => p.bucketMs[i]!),
    n: order.map(([p, i]) => p.n[i]!),
    columns: Array.from({ length: width }, (_, c) => order.map(([p, i]) => p.columns[c]?.[i] ?? null)),
  };
}
