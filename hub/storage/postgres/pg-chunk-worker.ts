// The chunk codec (hub/storage/chunk-codec.ts) on a thread of its own, for the PostgreSQL store: an
// hour of a node encodes in tens of ms (Brotli most of it) and a chart over a day decodes a chunk an
// hour, work the hub's main thread (its broker, its API, ingest) must not wait on. Chunks cross as
// typed arrays, moved, not copied: a missing value is NaN there, as the codec reads NaN as absent.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

// Built by scripts/build.mjs into dist/: found from these sources (tests) and from the CLI's bundle in dist/.
const THREAD_FILES = [new URL('../../../dist/pg-chunk-thread.mjs', import.meta.url), new URL('./pg-chunk-thread.mjs', import.meta.url)];

/** A chunk's rows column by column; each column one value a row, NaN where the sample has none. */
export interface ColumnarChunk {
  tsMs: Float64Array;
  seq: Float64Array;
  /** In the registry's order (hub/storage/packed-samples.ts, SAMPLE_COLUMNS). */
  columns: Float64Array[];
  /** Present when asked for (encoding needs them; reading a chart does not). */
  boot?: string[];
  detail?: (Uint8Array | null)[];
}

export type ChunkRequest =
  | { id: number; type: 'encode'; chunk: ColumnarChunk; mergeInto: Uint8Array | null }
  | { id: number; type: 'decode'; bytes: Uint8Array; full: boolean };

export type ChunkReply = { id: number; ok: { bytes: Uint8Array; rows: number } | ColumnarChunk } | { id: number; error: string };

/** The typed arrays' buffers, to be moved with a message. */
export function buffersOf(chunk: ColumnarChunk): ArrayBuffer[] {
  return [chunk.tsMs, chunk.seq, ...chunk.columns].map((a) => a.buffer as ArrayBuffer);
}

type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;

export class ChunkWorker {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: never) => void; reject: (err: Error) => void }>();

  /**
   * `chunk` encoded, merged first with the rows of the chunk `mergeInto` when given (a row of the
   * same time and seq as one there is dropped). Its arrays are moved to the thread: unusable after.
   */
  encode(chunk: ColumnarChunk, mergeInto: Uint8Array | null = null): Promise<{ bytes: Uint8Array; rows: number }> {
    return this.call({ type: 'encode', chunk, mergeInto }, buffersOf(chunk));
  }

  /** A chunk's rows; `full` adds each row's boot and detail blob. */
  decode(bytes: Uint8Array, full = false): Promise<ColumnarChunk> {
    return this.call({ type: 'decode', bytes, full });
  }

  private call<T>(request: WithoutId<ChunkRequest>, transfer: ArrayBuffer[] = []): Promise<T> {
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: never) => void, reject });
      worker.ref();
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Started on the first call, and again after a crash (the calls under way failed). */
  private start(): Worker {
    const built = THREAD_FILES.find((file) => existsSync(file));
    if (!built) throw new Error(`the chunk codec's thread is not built: ${THREAD_FILES[0]?.pathname} is missing (run \`npm run build\`)`);
    const worker = new Worker(built);
    worker.on('message', (reply: ChunkReply) => {
      const call = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      // Idle, it holds no process open: a hub's pool does that, and a script may end.
      if (this.waiting.size === 0) worker.unref();
      if ('error' in reply) call?.reject(new Error(reply.error));
      else call?.resolve(reply.ok as never);
    });
    worker.on('error', (err) => this.failAll(worker, new Error(`the chunk codec's thread failed: ${err.message}`)));
    worker.on('exit', (code) => this.failAll(worker, new Error(`the chunk codec's thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = null;
    for (const call of this.waiting.values()) call.reject(err);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
