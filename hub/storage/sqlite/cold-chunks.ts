// Chunks compaction is done with (a raw chunk full or its window over, a bucket chunk's window at its
// last hour), compressed again harder once, after the compaction run that wrote them: compaction
// re-encodes a growing chunk whole at each merge, so it compresses fast, and only a chunk it will
// not merge into again is worth brotli's slow quality (hub/storage/chunk-codec.ts recompressedCold).
import type Database from 'better-sqlite3';
import { recompressedCold } from '../chunk-codec.ts';

type ChunkTable = 'sample_chunks' | 'rollup_chunks' | 'labelled_chunks';

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
  const write = db.prepare<[Uint8Array, number, Buffer]>(`UPDATE ${table} SET data = ? WHERE rowid = ? AND data = ?`);
  const stopAt = performance.now() + budgetMs;
  let saved = 0;
  for (const rowid of rowids) {
    if (performance.now() >= stopAt) break;
    const row = read.get(rowid);
    if (!row) continue;
    const smaller = await recompressedCold(row.data);
    if (smaller && write.run(smaller, rowid, row.data).changes === 1) saved += row.data.length - smaller.length;
    await pause();
  }
  return saved;
}
