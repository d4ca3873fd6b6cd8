// Labelled series' minute buckets past their first hour, compressed (labelled_chunks, hub/storage/sqlite/
// migrations/015 and 016): a series' day of buckets (count and sum each) as one blob encoded
// by hub/storage/chunk-codec.ts, grown by the window's whole hours as they end, as the rollups are
// (hub/storage/sqlite/rollup-chunks.ts). A bucket is a row or in a chunk, never both: a rebuild of minutes
// already compacted (late samples) moves the buckets from the first of them on back into rows first.
import type Database from 'better-sqlite3';
import { decodeBuckets, encodeBuckets, type BucketRows } from '../chunk-codec.ts';
import { CompensatedSum, compactBefore, inOrder, mergeBuckets, sliceBuckets } from './rollup-chunks.ts';
import { inSlicedTransactions } from './sliced-transactions.ts';

/**
 * A labelled series' chunk window: a day. Its buckets are one column, and 6 h of them (the 1 min
 * tier's window, as before) made chunks of some 400 B, that brotli shrank a tenth less and SQLite's
 * row, index entry and page fill grew by a fifth. The 6 h chunks written before are read still:
 * they lie inside the days' windows.
 */
const WINDOW_MS = 24 * 3_600_000;
const windowOf = (ms: number) => Math.floor(ms / WINDOW_MS) * WINDOW_MS;

type BucketRow = [bucketMs: number, n: number, sum: number];

// Decoded chunks a chart's reads keep, newest first, and use only for the same bytes: as the
// rollups' (hub/storage/sqlite/rollup-chunks.ts), a chart drawn again decodes nothing (a 7-day chart of a 4-core
// node's cpu_core_pct reads 112 chunks).
const CACHED_CHUNKS = 256;

export class LabelledChunks {
  private readonly stmt;
  private cached: { key: string; data: Buffer; buckets: BucketRows }[] = [];

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      seriesIds: db.prepare<[], { id: number }>('SELECT id FROM labelled_series ORDER BY id'),
      // A series' oldest bucket still in rows: one seek in the primary key.
      oldest: db.prepare<[number], { b: number | null }>('SELECT min(bucket_ms) AS b FROM labelled_rollups WHERE series_id = ?'),
      rows: db.prepare('SELECT bucket_ms, n, sum FROM labelled_rollups WHERE series_id = ? AND bucket_ms BETWEEN ? AND ? ORDER BY bucket_ms').raw(),
      deleteRows: db.prepare('DELETE FROM labelled_rollups WHERE series_id = ? AND bucket_ms BETWEEN ? AND ?'),
      restoreRow: db.prepare('INSERT OR IGNORE INTO labelled_rollups (series_id, bucket_ms, n, sum) VALUES (?, ?, ?, ?)'),
      chunk: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM labelled_chunks WHERE series_id = ? AND start_ms = ?'),
      save: db.prepare('INSERT OR REPLACE INTO labelled_chunks (series_id, start_ms, buckets, last_ms, data) VALUES (?, ?, ?, ?, ?)'),
      deleteChunk: db.prepare('DELETE FROM labelled_chunks WHERE series_id = ? AND start_ms = ?'),
      // A node's chunks that may hold buckets from a time on, without their blobs: binds (node, its
      // window, the time less a window: chunks written before last_ms was kept may hold buckets up to their window's end).
      nodeChunksFrom: db.prepare<[number, number, number], { series_id: number; start_ms: number }>(
        `SELECT series_id, start_ms FROM labelled_chunks
         WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ?) AND start_ms >= ? AND coalesce(last_ms, start_ms + ${WINDOW_MS}) >= ?`,
      ),
      namedSeries: db.prepare<[number, string], { id: number; labels: string }>('SELECT id, labels FROM labelled_series WHERE node_id = ? AND name = ?'),
      // Binds (series, from's window, to).
      seriesChunks: db.prepare<[number, number, number], { start_ms: number; data: Buffer }>(
        'SELECT start_ms, data FROM labelled_chunks WHERE series_id = ? AND start_ms BETWEEN ? AND ? ORDER BY start_ms',
      ),
      // Binds (node, name, from's window, to).
      any: db.prepare<[number, string, number, number], { one: number }>(
        `SELECT 1 AS one FROM labelled_chunks WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ? AND name = ?)
         AND start_ms BETWEEN ? AND ? LIMIT 1`,
      ),
      purge: db.prepare('DELETE FROM labelled_chunks WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ?) AND start_ms <= ?'),
    };
  }

  /**
   * Moves every series' buckets before compactBefore(nowMs) (whole hours) from rows into their day
   * windows' chunks, in transactions of about `sliceMs` with `pause` between them (on the writer's
   * thread each holds up the next batch), for at most `budgetMs`: the rest is left to the next run.
   * Returns the buckets moved.
   */
  async compact(nowMs: number, pause: () => Promise<void>, sliceMs = 25, budgetMs = 60_000): Promise<number> {
    const work = this.finishedWindows(compactBefore(nowMs));
    const step = () => {
      const next = work.next();
      return next.done ? null : this.compactWindow(...next.value);
    };
    return inSlicedTransactions(this.db, step, pause, sliceMs, budgetMs);
  }

  /** (series, window start, last ms) of each window's rows before `before`, oldest first; read as it goes. */
  private *finishedWindows(before: number): Generator<[number, number, number]> {
    for (const { id } of this.stmt.seriesIds.all()) {
      for (let oldest = this.stmt.oldest.get(id)!.b; oldest !== null && oldest < before; oldest = this.stmt.oldest.get(id)!.b) {
        const start = windowOf(oldest);
        yield [id, start, Math.min(start + WINDOW_MS, before) - 1];
      }
    }
  }

  /** Moves a window's rows in [start, last] into its chunk (with the buckets of a chunk already there, rows winning); returns the rows moved. */
  private compactWindow(seriesId: number, start: number, last: number): number {
    const rows = this.stmt.rows.all(seriesId, start, last) as BucketRow[];
    let buckets: BucketRows = { bucketMs: rows.map((r) => r[0]), n: rows.map((r) => r[1]), columns: [rows.map((r) => r[2])] };
    const old = this.stmt.chunk.get(seriesId, start);
    if (old) buckets = mergeBuckets(decodeBuckets(old.data), buckets);
    this.stmt.save.run(seriesId, start, buckets.bucketMs.length, buckets.bucketMs.at(-1) ?? start, encodeBuckets(buckets));
    this.stmt.deleteRows.run(seriesId, start, last);
    return rows.length;
  }

  /**
   * Moves back into rows the node's compacted buckets from the first of these minutes (ms / 60,000)
   * on: they are about to be rebuilt. A chunk that holds older ones too keeps those. In the
   * caller's transaction. Returns the chunks rewritten or deleted.
   */
  expand(nodeId: number, minutes: readonly number[]): number {
    if (minutes.length === 0) return 0;
    const fromMs = Math.min(...minutes) * 60_000;
    let expanded = 0;
    for (const chunk of this.stmt.nodeChunksFrom.all(nodeId, windowOf(fromMs), fromMs)) {
      const b = decodeBuckets(this.stmt.chunk.get(chunk.series_id, chunk.start_ms)!.data);
      const kept = b.bucketMs.findIndex((t) => t >= fromMs);
      if (kept < 0) continue;
      for (let i = kept; i < b.bucketMs.length; i++) this.stmt.restoreRow.run(chunk.series_id, b.bucketMs[i]!, b.n[i]!, b.columns[0]?.[i] ?? 0);
      if (kept === 0) this.stmt.deleteChunk.run(chunk.series_id, chunk.start_ms);
      else {
        const older = sliceBuckets(b, kept);
        this.stmt.save.run(chunk.series_id, chunk.start_ms, kept, older.bucketMs.at(-1)!, encodeBuckets(older));
      }
      expanded++;
    }
    return expanded;
  }

  /** Whether some series of the node named `name` has chunks whose windows meet [fromMs, toMs]. */
  holds(nodeId: number, name: string, fromMs: number, toMs: number): boolean {
    return this.stmt.any.get(nodeId, name, windowOf(fromMs), toMs) !== undefined;
  }

  /**
   * Means per step of `stepMs` of the node's series named `name` over [fromMs, toMs], from rows and
   * chunks together, as SQL's sum(sum) / sum(n) gives them from rows alone (buckets summed in time
   * order with SQL's compensation). `t` is the step's start (ms), `labels` the series' canonical JSON.
   */
  means(nodeId: number, name: string, stepMs: number, fromMs: number, toMs: number): { t: number; labels: string; mean: number }[] {
    const out: { t: number; labels: string; mean: number }[] = [];
    for (const series of this.stmt.namedSeries.all(nodeId, name)) {
      const rows = this.stmt.rows.all(series.id, fromMs, toMs) as BucketRow[];
      const chunks = this.stmt.seriesChunks.all(series.id, windowOf(fromMs), toMs).map((c) => this.decoded(`${series.id}:${c.start_ms}`, c.data));
      let step: number | null = null;
      let sum = new CompensatedSum();
      let n = 0;
      const add = (bucketMs: number, count: number, value: number) => {
        const t = bucketMs - (bucketMs % stepMs);
        if (t !== step) {
          if (step !== null) out.push({ t: step, labels: series.labels, mean: sum.value() / n });
          step = t;
          sum = new CompensatedSum();
          n = 0;
        }
        sum.add(value);
        n += count;
      };
      // Buckets in time order, as SQL's ORDER BY gives them: the chunks' (their windows come in
      // order and never overlap) with the rows (of windows not compacted) merged in, a row before
      // a chunk's bucket of the same time. No array a bucket: a 7-day chart has 10,080 a series.
      if (inOrder(chunks, fromMs, toMs)) {
        let r = 0;
        for (const b of chunks) {
          const values = b.columns[0];
          for (let i = 0; i < b.bucketMs.length; i++) {
            const t = b.bucketMs[i]!;
            if (t < fromMs || t > toMs) continue;
            for (; r < rows.length && rows[r]![0] <= t; r++) add(...rows[r]!);
            add(t, b.n[i]!, values?.[i] ?? 0);
          }
        }
        for (; r < rows.length; r++) add(...rows[r]!);
      } else {
        // None are written so, but read as they were: every bucket sorted (stably: rows first).
        for (const b of chunks) {
          for (let i = 0; i < b.bucketMs.length; i++) {
            const t = b.bucketMs[i]!;
            if (t >= fromMs && t <= toMs) rows.push([t, b.n[i]!, b.columns[0]?.[i] ?? 0]);
          }
        }
        rows.sort((a, b) => a[0] - b[0]);
        for (const row of rows) add(...row);
      }
      if (step !== null) out.push({ t: step, labels: series.labels, mean: sum.value() / n });
    }
    return out;
  }

  private decoded(key: string, data: Buffer): BucketRows {
    const at = this.cached.findIndex((c) => c.key === key);
    const hit = at >= 0 ? this.cached[at]! : null;
    if (hit?.data.equals(data)) return hit.buckets;
    if (hit) this.cached.splice(at, 1);
    const buckets = decodeBuckets(data);
    this.cached.unshift({ key, data, buckets });
    if (this.cached.length > CACHED_CHUNKS) this.cached.pop();
    return buckets;
  }

  /** Deletes the node's chunks whose windows ended at or before `beforeMs` (retention drops whole windows), or all of them. */
  purge(nodeId: number, beforeMs = Infinity): number {
    return this.stmt.purge.run(nodeId, beforeMs === Infinity ? Number.MAX_SAFE_INTEGER : beforeMs - WINDOW_MS).changes;
  }
}
