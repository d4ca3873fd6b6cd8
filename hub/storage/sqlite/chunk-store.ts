// Raw samples past their first minutes, kept compressed in sample_chunks (hub/storage/sqlite/migrations/012):
// rows of a node's day, some hundreds of samples a row, encoded by hub/storage/chunk-codec.ts. Recent rows stay in
// `samples`, where a batch appends cheaply and the live charts read them by index; compaction moves
// a node's oldest rows from there into its chunk in one transaction, so a sample is always in
// exactly one of the two. Every reader of raw samples (the raw chart tier, the export, a rollup rebuild) reads both.
import type Database from 'better-sqlite3';
import { decodeChunk, decodeChunkColumns, encodeChunk, type ChunkRows, type SampleColumns } from '../chunk-codec.ts';
import { mergeChunks } from '../chunk-merge.ts';
import { SAMPLE_COLUMNS } from '../packed-samples.ts';
import type { RawColumns } from '../restated-minutes.ts';
import { minuteList, MINUTE_MS, NODE_RANGE_SQL } from './sample-minutes.ts';
import { mergeArgs, type MinuteBucket } from '../minute-sums.ts';
import { inSlicedTransactions } from './sliced-transactions.ts';
import { recompressCold } from './cold-chunks.ts';

/**
 * A chunk's window: a node's day, in chunks of up to some MAX_ROWS samples each (a node sampled
 * once a minute: two; at 1 Hz: a hundred). Chunks of an hour held 60 samples of a node sampled once
 * a minute, some 3 kB: a 4 kB page each, and the compressor had little to go on (bench/storage.ts:
 * raw chunks 1.09 B a value, of which their bytes 0.72). Every row of a chunk lies in its window
 * from its start_ms on; the hours' chunks written before lie inside the days' windows.
 */
export const CHUNK_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

// Samples a compaction step takes at most (a 1 Hz node's hour is four steps): each step encodes
// one chunk, and on the writer's thread it holds up the next batch meanwhile (a 3,600-sample hour
// took 30–140 ms to encode, 900 take a quarter). A step's samples join the window's last chunk
// while the two hold under MERGE_ROWS (a chunk grows as its minutes pass), else start a new one.
const MAX_ROWS = 900;
const MERGE_ROWS = 1.5 * MAX_ROWS;

// A node with fewer rows than this before the cutoff, the oldest of them under an hour old (one
// sampled once a minute), keeps them as rows until the oldest is an hour old: its chunk of up to
// MERGE_ROWS is re-encoded whole at each merge, once an hour then rather than at every compaction.
const SPARSE_ROWS = 60;

/**
 * Raw rows younger than this stay rows: the newest minutes, which the batches in flight and the
 * next rollup run (every minute, from the minute sums kept in memory, not from the rows) still
 * touch. Older ones are compacted up to the minute (an hour's chunk grows as its minutes pass):
 * rows cost some 300 B a sample against some 40 in a chunk, and a live chart's hour reads its few
 * chunks decoded once (kept, below). A purge run comes every 10 min, so rows live from this to ten
 * minutes longer; at 10 min here they were a sixth of a week's bytes at 1 Hz (bench/storage.ts).
 * Samples that come later still land in rows and are merged into their chunk at the next run.
 */
export const COMPACT_AFTER_MS = 2 * 60_000;

/** The window that holds `ms` (floor, also for times before 1970). */
export const windowOf = (ms: number) => Math.floor(ms / CHUNK_MS) * CHUNK_MS;

// A chunk's last sample's time: last_ms (migration 017), or for a chunk of an hour written before,
// at most its start plus an hour.
const LAST_MS_SQL = 'coalesce(last_ms, start_ms + 3599999)';

/** A compaction run's place: the minute it has got to (null: the oldest), and the node it goes on after. */
interface Cursor {
  minute: number | null;
  after: number;
}

/** A decoded row: ts_ms, seq, then the asked-for columns' values. */
export type ChunkRow = (number | null)[];

interface ChunkRecord {
  id: number;
  start_ms: number;
  data: Buffer;
}

// Decoded chunks kept (by rowid and size): an export's pages read the one or two chunks a page's
// hour meets several times over.
// An hour at 1 Hz is four or five chunks now that only the last minutes stay rows: a live chart's hour is kept whole.
const CACHED_CHUNKS = 8;

export class ChunkStore {
  private readonly stmt;
  private cached: { id: number; bytes: number; rows: ChunkRows }[] = [];
  private cachedColumns: { id: number; bytes: number; key: string; columns: SampleColumns }[] = [];

  constructor(private readonly db: Database.Database) {
    const rawColumns = `ts_ms, seq, boot, ${SAMPLE_COLUMNS.join(', ')}, detail`;
    this.stmt = {
      // The oldest minute of any node that holds raw rows: one seek in the minute-led index.
      oldestMinute: db.prepare<[], { m: number | null }>('SELECT min(ts_ms / 60000) AS m FROM samples'),
      // Binds (minute, node): the next node after it with rows in the minute; one seek in the minute-led index.
      nodeInMinute: db.prepare<[number, number], { node_id: number }>(
        'SELECT node_id FROM samples WHERE ts_ms / 60000 = ? AND node_id > ? ORDER BY node_id LIMIT 1',
      ),
      nextMinute: db.prepare<[number], { m: number | null }>('SELECT min(ts_ms / 60000) AS m FROM samples WHERE ts_ms / 60000 > ?'),
      rawRows: db.prepare(`SELECT ${rawColumns} FROM samples WHERE ${NODE_RANGE_SQL}`).raw(),
      sampleRows: db.prepare(`SELECT ts_ms, seq, ${SAMPLE_COLUMNS.join(', ')} FROM samples WHERE ${NODE_RANGE_SQL}`).raw(),
      // The first rows of a node's span (an hour at most) in order, MAX_ROWS + 1 of them: a step's chunk and where it is cut.
      firstRows: db.prepare(`SELECT ${rawColumns} FROM samples WHERE ${NODE_RANGE_SQL} ORDER BY ts_ms, seq LIMIT ${MAX_ROWS + 1}`).raw(),
      // Binds (node, window start, window end, ts): the node's chunk of that window that rows from ts on join.
      chunkBefore: db.prepare<[number, number, number, number], ChunkRecord & { rows: number }>(
        'SELECT rowid AS id, start_ms, rows, data FROM sample_chunks WHERE node_id = ? AND start_ms BETWEEN ? AND ? AND start_ms <= ? ORDER BY start_ms DESC LIMIT 1',
      ),
      deleteRows: db.prepare(`DELETE FROM samples WHERE ${NODE_RANGE_SQL}`),
      chunk: db.prepare<[number, number], ChunkRecord>('SELECT rowid AS id, start_ms, data FROM sample_chunks WHERE node_id = ? AND start_ms = ?'),
      save: db.prepare('INSERT OR REPLACE INTO sample_chunks (node_id, start_ms, rows, last_ms, data) VALUES (?, ?, ?, ?, ?)'),
      // The node's chunks that meet [from, to]: binds (node, from's window, to, from). Their rowids
      // first, from the index that holds their spans: a chunk's blob is read only when it is wanted.
      chunks: db.prepare<[number, number, number, number], ChunkRecord>(
        `SELECT rowid AS id, start_ms, data FROM sample_chunks WHERE rowid IN (
           SELECT rowid FROM sample_chunks INDEXED BY sample_chunks_by_node_span WHERE node_id = ? AND start_ms BETWEEN ? AND ? AND ${LAST_MS_SQL} >= ?
         ) ORDER BY start_ms`,
      ),
      // The same chunks' rowids and lengths alone: a decoded chunk kept (decoded()) needs no blob read.
      chunkSizes: db.prepare<[number, number, number, number], { id: number; bytes: number }>(
        `SELECT rowid AS id, length(data) AS bytes FROM sample_chunks INDEXED BY sample_chunks_by_node_span
         WHERE node_id = ? AND start_ms BETWEEN ? AND ? AND ${LAST_MS_SQL} >= ? ORDER BY start_ms`,
      ),
      chunkData: db.prepare<[number], { data: Buffer }>('SELECT data FROM sample_chunks WHERE rowid = ?'),
      // Binds (node, from's window, from): the first chunk that holds times from `from` on.
      nextChunk: db.prepare<[number, number, number], { start_ms: number }>(
        `SELECT start_ms FROM sample_chunks INDEXED BY sample_chunks_by_node_span WHERE node_id = ? AND start_ms >= ? AND ${LAST_MS_SQL} >= ? ORDER BY start_ms LIMIT 1`,
      ),
      // Binds (before, before, limit): chunks whose every sample is older than `before`.
      purge: db.prepare(`DELETE FROM sample_chunks WHERE rowid IN (SELECT rowid FROM sample_chunks WHERE start_ms < ? AND ${LAST_MS_SQL} < ? LIMIT ?)`),
      // The 1 min tier's buckets, replaced whole: binds what mergeArgs() gives (hub/storage/minute-sums.ts).
      replaceMinute: db.prepare(
        `INSERT OR REPLACE INTO rollups (tier, node_id, bucket_ms, n, ${SAMPLE_COLUMNS.flatMap((m) => [`${m}_min`, `${m}_max`, `${m}_sum`, `${m}_n`]).join(', ')})
         VALUES (60, ?, ?, ?, ${SAMPLE_COLUMNS.flatMap(() => ['?', '?', '?', '?']).join(', ')})`,
      ),
      purgeNode: db.prepare('DELETE FROM sample_chunks WHERE rowid IN (SELECT rowid FROM sample_chunks WHERE node_id = ? LIMIT ?)'),
    };
  }

  /**
   * Moves the raw rows older than `beforeMs` (moved down to a minute's start) into chunks, a chunk a
   * step, in transactions of about `sliceMs` of work with `pause` between them: on the writer's
   * thread, each holds up the next batch of samples. Stops after `budgetMs` and leaves the rest to
   * the next run: the maintenance runs one task at a time, so a first compaction of days of rows
   * (a hub upgraded with a full raw tier) must not hold the rollups back for an hour. Returns the rows moved.
   */
  async compact(beforeMs: number, pause: () => Promise<void>, sliceMs = 25, budgetMs = 120_000): Promise<number> {
    const cutoff = Math.floor(beforeMs / MINUTE_MS) * MINUTE_MS;
    // Where the run has got to, by (minute, node), and the sparse nodes it leaves as rows.
    const cursor: Cursor = { minute: null, after: -1 };
    const sparse = new Set<number>();
    const cold: number[] = [];
    const moved = await inSlicedTransactions(this.db, () => this.compactStep(cutoff, cursor, sparse, cold), pause, sliceMs, budgetMs);
    await recompressCold(this.db, 'sample_chunks', cold, pause, budgetMs);
    return moved;
  }

  /** The node whose rows come next in (minute, node) order from the cursor on, less those in `skipped`; the cursor is moved to it. */
  private nextNode(cutoff: number, cursor: Cursor, skipped: ReadonlySet<number>): { minute: number; nodeId: number } | null {
    let minute = cursor.minute ?? this.stmt.oldestMinute.get()!.m;
    let after = cursor.after;
    while (minute !== null && minute * MINUTE_MS < cutoff) {
      const row = this.stmt.nodeInMinute.get(minute, after);
      if (!row) {
        minute = this.stmt.nextMinute.get(minute)!.m;
        after = -1;
      } else if (skipped.has(row.node_id)) after = row.node_id;
      else {
        // From this node on: a step that cut its rows leaves it some in this minute still.
        cursor.minute = minute;
        cursor.after = row.node_id - 1;
        return { minute, nodeId: row.node_id };
      }
    }
    return null;
  }

  /**
   * Compacts the oldest rows before `cutoff` of the node with the oldest rows, up to MAX_ROWS of
   * them from its window (cut between two times, never inside one), gathered an hour at a time
   * (each hour's rows are one index seek a minute): the rows moved, or null when none is left.
   * Every row of a chunk lies in its window from its start_ms on: a chunk starts at its first row,
   * and later rows, late ones too, join the chunk of the window that starts last before them.
   */
  private compactStep(cutoff: number, cursor: Cursor, sparse: Set<number>, cold: number[]): number | null {
    const next = this.nextNode(cutoff, cursor, sparse);
    if (next === null) return null;
    const { minute, nodeId } = next;
    const window = windowOf(minute * MINUTE_MS);
    const windowEnd = window + CHUNK_MS - 1;
    // The window's rows before the cutoff: the rest of it joins its chunk at a later compaction.
    const lastWanted = Math.min(windowEnd, cutoff - 1);
    let rows: unknown[][] = [];
    for (let from = minute * MINUTE_MS; from <= lastWanted && rows.length <= MAX_ROWS; from = Math.floor(from / HOUR_MS) * HOUR_MS + HOUR_MS) {
      const to = Math.min(Math.floor(from / HOUR_MS) * HOUR_MS + HOUR_MS - 1, lastWanted);
      const hour = this.stmt.firstRows.all(minuteList(from, to), nodeId, from, to) as unknown[][];
      rows = rows.length === 0 ? hour : rows.concat(hour);
    }
    if (rows.length < SPARSE_ROWS && lastWanted === cutoff - 1 && minute * MINUTE_MS > cutoff - HOUR_MS) {
      sparse.add(nodeId);
      return 0;
    }
    const cut = rows.length > MAX_ROWS;
    if (cut) {
      const lastTs = rows[MAX_ROWS]![0] as number;
      rows = rows.filter((r) => (r[0] as number) < lastTs);
      // More than MAX_ROWS samples at one time: all of them, uncut.
      if (rows.length === 0) rows = this.stmt.rawRows.all(minuteList(lastTs, lastTs), nodeId, lastTs, lastTs) as unknown[][];
    }
    const piece = chunkRowsOf(rows);
    const firstTs = piece.tsMs[0]!;
    const lastTs = piece.tsMs.at(-1)!;
    const before = this.stmt.chunkBefore.get(nodeId, window, windowEnd, firstTs);
    let start = firstTs;
    let chunk = piece;
    if (before && (before.start_ms === firstTs || before.rows + piece.tsMs.length < MERGE_ROWS)) {
      start = before.start_ms;
      chunk = mergeChunks(decodeChunk(before.data), piece);
    }
    const saved = this.stmt.save.run(nodeId, start, chunk.tsMs.length, chunk.tsMs.at(-1)!, encodeChunk(chunk));
    // No later step merges into this chunk when its window's rows are all in (the window ended
    // before the cutoff) or a piece as large as this one would start the next chunk: it is
    // compressed again harder after the run (hub/storage/sqlite/cold-chunks.ts).
    if ((lastWanted === windowEnd && !cut) || chunk.tsMs.length + piece.tsMs.length >= MERGE_ROWS) cold.push(Number(saved.lastInsertRowid));
    this.stmt.deleteRows.run(minuteList(firstTs, lastTs), nodeId, firstTs, lastTs);
    return rows.length;
  }

  /** Deletes chunks whose samples are all older than `beforeMs`, `limit` at most; returns how many. */
  purgeBefore(beforeMs: number, limit: number): number {
    return this.stmt.purge.run(beforeMs, beforeMs, limit).changes;
  }

  /** Deletes up to `limit` of a node's chunks; returns the samples they held. */
  purgeNode(nodeId: number, limit: number): { chunks: number; samples: number } {
    const held =
      this.db
        .prepare<[number, number], { n: number | null }>('SELECT sum(rows) AS n FROM (SELECT rows FROM sample_chunks WHERE node_id = ? LIMIT ?)')
        .get(nodeId, limit)!.n ?? 0;
    const chunks = this.stmt.purgeNode.run(nodeId, limit).changes;
    return { chunks, samples: chunks === 0 ? 0 : held };
  }

  /** Whether the node has chunks whose windows meet [fromMs, toMs]. */
  holds(nodeId: number, fromMs: number, toMs: number): boolean {
    const next = this.stmt.nextChunk.get(nodeId, windowOf(fromMs), fromMs);
    return next !== undefined && next.start_ms <= toMs;
  }

  /** The start of the node's first chunk that holds times from `fromMs` on, or null. */
  nextWindow(nodeId: number, fromMs: number): number | null {
    return this.stmt.nextChunk.get(nodeId, windowOf(fromMs), fromMs)?.start_ms ?? null;
  }

  /**
   * The node's chunked samples with ts_ms in [fromMs, toMs], each as [ts_ms, seq, …values of
   * `columns` (indexes into SAMPLE_COLUMNS)], in (ts_ms, seq) order. `after` skips rows up to
   * and including that (ts_ms, seq).
   */
  rows(nodeId: number, fromMs: number, toMs: number, columns: readonly number[], after?: { ts_ms: number; seq: number }): ChunkRow[] {
    const out: ChunkRow[] = [];
    for (const record of this.stmt.chunkSizes.all(nodeId, windowOf(fromMs), toMs, fromMs)) {
      const chunk = this.decoded(record);
      for (let i = 0; i < chunk.tsMs.length; i++) {
        const ts = chunk.tsMs[i]!;
        const seq = chunk.seq[i]!;
        if (ts < fromMs || ts > toMs) continue;
        if (after && (ts < after.ts_ms || (ts === after.ts_ms && seq <= after.seq))) continue;
        const row: ChunkRow = [ts, seq];
        for (const c of columns) row.push(chunk.columns[c]?.[i] ?? null);
        out.push(row);
      }
    }
    return out.sort(byTimeAndSeq);
  }

  /**
   * The node's raw samples with times in [fromMs, toMs] and maybe others: its chunks that hold
   * those times, decoded (kept, as for rows()), and its rows of them in chunk form (a seek a
   * minute), each in (ts_ms, seq) order.
   */
  parts(nodeId: number, fromMs: number, toMs: number): RawColumns[] {
    const parts: RawColumns[] = this.stmt.chunkSizes.all(nodeId, windowOf(fromMs), toMs, fromMs).map((record) => this.decoded(record));
    const rows = this.stmt.sampleRows.all(minuteList(fromMs, toMs), nodeId, fromMs, toMs) as ChunkRow[];
    if (rows.length > 0) {
      rows.sort(byTimeAndSeq);
      parts.push({ tsMs: rows.map((r) => r[0]!), seq: rows.map((r) => r[1]!), columns: SAMPLE_COLUMNS.map((_, c) => rows.map((r) => r[2 + c] ?? null)) });
    }
    return parts;
  }

  /** As parts() without the rows, with the chunks' columns `columns` (indexes into SAMPLE_COLUMNS) alone, kept apart from whole ones. */
  columnParts(nodeId: number, fromMs: number, toMs: number, columns: readonly number[]): RawColumns[] {
    const key = columns.join(',');
    return this.stmt.chunkSizes.all(nodeId, windowOf(fromMs), toMs, fromMs).map((record) => {
      const hit = this.cachedColumns.find((c) => c.id === record.id && c.bytes === record.bytes && c.key === key);
      if (hit) return hit.columns;
      const data = this.stmt.chunkData.get(record.id)!.data;
      const decoded = decodeChunkColumns(data, columns);
      this.cachedColumns = [{ id: record.id, bytes: data.length, key, columns: decoded }, ...this.cachedColumns.slice(0, CACHED_CHUNKS - 1)];
      return decoded;
    });
  }

  /** The node's chunks that hold times from `fromMs` on, oldest first, decoded with their detail: a rollup rebuild's input. */
  *chunksFrom(nodeId: number, fromMs: number): Generator<ChunkRows> {
    for (const record of this.stmt.chunks.all(nodeId, windowOf(fromMs), Number.MAX_SAFE_INTEGER, fromMs)) yield decodeChunk(record.data, { detail: false });
  }

  /**
   * Rebuilds the node's 1 min buckets from its chunks (with any raw rows that arrived late for their
   * windows) from `fromMs` on, after rollupFromRawSql() rebuilt those of the raw rows: a bucket of a
   * chunked window is replaced whole. Returns the buckets written.
   */
  rebuildMinutes(nodeId: number, fromMs: number): number {
    let written = 0;
    const records = this.stmt.chunks.all(nodeId, windowOf(fromMs), Number.MAX_SAFE_INTEGER, fromMs);
    // A window at a time: its chunks and the raw rows that came late for it, summed together.
    for (let i = 0; i < records.length; ) {
      const window = windowOf(records[i]!.start_ms);
      const range = [minuteList(window, window + CHUNK_MS - 1), nodeId, window, window + CHUNK_MS - 1] as const;
      const late = this.stmt.rawRows.all(...range) as unknown[][];
      const chunks: ChunkRows[] = [];
      for (; i < records.length && windowOf(records[i]!.start_ms) === window; i++) chunks.push(decodeChunk(records[i]!.data, { detail: false }));
      // One merge of them all (a day at 1 Hz is a hundred chunks), in (ts_ms, seq) order as SQL sums.
      const rows = mergeChunks(concatenated(chunks), late.length > 0 ? chunkRowsOf(late) : concatenated([]));
      for (const [bucketMs, bucket] of minuteBuckets(rows, fromMs)) {
        this.stmt.replaceMinute.run(mergeArgs(nodeId, bucketMs, bucket));
        written++;
      }
    }
    return written;
  }

  /** The node's chunked detail blobs with ts_ms in [fromMs, toMs], in time order. */
  details(nodeId: number, fromMs: number, toMs: number): { ts_ms: number; detail: Uint8Array }[] {
    const out: { ts_ms: number; detail: Uint8Array }[] = [];
    for (const record of this.stmt.chunks.all(nodeId, windowOf(fromMs), toMs, fromMs)) {
      const chunk = decodeChunk(record.data);
      chunk.tsMs.forEach((ts, i) => {
        const detail = chunk.detail[i];
        if (detail && ts >= fromMs && ts <= toMs) out.push({ ts_ms: ts, detail });
      });
    }
    return out.sort((a, b) => a.ts_ms - b.ts_ms);
  }

  private decoded(record: { id: number; bytes: number }): ChunkRows {
    const hit = this.cached.find((c) => c.id === record.id && c.bytes === record.bytes);
    if (hit) return hit.rows;
    const data = this.stmt.chunkData.get(record.id)!.data;
    const rows = decodeChunk(data, { detail: false });
    this.cached = [{ id: record.id, bytes: data.length, rows }, ...this.cached.slice(0, CACHED_CHUNKS - 1)];
    return rows;
  }
}

export const byTimeAndSeq = (a: ChunkRow, b: ChunkRow) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number);

/** Rows as read from `samples` (ts_ms, seq, boot, the columns, detail) in chunk form, in (ts_ms, seq) order. */
function chunkRowsOf(rows: unknown[][]): ChunkRows {
  rows.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  const detailAt = 3 + SAMPLE_COLUMNS.length;
  return {
    tsMs: rows.map((r) => r[0] as number),
    seq: rows.map((r) => r[1] as number),
    boot: rows.map((r) => r[2] as string),
    columns: SAMPLE_COLUMNS.map((_, c) => rows.map((r) => r[3 + c] as number | null)),
    detail: rows.map((r) => (r[detailAt] as Uint8Array | null) ?? null),
  };
}

/** Chunks' rows one after another, in no particular order. */
function concatenated(chunks: readonly ChunkRows[]): ChunkRows {
  const width = Math.max(0, ...chunks.map((c) => c.columns.length));
  return {
    tsMs: chunks.flatMap((c) => c.tsMs),
    seq: chunks.flatMap((c) => c.seq),
    boot: chunks.flatMap((c) => c.boot),
    // A chunk written before the registry grew has fewer columns: the new ones are absent in it.
    columns: Array.from({ length: width }, (_, col) => chunks.flatMap((c) => c.columns[col] ?? c.tsMs.map(() => null))),
    detail: chunks.flatMap((c) => c.detail),
  };
}

/**
 * A chunk's samples from `fromMs` on summed into 1 min buckets as hub/storage/minute-sums.ts sums new rows,
 * but with SQLite's sum() compensation (Kahan-Babuska-Neumaier): a bucket rebuilt from a chunk is
 * the one rollupFromRawSql() would have built from the same rows, to the last bit.
 */
function minuteBuckets(chunk: ChunkRows, fromMs: number): Map<number, MinuteBucket> {
  const buckets = new Map<number, { bucket: MinuteBucket; errors: Float64Array }>();
  const metrics = SAMPLE_COLUMNS.length;
  for (let i = 0; i < chunk.tsMs.length; i++) {
    const ts = chunk.tsMs[i]!;
    if (ts < fromMs) continue;
    const bucketMs = ts - (ts % MINUTE_MS);
    let entry = buckets.get(bucketMs);
    if (!entry) {
      entry = { bucket: new Float64Array(1 + 4 * metrics), errors: new Float64Array(metrics) };
      for (let c = 0; c < metrics; c++) {
        entry.bucket[1 + 4 * c] = Infinity;
        entry.bucket[2 + 4 * c] = -Infinity;
      }
      buckets.set(bucketMs, entry);
    }
    const { bucket, errors } = entry;
    bucket[0]!++;
    for (let c = 0; c < metrics; c++) {
      const value = chunk.columns[c]?.[i] ?? null;
      if (value === null) continue;
      const at = 1 + 4 * c;
      if (value < bucket[at]!) bucket[at] = value;
      if (value > bucket[at + 1]!) bucket[at + 1] = value;
      const s = bucket[at + 2]!;
      const sum = s + value;
      errors[c]! += Math.abs(s) > Math.abs(value) ? s - sum + value : value - sum + s;
      bucket[at + 2] = sum;
      bucket[at + 3]!++;
    }
  }
  const out = new Map<number, MinuteBucket>();
  for (const [bucketMs, { bucket, errors }] of buckets) {
    for (let c = 0; c < metrics; c++) bucket[3 + 4 * c]! += errors[c]!;
    out.set(bucketMs, bucket);
  }
  return out;
}

/**
 * Rows of [ts_ms, …values] in time order averaged into buckets of `stepMs` as SQL's avg() does
 * (absent values left out, null where a bucket has none, summed with SQLite's Kahan-Babuska-Neumaier
 * compensation so the means match to the last bit): the raw chart tier's bucketing when some of the
 * range is chunked.
 */
export function averaged(rows: readonly ChunkRow[], stepMs: number): ChunkRow[] {
  const out: ChunkRow[] = [];
  let sums: number[] = [];
  let errors: number[] = [];
  let counts: number[] = [];
  let bucket: number | null = null;
  const flush = () => {
    if (bucket !== null) out.push([bucket, ...sums.map((s, m) => (counts[m]! > 0 ? (s + errors[m]!) / counts[m]! : null))]);
  };
  for (const row of rows) {
    const ts = row[0] as number;
    const t = ts - (ts % stepMs);
    if (t !== bucket) {
      flush();
      bucket = t;
      sums = new Array<number>(row.length - 1).fill(0);
      errors = new Array<number>(row.length - 1).fill(0);
      counts = new Array<number>(row.length - 1).fill(0);
    }
    for (let m = 1; m < row.length; m++) {
      const v = row[m];
      if (v === null || v === undefined) continue;
      const s = sums[m - 1]!;
      const sum = s + v;
      errors[m - 1]! += Math.abs(s) > Math.abs(v) ? s - sum + v : v - sum + s;
      sums[m - 1] = sum;
      counts[m - 1]!++;
    }
  }
  flush();
  return out;
}
