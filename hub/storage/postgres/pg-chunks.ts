// Raw samples past their first hours, kept compressed in sample_chunks (hub/storage/postgres/pg-schema.ts, step 9):
// one row per node and hour, encoded by hub/storage/chunk-codec.ts (the SQLite store's codec) on a thread
// of its own (hub/storage/postgres/pg-chunk-worker.ts). Recent rows stay in `samples`, where batches insert
// cheaply and the rollups and labelled series are rebuilt from; compaction moves a node's hour from there
// into its chunk in one short transaction, so a sample is always in exactly one of the two, and an hour
// is either all rows or all chunk: a late sample for a compacted hour moves the chunk back into rows in
// the transaction that stores it (expand), so the rollup rebuild that follows reads the whole hour.
import type { Pool, PoolClient } from 'pg';
import { SAMPLE_COLUMNS as PACKED_COLUMNS } from '../packed-samples.ts';
import { ChunkWorker, type ColumnarChunk } from './pg-chunk-worker.ts';
import { SAMPLE_COLUMN_TYPES } from './pg-schema.ts';

/** A chunk's window: a node's hour. */
export const CHUNK_MS = 3_600_000;

/** Raw rows younger than this stay rows: live charts, ingest's duplicates and the rollups' rebuilds read them as rows. */
export const COMPACT_AFTER_MS = 2 * 3_600_000;

/**
 * A stored sample older than this may fall in a compacted window (CHUNK_MS less than COMPACT_AFTER_MS:
 * the hour before the compacting hub's cutoff, with an hour to spare for hubs' clocks that disagree).
 */
export const LATE_AFTER_MS = COMPACT_AFTER_MS - CHUNK_MS;

/** The window that holds `ms` (floor, also for times before 1970). */
export const windowOf = (ms: number) => Math.floor(ms / CHUNK_MS) * CHUNK_MS;

/** A row read from chunks: ts_ms, seq, then the asked-for columns' values. */
export type ChunkRow = (number | null)[];

export const byTimeAndSeq = (a: ChunkRow, b: ChunkRow) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number);

// Decoded chunks kept, up to this many bytes of values: an export's pages and a chart's refreshes
// read the same chunks again (a 6 h chart, six of them; an hour at 1 Hz is 1.2 MB decoded).
const CACHED_BYTES = 16 * 2 ** 20;
// Chunks a purge transaction deletes at most.
const PURGE_CHUNKS = 500;

// Columns of a window's rows as compaction reads them: the key, the boot's text, the metrics in the registry's order, the detail.
const WINDOW_ROWS_SQL = `SELECT s.ts_ms, s.seq, s.boot_id, b.boot, ${PACKED_COLUMNS.map((m) => `s.${m}`).join(', ')}, s.detail
  FROM samples s JOIN boots b ON b.id = s.boot_id
  WHERE s.node_id = $1 AND s.ts_ms >= $2 AND s.ts_ms < $3 ORDER BY s.ts_ms, s.seq, s.boot_id`;
const FIRST_COLUMN = 4;

const RESTORE_SQL = `INSERT INTO samples (node_id, boot_id, ts_ms, seq, ${PACKED_COLUMNS.join(', ')}, detail)
  SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[],
    ${PACKED_COLUMNS.map((m, i) => `$${i + 5}::${SAMPLE_COLUMN_TYPES[m]}[]`).join(', ')}, $${PACKED_COLUMNS.length + 5}::bytea[])
  ON CONFLICT DO NOTHING`;

/** A window changed between compaction's read and its write (a late sample, another hub): left to the next run. */
class WindowChanged extends Error {}

interface ChunkMeta {
  start_ms: number;
  rows: number;
  bytes: number;
}

export type Transaction = <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>;

export class PgChunks {
  private readonly codec = new ChunkWorker();
  /** Most recently used first. */
  private cached: { key: string; chunk: ColumnarChunk; bytes: number }[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly transaction: Transaction,
  ) {}

  /**
   * Moves the raw rows in [fromMs, cutoffMs) (cutoffMs moved down to an hour's start) into chunks, a
   * node's hour per transaction with `pause` between them, for at most `budgetMs`: the rest is left to
   * the next run. Returns the rows moved.
   */
  async compact(fromMs: number, cutoffMs: number, pause: () => Promise<void>, budgetMs = 120_000): Promise<number> {
    const cutoff = windowOf(cutoffMs);
    if (fromMs >= cutoff) return 0;
    const stopAt = performance.now() + budgetMs;
    const ids = (await this.pool.query<{ id: number }>('SELECT id FROM nodes ORDER BY id')).rows.map((r) => r.id);
    let moved = 0;
    for (const nodeId of ids) {
      for (;;) {
        if (performance.now() >= stopAt) return moved;
        const { rows } = await this.pool.query<{ ts_ms: number }>({
          name: 'rm_chunk_oldest',
          text: 'SELECT ts_ms FROM samples WHERE node_id = $1 AND ts_ms >= $2 AND ts_ms < $3 ORDER BY ts_ms LIMIT 1',
          values: [nodeId, fromMs, cutoff],
        });
        if (rows.length === 0) break;
        const n = await this.compactWindow(nodeId, windowOf(rows[0]!.ts_ms));
        await pause();
        if (n === null) break; // changed under us: this node waits for the next run
        moved += n;
      }
    }
    return moved;
  }

  /**
   * Encodes a node's hour of rows (merged into its chunk, when one is there) on the codec's thread,
   * then, in one transaction under the node's row lock (as a batch of its samples takes it), deletes
   * exactly the rows encoded and saves the chunk. Returns the rows moved, or null when the window
   * changed meanwhile (then nothing is written).
   */
  private async compactWindow(nodeId: number, start: number): Promise<number | null> {
    const end = start + CHUNK_MS;
    const { rows } = await this.pool.query<unknown[]>({ name: 'rm_chunk_window', text: WINDOW_ROWS_SQL, values: [nodeId, start, end], rowMode: 'array' });
    if (rows.length === 0) return 0;
    const { rows: before } = await this.pool.query<{ rows: number; data: Buffer }>({
      name: 'rm_chunk_get',
      text: 'SELECT rows, data FROM sample_chunks WHERE node_id = $1 AND start_ms = $2',
      values: [nodeId, start],
    });
    const existing = before[0] ?? null;
    const keys = new Set(rows.map((r) => `${r[0]} ${r[1]} ${r[2]}`));
    const encoded = await this.codec.encode(columnarOfRows(rows), existing?.data ?? null);
    try {
      await this.transaction(async (client) => {
        await client.query({ name: 'rm_chunk_lock_node', text: 'SELECT 1 FROM nodes WHERE id = $1 FOR UPDATE', values: [nodeId] });
        const { rows: held } = await client.query<{ rows: number; bytes: number }>({
          name: 'rm_chunk_lock',
          text: 'SELECT rows, octet_length(data) AS bytes FROM sample_chunks WHERE node_id = $1 AND start_ms = $2 FOR UPDATE',
          values: [nodeId, start],
        });
        const now = held[0] ?? null;
        if (now?.rows !== existing?.rows || (now && now.bytes !== existing?.data.length)) throw new WindowChanged();
        const { rows: deleted } = await client.query<{ ts_ms: number; seq: number; boot_id: number }>({
          name: 'rm_chunk_delete_rows',
          text: 'DELETE FROM samples WHERE node_id = $1 AND ts_ms >= $2 AND ts_ms < $3 RETURNING ts_ms, seq, boot_id',
          values: [nodeId, start, end],
        });
        if (deleted.length !== keys.size || deleted.some((d) => !keys.has(`${d.ts_ms} ${d.seq} ${d.boot_id}`))) throw new WindowChanged();
        await client.query({
          name: 'rm_chunk_save',
          text: `INSERT INTO sample_chunks (node_id, start_ms, rows, data) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (node_id, start_ms) DO UPDATE SET rows = excluded.rows, data = excluded.data`,
          values: [nodeId, start, encoded.rows, encoded.bytes],
        });
      });
    } catch (err) {
      if (err instanceof WindowChanged) return null;
      throw err;
    }
    return rows.length;
  }

  /**
   * Moves back into rows the chunks of `windows` ([node id, window start]) that exist, in the caller's
   * transaction, which holds those nodes' row locks: before a late sample for a compacted hour is
   * counted, the whole hour is rows again. Returns the rows restored.
   */
  async expand(client: PoolClient, windows: readonly (readonly [number, number])[]): Promise<number> {
    const { rows: chunks } = await client.query<{ node_id: number; start_ms: number; data: Buffer }>({
      name: 'rm_chunk_expand',
      text: `SELECT c.node_id, c.start_ms, c.data FROM sample_chunks c JOIN unnest($1::int[], $2::bigint[]) AS w(node_id, start_ms) USING (node_id, start_ms)
             ORDER BY c.node_id, c.start_ms FOR UPDATE OF c`,
      values: [windows.map((w) => w[0]), windows.map((w) => w[1])],
    });
    let restored = 0;
    for (const { node_id: nodeId, start_ms: start, data } of chunks) {
      const chunk = await this.codec.decode(data, true);
      const boots = [...new Set(chunk.boot)];
      const { rows: ids } = await client.query<{ id: number; boot: string }>('SELECT id, boot FROM boots WHERE node_id = $1 AND boot = ANY($2::text[])', [
        nodeId,
        boots,
      ]);
      const bootIds = new Map(ids.map((r) => [r.boot, r.id]));
      const n = chunk.tsMs.length;
      const columns = PACKED_COLUMNS.map((_, c) => Array.from({ length: n }, (_, i) => cellOf(chunk, c, i)));
      await client.query({
        name: 'rm_chunk_restore',
        text: RESTORE_SQL,
        values: [
          new Array<number>(n).fill(nodeId),
          chunk.boot!.map((b) => bootIds.get(b)!),
          Array.from(chunk.tsMs),
          Array.from(chunk.seq),
          ...columns,
          chunk.detail!.map((d) => d && Buffer.from(d.buffer, d.byteOffset, d.byteLength)),
        ],
      });
      await client.query('DELETE FROM sample_chunks WHERE node_id = $1 AND start_ms = $2', [nodeId, start]);
      restored += n;
    }
    if (chunks.length > 0) this.cached = [];
    return restored;
  }

  /** The node's chunks whose windows meet [fromMs, toMs], oldest first, without their bytes. */
  private async list(nodeId: number, fromMs: number, toMs: number): Promise<ChunkMeta[]> {
    const { rows } = await this.pool.query<ChunkMeta>({
      name: 'rm_chunk_list',
      text: 'SELECT start_ms, rows, octet_length(data) AS bytes FROM sample_chunks WHERE node_id = $1 AND start_ms BETWEEN $2 AND $3 ORDER BY start_ms',
      values: [nodeId, windowOf(fromMs), toMs],
    });
    return rows;
  }

  /** A listed chunk decoded (without details): from the cache, else read and decoded on the codec's thread. */
  private async decoded(nodeId: number, meta: ChunkMeta): Promise<ColumnarChunk> {
    const key = `${nodeId} ${meta.start_ms} ${meta.rows} ${meta.bytes}`;
    const at = this.cached.findIndex((c) => c.key === key);
    if (at >= 0) {
      const [hit] = this.cached.splice(at, 1);
      this.cached.unshift(hit!);
      return hit!.chunk;
    }
    const { rows } = await this.pool.query<{ data: Buffer }>({
      name: 'rm_chunk_data',
      text: 'SELECT data FROM sample_chunks WHERE node_id = $1 AND start_ms = $2',
      values: [nodeId, meta.start_ms],
    });
    // Gone since it was listed (moved back into rows by a late sample): read as empty, as a row deleted meanwhile would be.
    if (!rows[0]) return { tsMs: new Float64Array(0), seq: new Float64Array(0), columns: [] };
    const chunk = await this.codec.decode(rows[0].data);
    this.cached.unshift({ key, chunk, bytes: chunk.tsMs.byteLength * (2 + chunk.columns.length) });
    let kept = 0;
    this.cached = this.cached.filter((c) => (kept += c.bytes) <= CACHED_BYTES || c.key === key);
    return chunk;
  }

  /**
   * The node's chunked samples with ts_ms in [fromMs, toMs], each as [ts_ms, seq, …values of
   * `columns` (indexes into the registry's metrics)], in (ts_ms, seq) order. `after` skips rows up to
   * and including that (ts_ms, seq); with `limit`, chunks are read only until that many rows are found
   * (the rows of later chunks all come after them). Null when no chunk meets the range.
   */
  async rows(
    nodeId: number,
    fromMs: number,
    toMs: number,
    columns: readonly number[],
    { after, limit = Infinity }: { after?: { ts_ms: number; seq: number } | null; limit?: number } = {},
  ): Promise<ChunkRow[] | null> {
    const list = await this.list(nodeId, after ? after.ts_ms : fromMs, toMs);
    if (list.length === 0) return null;
    const out: ChunkRow[] = [];
    for (const meta of list) {
      if (out.length >= limit) break;
      const chunk = await this.decoded(nodeId, meta);
      for (let i = 0; i < chunk.tsMs.length; i++) {
        const ts = chunk.tsMs[i]!;
        const seq = chunk.seq[i]!;
        if (ts > toMs || (after ? ts < after.ts_ms || (ts === after.ts_ms && seq <= after.seq) : ts < fromMs)) continue;
        const row: ChunkRow = [ts, seq];
        for (const c of columns) row.push(cellOf(chunk, c, i));
        out.push(row);
      }
    }
    return out.sort(byTimeAndSeq);
  }

  /** The node's chunked detail blobs with ts_ms in [fromMs, toMs], in time order. */
  async details(nodeId: number, fromMs: number, toMs: number): Promise<{ ts_ms: number; detail: Uint8Array }[]> {
    const { rows } = await this.pool.query<{ data: Buffer }>({
      name: 'rm_chunk_details',
      text: 'SELECT data FROM sample_chunks WHERE node_id = $1 AND start_ms BETWEEN $2 AND $3 ORDER BY start_ms',
      values: [nodeId, windowOf(fromMs), toMs],
    });
    const out: { ts_ms: number; detail: Uint8Array }[] = [];
    for (const { data } of rows) {
      const chunk = await this.codec.decode(data, true);
      chunk.tsMs.forEach((ts, i) => {
        const detail = chunk.detail![i];
        if (detail && ts >= fromMs && ts <= toMs) out.push({ ts_ms: ts, detail });
      });
    }
    return out.sort((a, b) => a.ts_ms - b.ts_ms);
  }

  /** Deletes the chunks whose hour ended at or before `beforeMs`, a transaction per PURGE_CHUNKS; returns the samples they held. */
  async purgeBefore(beforeMs: number, pause: () => Promise<void>): Promise<number> {
    return this.purgeWhere('start_ms <= $1', beforeMs - CHUNK_MS, pause);
  }

  /** Deletes a removed node's chunks; returns the samples they held. */
  async purgeNode(nodeId: number, pause: () => Promise<void>): Promise<number> {
    return this.purgeWhere('node_id = $1', nodeId, pause);
  }

  private async purgeWhere(condition: string, value: number, pause: () => Promise<void>): Promise<number> {
    let samples = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ rows: number }>(
        `DELETE FROM sample_chunks WHERE (node_id, start_ms) IN (SELECT node_id, start_ms FROM sample_chunks WHERE ${condition} LIMIT ${PURGE_CHUNKS}) RETURNING rows`,
        [value],
      );
      if (rows.length === 0) return samples;
      this.cached = [];
      for (const r of rows) samples += r.rows;
      await pause();
    }
  }

  async close(): Promise<void> {
    await this.codec.close();
  }
}

/** A decoded chunk's value of column `c` at row `i`: null where absent, or where the chunk predates the column. */
function cellOf(chunk: ColumnarChunk, c: number, i: number): number | null {
  const v = chunk.columns[c]?.[i];
  return v === undefined || Number.isNaN(v) ? null : v;
}

/** Rows as WINDOW_ROWS_SQL reads them, as the codec's thread takes them. */
function columnarOfRows(rows: unknown[][]): ColumnarChunk {
  const n = rows.length;
  const detailAt = FIRST_COLUMN + PACKED_COLUMNS.length;
  return {
    tsMs: Float64Array.from(rows, (r) => r[0] as number),
    seq: Float64Array.from(rows, (r) => r[1] as number),
    boot: rows.map((r) => r[3] as string),
    columns: PACKED_COLUMNS.map((_, c) => {
      const column = new Float64Array(n);
      for (let i = 0; i < n; i++) column[i] = (rows[i]![FIRST_COLUMN + c] as number | null) ?? NaN;
      return column;
    }),
    // Copied: a small bytea may be a view of a larger pooled buffer, all of which a message would carry.
    detail: rows.map((r) => (r[detailAt] ? new Uint8Array(r[detailAt] as Uint8Array) : null)),
  };
}
