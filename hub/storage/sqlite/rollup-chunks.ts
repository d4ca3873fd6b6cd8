// Rollup buckets past their first hour, compressed (rollup_chunks, hub/storage/sqlite/migrations/015 and 016): one
// row per node, tier and window (ROLLUP_WINDOW_MS) holding the window's buckets (n, then min, max,
// sum and count of every metric) encoded by hub/storage/chunk-codec.ts, against some 300 B a bucket
// in `rollups`. A bucket is either a row or in its window's chunk, never both: compaction moves the
// rows of whole hours that ended COMPACT_AFTER_MS (10 min) ago into their window's chunk in one transaction
// (a window's chunk grows an hour at a time), and a rollup run that is about to write from some
// bucket on (this hour's new samples, late ones, a rebuild) first moves the buckets from there on
// back into rows (expandFrom), so the SQL that merges and derives buckets works on rows as before.
// A run writes from the current hour on (the 1 h tier is derived from the hour's 1 min buckets),
// which compaction has left as rows: chunks are rewritten only for late samples. Readers read both.
// A window of 1 min buckets that repeat one raw sample each is kept restated (hub/storage/restated-minutes.ts)
// while raw retention keeps those samples, and written out as buckets before it purges them.
import type Database from 'better-sqlite3';
import { decodeBucketColumns, decodeBuckets, encodeBuckets, type BucketColumns, type BucketRows } from '../chunk-codec.ts';
import { SAMPLE_COLUMNS } from '../packed-samples.ts';
import type { SeriesMetric } from '../../../shared/api-types.ts';
import { TIERS } from '../rollups.ts';
import { inSlicedTransactions } from './sliced-transactions.ts';
import { isRestated, RESTATED_MAX_BYTES, restated, restatedBuckets, restatedSums, type RawColumns } from '../restated-minutes.ts';
import { recompressCold } from './cold-chunks.ts';

const HOUR = 3_600_000;

/**
 * An hour's buckets are compacted this long after it ended: by then the rollup runs (every
 * minute) have written its last minute and the coarser tiers derived from it, so a chunk is
 * rewritten only for samples that come later still. The raw rows' own (hub/storage/sqlite/chunk-store.ts) is shorter.
 */
export const COMPACT_AFTER_MS = 10 * 60_000;

/**
 * A chunk's window by tier (seconds): some hundreds of buckets each (360, 96, 168), enough for the
 * compressor, few enough that re-encoding the current one as it grows stays cheap.
 */
export const ROLLUP_WINDOW_MS: Readonly<Record<number, number>> = { 60: 6 * HOUR, 900: 24 * HOUR, 3600: 7 * 24 * HOUR };

/**
 * Buckets that start before this are compacted: those of whole hours that ended COMPACT_AFTER_MS
 * before `nowMs`, in every tier. A rollup run writes from the current hour on, so it finds those
 * from there on in rows. The coarser tiers' windows (a day, a week) are re-encoded whole each hour
 * so: their rows, some 350 B a bucket, took more pages waiting six hours (bench/storage.ts).
 */
export const compactBefore = (nowMs: number) => Math.floor((nowMs - COMPACT_AFTER_MS) / HOUR) * HOUR;

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
// second node page on one node) reads the same chunks, and decoding costs most of a read (a 7-day
// chart of the 1 min tier decodes 28). Kept with their bytes and used only for the same bytes, so a
// chunk rewritten by the writer's thread (this cache is the reading connection's) is decoded anew.
// Only the sums and counts a chart asks for are kept, in one typed array a chunk (decodeBucketColumns):
// kept as plain arrays, their values (heap numbers) were copied by every scavenge until promoted,
// and those scavenges took most of a node's first read.
const CACHED_CHUNKS = 64;

const MINUTE_TIER = 60;

/**
 * A node's raw samples with times in [fromMs, toMs] (and maybe others), in the parts that hold
 * them (hub/storage/sqlite/chunk-store.ts); given `chunkColumns`, those in chunks alone, with those
 * columns alone (indexes into SAMPLE_COLUMNS).
 */
export type RawParts = (nodeId: number, fromMs: number, toMs: number, chunkColumns?: readonly number[]) => RawColumns[];

export class RollupChunks {
  private readonly stmt;
  private readonly meanStatements = new Map<string, Database.Statement>();
  private cached: { key: string; data: Buffer; buckets: BucketColumns }[] = [];
  /** Restated windows that start before this were written out as buckets (writeOutRestated()); none at first. */
  private writtenOutBefore = Number.MIN_SAFE_INTEGER;

  constructor(
    private readonly db: Database.Database,
    private readonly rawParts: RawParts,
  ) {
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
      save: db.prepare('INSERT OR REPLACE INTO rollup_chunks (tier, node_id, start_ms, buckets, last_ms, data) VALUES (?, ?, ?, ?, ?, ?)'),
      // A tier's chunks of a node from a window on, without their blobs: binds (tier, node, from's window).
      chunksFrom: db.prepare<[number, number, number], { start_ms: number; last_ms: number | null }>(
        'SELECT start_ms, last_ms FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms >= ? ORDER BY start_ms',
      ),
      deleteChunk: db.prepare('DELETE FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms = ?'),
      // A tier's chunks of a node with windows that start in [from, to]: binds (tier, node, from, to).
      chunks: db.prepare<[number, number, number, number], { start_ms: number; data: Buffer }>(
        'SELECT start_ms, data FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ? ORDER BY start_ms',
      ),
      any: db.prepare<[number, number, number, number], { one: number }>(
        'SELECT 1 AS one FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ? LIMIT 1',
      ),
      deleteChunks: db.prepare('DELETE FROM rollup_chunks WHERE tier = ? AND node_id = ? AND start_ms BETWEEN ? AND ?'),
      // The node's small 1 min chunks (restated ones among them: RESTATED_MAX_BYTES) with windows that start in [from, before): binds (node, from, before).
      small: db.prepare<[number, number, number], { start_ms: number; buckets: number; last_ms: number | null; data: Buffer }>(
        `SELECT start_ms, buckets, last_ms, data FROM rollup_chunks WHERE tier = ${MINUTE_TIER} AND node_id = ? AND start_ms >= ? AND start_ms < ? AND length(data) < ${RESTATED_MAX_BYTES}`,
      ),
    };
  }

  /**
   * Moves every node's and tier's buckets before compactBefore(nowMs) from rows into their windows'
   * chunks, a window a step, in transactions of about `sliceMs` with `pause` between them (on the
   * writer's thread each holds up the next batch), for at most `budgetMs`: the rest is left to the
   * next run. Returns the buckets moved.
   */
  async compact(nowMs: number, pause: () => Promise<void>, sliceMs = 25, budgetMs = 60_000): Promise<number> {
    const work = this.finishedWindows(nowMs);
    const step = () => {
      const next = work.next();
      return next.done ? null : this.compactWindow(...next.value, cold);
    };
    const cold: number[] = [];
    const moved = await inSlicedTransactions(this.db, step, pause, sliceMs, budgetMs);
    await recompressCold(this.db, 'rollup_chunks', cold, pause, budgetMs);
    return moved;
  }

  /** (tier, node, window start, last ms) of each window's rows to compact, oldest first per node and tier; read as it goes. */
  private *finishedWindows(nowMs: number): Generator<[number, number, number, number]> {
    for (const { id } of this.stmt.nodeIds.all()) {
      for (const { seconds } of TIERS) {
        const before = compactBefore(nowMs);
        for (let oldest = this.stmt.oldest.get(seconds, id)!.b; oldest !== null && oldest < before; oldest = this.stmt.oldest.get(seconds, id)!.b) {
          const start = rollupWindowOf(seconds, oldest);
          yield [seconds, id, start, Math.min(start + ROLLUP_WINDOW_MS[seconds]!, before) - 1];
        }
      }
    }
  }

  /**
   * Moves a window's rows in [start, last] into its chunk (with the buckets of a chunk already
   * there, rows winning); returns the rows moved.
   */
  private compactWindow(tier: number, nodeId: number, start: number, last: number, cold: number[]): number {
    const rows = this.stmt.windowRows.all(tier, nodeId, start, last) as (number | null)[][];
    let buckets = bucketRowsOf(rows);
    const old = this.stmt.chunk.get(tier, nodeId, start);
    if (old) buckets = mergeBuckets(this.bucketsOf(nodeId, start, old.data), buckets);
    // Not a window that raw retention has begun to purge (late samples for it).
    const restatable = tier === MINUTE_TIER && start >= this.writtenOutBefore && buckets.n.every((n) => n === 1);
    const restatement = restatable ? restated(buckets, this.windowSamples(nodeId, start)) : null;
    const saved = this.stmt.save.run(tier, nodeId, start, buckets.bucketMs.length, buckets.bucketMs.at(-1) ?? start, restatement ?? encodeBuckets(buckets));
    // The window's last rows: its chunk is written once more at most (late samples), so it is
    // compressed again harder after the run (hub/storage/sqlite/cold-chunks.ts).
    if (last === start + ROLLUP_WINDOW_MS[tier]! - 1 && !restatement) cold.push(Number(saved.lastInsertRowid));
    this.stmt.deleteRows.run(tier, nodeId, start, last);
    return rows.length;
  }

  /**
   * Moves back into rows the node's compacted buckets, of every tier, from `fromMs` on: a rollup
   * run is about to write buckets from there on (and derive the coarser tiers from the 1 min one).
   * A chunk that holds older ones too keeps those. In the caller's transaction. Returns the chunks
   * rewritten or deleted.
   */
  expandFrom(nodeId: number, fromMs: number): number {
    let expanded = 0;
    for (const { seconds } of TIERS) {
      for (const chunk of this.stmt.chunksFrom.all(seconds, nodeId, rollupWindowOf(seconds, fromMs))) {
        // Chunks written before last_ms was kept may hold buckets up to their window's end.
        if ((chunk.last_ms ?? chunk.start_ms + ROLLUP_WINDOW_MS[seconds]!) < fromMs) continue;
        const b = this.bucketsOf(nodeId, chunk.start_ms, this.stmt.chunk.get(seconds, nodeId, chunk.start_ms)!.data);
        const kept = b.bucketMs.findIndex((t) => t >= fromMs);
        if (kept < 0) continue;
        const args: (number | null)[] = new Array(4 + BUCKET_COLUMNS.length);
        args[0] = seconds;
        args[1] = nodeId;
        for (let i = kept; i < b.bucketMs.length; i++) {
          args[2] = b.bucketMs[i]!;
          args[3] = b.n[i]!;
          // A chunk written before the registry grew lacks the new metrics: their count is 0.
          for (let c = 0; c < BUCKET_COLUMNS.length; c++) args[4 + c] = b.columns[c]?.[i] ?? (c % 4 === 3 ? 0 : null);
          this.stmt.insertRow.run(args);
        }
        if (kept === 0) this.stmt.deleteChunk.run(seconds, nodeId, chunk.start_ms);
        else {
          const older = sliceBuckets(b, kept);
          this.stmt.save.run(seconds, nodeId, chunk.start_ms, kept, older.bucketMs.at(-1)!, encodeBuckets(older));
        }
        expanded++;
      }
    }
    return expanded;
  }

  /**
   * Writes out as buckets the restated 1 min windows that start before `beforeMs`: raw retention is
   * about to purge the samples they name. A node at a time, `pause` between them. Returns the windows written out.
   */
  async writeOutRestated(beforeMs: number, pause: () => Promise<void>): Promise<number> {
    let written = 0;
    for (const { id } of this.stmt.nodeIds.all()) {
      const restatedOnes = this.stmt.small.all(id, this.writtenOutBefore, beforeMs).filter((chunk) => isRestated(chunk.data));
      if (restatedOnes.length === 0) continue;
      this.db
        .transaction(() => {
          for (const chunk of restatedOnes) {
            const buckets = this.bucketsOf(id, chunk.start_ms, chunk.data);
            this.stmt.save.run(MINUTE_TIER, id, chunk.start_ms, chunk.buckets, chunk.last_ms, encodeBuckets(buckets));
          }
        })
        .immediate();
      written += restatedOnes.length;
      await pause();
    }
    this.writtenOutBefore = Math.max(this.writtenOutBefore, beforeMs);
    return written;
  }

  /** A chunk's buckets, restated ones read from the raw samples they name. */
  private bucketsOf(nodeId: number, start: number, data: Uint8Array): BucketRows {
    return isRestated(data) ? restatedBuckets(data, this.windowSamples(nodeId, start)) : decodeBuckets(data);
  }

  /** The node's raw samples of the 1 min window that starts at `start` (as RawParts). */
  private windowSamples(nodeId: number, start: number, chunkColumns?: readonly number[]): RawColumns[] {
    return this.rawParts(nodeId, start, start + ROLLUP_WINDOW_MS[MINUTE_TIER]! - 1, chunkColumns);
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
    // One read transaction: a restated window and the raw samples it names are read as of one moment,
    // not across the writer's thread writing it out and purging them.
    return this.db.transaction(() => this.meansNow(nodeId, tier, stepMs, fromMs, toMs, metrics))();
  }

  private meansNow(nodeId: number, tier: number, stepMs: number, fromMs: number, toMs: number, metrics: readonly SeriesMetric[]): (number | null)[][] {
    // Each chunk decoded to [sum, count] of each metric: chunk column 2m, 2m + 1 of the decoded ones.
    const wanted = metrics.map(sumColumn).flatMap((c) => [c, c + 1]);
    const wantedKey = wanted.join(',');
    const indexes = metrics.map((m) => SAMPLE_COLUMNS.indexOf(m));
    // Read from the raw chunks; rows too only when some samples named are still rows (a node sampled sparsely keeps its rows for an hour).
    const restatedColumns = (start: number, data: Buffer) => {
      const sums = restatedSums(data, this.windowSamples(nodeId, start, indexes), indexes) ?? restatedSums(data, this.windowSamples(nodeId, start), indexes);
      if (!sums) throw new RangeError(`the restated 1 min window of node ${nodeId} from ${new Date(start).toISOString()} names raw samples that are gone`);
      return sums;
    };
    const chunks = this.stmt.chunks
      .all(tier, nodeId, rollupWindowOf(tier, fromMs), toMs)
      .map((chunk) => this.decoded(`${tier}:${nodeId}:${chunk.start_ms}:${wantedKey}`, chunk.data, wanted, () => restatedColumns(chunk.start_ms, chunk.data)));
    const rows = this.meanStatement(metrics).all(tier, nodeId, fromMs, toMs) as (number | null)[][];
    const steps = new StepMeans(metrics.length, stepMs);
    // Buckets go into the steps in time order, as SQL's ORDER BY gives them: the chunks' (their
    // windows come in order and never overlap) with the rows (of windows not compacted) merged in,
    // a chunk's bucket before a row's of the same time. No array a bucket: a 7-day chart has 10,080.
    if (!inOrder(chunks, fromMs, toMs)) return this.sortedMeans(chunks, rows, steps, fromMs, toMs);
    let r = 0;
    for (const b of chunks) {
      for (let i = 0; i < b.bucketMs.length; i++) {
        const t = b.bucketMs[i]!;
        if (t < fromMs || t > toMs) continue;
        for (; r < rows.length && rows[r]![0]! < t; r++) steps.addRow(rows[r]!);
        steps.addBucket(t, b.columns, i);
      }
    }
    for (; r < rows.length; r++) steps.addRow(rows[r]!);
    return steps.done();
  }

  /** means() for chunks whose buckets are out of time order (none are written so): every bucket sorted first. */
  private sortedMeans(
    chunks: readonly BucketColumns[],
    rows: readonly (number | null)[][],
    steps: StepMeans,
    fromMs: number,
    toMs: number,
  ): (number | null)[][] {
    const all: { t: number; chunk: BucketColumns | null; at: number }[] = [];
    for (const b of chunks) {
      for (let i = 0; i < b.bucketMs.length; i++) if (b.bucketMs[i]! >= fromMs && b.bucketMs[i]! <= toMs) all.push({ t: b.bucketMs[i]!, chunk: b, at: i });
    }
    rows.forEach((row, at) => all.push({ t: row[0]!, chunk: null, at }));
    all.sort((a, b) => a.t - b.t); // stable: of one time, chunks' buckets first
    for (const { t, chunk, at } of all) {
      if (chunk === null) steps.addRow(rows[at]!);
      else steps.addBucket(t, chunk.columns, at);
    }
    return steps.done();
  }

  private decoded(key: string, data: Buffer, wanted: readonly number[], restatedColumns: () => BucketColumns): BucketColumns {
    const at = this.cached.findIndex((c) => c.key === key);
    const hit = at >= 0 ? this.cached[at]! : null;
    if (hit?.data.equals(data)) return hit.buckets;
    if (hit) this.cached.splice(at, 1);
    const buckets = isRestated(data) ? restatedColumns() : decodeBucketColumns(data, wanted);
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

/** The first `count` buckets. */
export function sliceBuckets(b: BucketRows, count: number): BucketRows {
  return { bucketMs: b.bucketMs.slice(0, count), n: b.n.slice(0, count), columns: b.columns.map((column) => column.slice(0, count)) };
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

/** Whether the chunks' buckets within [fromMs, toMs] come in time order, one chunk after another. */
export function inOrder(chunks: readonly { bucketMs: ArrayLike<number> }[], fromMs: number, toMs: number): boolean {
  let last = -Infinity;
  for (const b of chunks) {
    for (let i = 0; i < b.bucketMs.length; i++) {
      const t = b.bucketMs[i]!;
      if (t < fromMs || t > toMs) continue;
      if (t < last) return false;
      last = t;
    }
  }
  return true;
}

/**
 * Means per step of buckets given in time order: per metric, the sums added with SQLite's sum()
 * compensation (Kahan-Babuska-Neumaier, as CompensatedSum) over the counts, as
 * rollupSelectSql()'s sum(sum) / sum(n); a step whose metric had no sum, or no count, gives null.
 */
class StepMeans {
  private readonly out: (number | null)[][] = [];
  private readonly sums: Float64Array;
  private readonly errors: Float64Array;
  private readonly counts: Float64Array;
  private readonly seen: Uint8Array;
  private step: number | null = null;

  constructor(
    private readonly width: number,
    private readonly stepMs: number,
  ) {
    this.sums = new Float64Array(width);
    this.errors = new Float64Array(width);
    this.counts = new Float64Array(width);
    this.seen = new Uint8Array(width);
  }

  /** A chunk's bucket `at`, with each metric's sum and count column in turn (NaN where none). */
  addBucket(t: number, columns: readonly Float64Array[], at: number): void {
    this.moveTo(t);
    for (let m = 0; m < this.width; m++) {
      this.add(m, columns[2 * m]![at]!);
      const count = columns[2 * m + 1]![at]!;
      if (!Number.isNaN(count)) this.counts[m]! += count;
    }
  }

  /** A row of [bucket_ms, then each metric's sum and count]. */
  addRow(row: readonly (number | null)[]): void {
    this.moveTo(row[0]!);
    for (let m = 0; m < this.width; m++) {
      this.add(m, row[1 + 2 * m] ?? NaN);
      this.counts[m]! += row[2 + 2 * m] ?? 0;
    }
  }

  /** Rows of [step start, then each metric's mean or null]. */
  done(): (number | null)[][] {
    this.flush();
    return this.out;
  }

  private add(m: number, v: number): void {
    if (Number.isNaN(v)) return;
    const s = this.sums[m]!;
    const sum = s + v;
    this.errors[m]! += Math.abs(s) > Math.abs(v) ? s - sum + v : v - sum + s;
    this.sums[m] = sum;
    this.seen[m] = 1;
  }

  private moveTo(t: number): void {
    const step = t - (t % this.stepMs);
    if (step === this.step) return;
    this.flush();
    this.step = step;
    this.sums.fill(0);
    this.errors.fill(0);
    this.counts.fill(0);
    this.seen.fill(0);
  }

  private flush(): void {
    if (this.step === null) return;
    const row: (number | null)[] = [this.step];
    for (let m = 0; m < this.width; m++) row.push(this.seen[m] && this.counts[m]! > 0 ? (this.sums[m]! + this.errors[m]!) / this.counts[m]! : null);
    this.out.push(row);
  }
}
