// The PostgreSQL store's chunk codec thread: encodes and decodes chunks with hub/storage/chunk-codec.ts
// as it is, off the hub's main thread. Built to dist/pg-chunk-thread.mjs; hub/storage/postgres/pg-chunk-worker.ts
// starts it and speaks to it.
import { parentPort } from 'node:worker_threads';
import { decodeChunk, encodeChunk, type ChunkRows } from '../chunk-codec.ts';
import { buffersOf, type ChunkReply, type ChunkRequest, type ColumnarChunk } from './pg-chunk-worker.ts';

const port = parentPort!;

port.on('message', (request: ChunkRequest) => {
  let reply: ChunkReply;
  let transfer: ArrayBuffer[] = [];
  try {
    if (request.type === 'encode') {
      let rows = rowsOf(request.chunk);
      if (request.mergeInto) rows = merged(decodeChunk(request.mergeInto), rows);
      const bytes = encodeChunk(rows);
      reply = { id: request.id, ok: { bytes, rows: rows.tsMs.length } };
      transfer = [bytes.buffer as ArrayBuffer];
    } else {
      const chunk = columnarOf(decodeChunk(request.bytes, { detail: request.full }), request.full);
      reply = { id: request.id, ok: chunk };
      transfer = buffersOf(chunk);
    }
  } catch (err) {
    reply = { id: request.id, error: (err as Error).message };
  }
  port.postMessage(reply, transfer);
});

function rowsOf(chunk: ColumnarChunk): ChunkRows {
  const n = chunk.tsMs.length;
  return {
    tsMs: Array.from(chunk.tsMs),
    seq: Array.from(chunk.seq),
    boot: chunk.boot ?? [],
    columns: chunk.columns.map((column) => Array.from(column, (v) => (Number.isNaN(v) ? null : v))),
    detail: chunk.detail ?? new Array<null>(n).fill(null),
  };
}

function columnarOf(rows: ChunkRows, full: boolean): ColumnarChunk {
  return {
    tsMs: Float64Array.from(rows.tsMs),
    seq: Float64Array.from(rows.seq),
    columns: rows.columns.map((column) => Float64Array.from(column, (v) => v ?? NaN)),
    ...(full ? { boot: rows.boot, detail: rows.detail } : {}),
  };
}

/**
 * The rows of a window's chunk with later rows added, in (ts_ms, seq) order; a later row of the
 * same time and seq as one in the chunk is dropped (the samples' key would have dropped it).
 */
function merged(old: ChunkRows, late: ChunkRows): ChunkRows {
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
