// Late rows into a compacted window: the same merge for the SQLite and the PostgreSQL chunk stores.
import type { ChunkRows } from './chunk-codec.ts';

/**
 * A window's chunk with late rows added, in (ts_ms, seq) order. A row with the time and seq of one
 * already in the chunk is dropped, as the samples' unique index drops it among rows.
 */
export function mergeChunks(old: ChunkRows, late: ChunkRows): ChunkRows {
  const width = Math.max(old.columns.length, late.columns.length);
  const order: [ChunkRows, number][] = [];
  const seen = new Set<string>();
  for (const part of [old, late]) {
    for (let i = 0; i < part.tsMs.length; i++) {
      const key = `${part.tsMs[i]}:${part.seq[i]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      order.push([part, i]);
    }
  }
  order.sort(([a, i], [b, j]) => a.tsMs[i]! - b.tsMs[j]! || a.seq[i]! - b.seq[j]!);
  return {
    tsMs: order.map(([p, i]) => p.tsMs[i]!),
    seq: order.map(([p, i]) => p.seq[i]!),
    boot: order.map(([p, i]) => p.boot[i]!),
    // A chunk written before the registry grew has fewer columns: the new ones are absent in it.
    columns: Array.from({ length: width }, (_, c) => order.map(([p, i]) => p.columns[c]?.[i] ?? null)),
    detail: order.map(([p, i]) => p.detail[i] ?? null),
  };
}
