// Chunks compaction is done with (a raw chunk full or its window over, a rollup chunk's window at its
// last hour), compressed again harder once, after the compaction run that wrote them: compaction
// re-encodes a growing chunk whole at each merge, so it compresses fast, and only a chunk it will
// not merge into again is worth brotli's slow quality (hub/storage/chunk-codec.ts recompressedCold).
// Not the labelled series' chunks: some 1 kB each, kept inside their table's pages, they came out
// 0.15 B a value for 0.16 but their pages took as many (bench/storage.ts), or more, rewritten after.
import type Database from 'better-sqlite3';
import { recompressedCold } from '../chunk-codec.ts';

type ChunkTable = 'sample_chunks' | 'rollup_chunks';

/**
 * Compresses again the chunks of `table` with these rowids, one at a time on zlib's thread pool, so
 * that the writer's thread takes batches meanwhile; each is written back in its own short
 * transaction unless it changed since (late samples merged into it). Stops after `budgetMs`: those
 * left keep their first compression. Returns the bytes saved.
 */
export async function recompressCold(
  db: Database.Database,
  table: ChunkTable,
  rowids: readonly number[],
  pause: () => Promise<void>,
  budgetMs: number,
): Promise<number> {
  const read = db.prepare<[number], { data: Buffer }>(`SELECT data FROM ${table} WHERE rowid = ?`);
  const take = db.prepare<[number, Buffer], Record<string, unknown>>(`SELECT * FROM ${table} WHERE rowid = ? AND data = ?`);
  const remove = db.prepare<[number]>(`DELETE FROM ${table} WHERE rowid = ?`);
  let insert: Database.Statement | undefined;
  // Deleted and inserted anew rather than updated in place: the row goes to the table's end, as
  // compaction appends. Made shorter in place, the rollup chunks' pages took as many as before
  // (bench/storage.ts: 0.29 B a value, against 0.27 so; their blobs 0.25 against 0.26).
  const writeBack = db.transaction((rowid: number, old: Buffer, data: Uint8Array) => {
    const row = take.get(rowid, old);
    if (!row) return false;
    remove.run(rowid);
    const columns = Object.keys(row);
    insert ??= db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
    insert.run({ ...row, data });
    return true;
  });
  const stopAt = performance.now() + budgetMs;
  let saved = 0;
  for (const rowid of rowids) {
    if (performance.now() >= stopAt) break;
    const row = read.get(rowid);
    if (!row) continue;
    const smaller = await recompressedCold(row.data);
    if (smaller && writeBack.immediate(rowid, row.data, smaller)) saved += row.data.length - smaller.length;
    await pause();
  }
  return saved;
}
