// The PostgreSQL store's chunk codec thread: encodes and decodes chunks with hub/storage/chunk-codec.ts
// as it is, off the hub's main thread. Built to dist/pg-chunk-thread.mjs; hub/storage/postgres/pg-chunk-worker.ts
// starts it and speaks to it.
import { parentPort } from 'node:worker_threads';
import { decodeChunk, encodeChunk, type ChunkRows } from '../chunk-codec.ts';
import { mergeChunks } from '../chunk-merge.ts';
import { buffersOf, type ChunkReply, type ChunkRequest, type ColumnarChunk } from './pg-chunk-worker.ts';

const port = parentPort!;

port.on('message', (request: ChunkRequest) => {
  let reply: ChunkReply;
  let transfer: ArrayBuffer[] = [];
  try {
    if (request.type === 'encode') {
      let rows = rowsOf(request.chunk);
      if (request.mergeInto) rows = mergeChunks(decodeChunk(request.mergeInto), rows);
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
