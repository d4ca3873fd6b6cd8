// Ingest's SQLite writes on a thread of their own (hub/storage/sqlite/sqlite-writer-thread.ts). The insert and
// its fsync took a third of the main thread under load, and in `remonitor up` that thread is also
// the broker's: while it waited on the disk, nobody was routed anything. Each batch crosses as a
// few flat arrays (hub/storage/packed-samples.ts); the reply carries the acks to publish after the commit.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SpoolReport } from '../../../protocol/index.ts';
import type { AckOut } from '../../ingest/ack-tracker.ts';
import type { PackedArrays, PackedSamples } from '../packed-samples.ts';
import type { Retention } from '../rollups.ts';
import type { NodeWrite, SampleWriter, StoredBatch } from '../sample-writer.ts';
import type { RemovedNode, RemoveNodeOptions } from '../store.ts';

// Built by scripts/build.mjs into dist/: found from these sources (tests) and from the CLI's bundle in dist/.
const THREAD_FILES = [new URL('../../../dist/hub-writer-thread.mjs', import.meta.url), new URL('./hub-writer-thread.mjs', import.meta.url)];

export interface WriterThreadData {
  /** The SQLite file; already migrated by the hub's own connection. */
  path: string;
  retention?: Retention;
  /**
   * The time the thread's store takes for now, in place of the clock: a replay of a simulated
   * history (bench/storage.ts) compacts and purges as of its end. Absent: the real clock.
   */
  fixedNowMs?: number;
}

/** The integrity check's thread (the same file, hub/storage/sqlite/sqlite-writer-thread.ts). */
export interface CheckThreadData {
  path: string;
  check: true;
}

/** What `PRAGMA quick_check` found (nothing when the file is sound), and how long it took. */
export interface IntegrityReport {
  problems: string[];
  ms: number;
}

export type WriterRequest =
  | { id: number; type: 'write'; samples: PackedArrays; nodeWrites: NodeWrite[] }
  | { id: number; type: 'spoolReport'; node: string; report: SpoolReport }
  | { id: number; type: 'deriveRollups' | 'purgeExpired' }
  | { id: number; type: 'removeNode'; node: string; options: RemoveNodeOptions }
  | { id: number; type: 'close' };

export type WriterResult = StoredBatch | AckOut | RemovedNode | number | null;
export type WriterReply = { id: number; ok: WriterResult } | { id: number; error: string };

type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;
type Request = WithoutId<WriterRequest>;

export class ThreadedSqliteWriter implements SampleWriter {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: never) => void; reject: (err: Error) => void }>();

  constructor(private readonly data: WriterThreadData) {}

  /** The arrays are copied to the thread (a few memcpy), not moved: a failed write is retried from them. */
  write(samples: PackedSamples, nodeWrites: readonly NodeWrite[]): Promise<StoredBatch> {
    // A birth record's bytes may be a view of a whole socket read: posted as is, all of it would be copied.
    const writes = nodeWrites.map((w) => (w.kind === 'info' ? { ...w, raw: new Uint8Array(w.raw) } : w));
    return this.call({ type: 'write', samples: samples.arrays, nodeWrites: writes });
  }

  spoolReport(node: string, report: SpoolReport): Promise<AckOut> {
    return this.call({ type: 'spoolReport', node, report });
  }

  /** The store's upkeep (hub/storage/maintenance.ts), on this thread's connection: see sqlite-store.ts. */
  deriveRollups(): Promise<number> {
    return this.call({ type: 'deriveRollups' });
  }

  purgeExpired(): Promise<number> {
    return this.call({ type: 'purgeExpired' });
  }

  /**
   * Removes a node (hub/storage/store.ts, removeNode) on this thread's connection, between batches: a batch
   * written while a purge pauses drops the node's samples. Null for a node never seen.
   */
  removeNode(node: string, options: RemoveNodeOptions): Promise<RemovedNode | null> {
    return this.call({ type: 'removeNode', node, options });
  }

  /** Closes the thread's connection (after the writes already asked for) and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call({ type: 'close' }).catch(() => undefined);
    this.worker = null;
    await worker.terminate();
  }

  private call<T>(request: Request): Promise<T> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: never) => void, reject });
      worker.postMessage({ ...request, id });
    });
  }

  /** Started on the first write, and again after a crash (its writes failed, and ingest retries them). */
  private start(): Worker {
    const worker = new Worker(builtThreadFile(), { workerData: this.data });
    worker.on('message', (reply: WriterReply) => {
      const call = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) call?.reject(new Error(reply.error));
      else call?.resolve(reply.ok as never);
    });
    worker.on('error', (err) => this.failAll(worker, new Error(`the hub's writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => this.failAll(worker, new Error(`the hub's writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = null;
    for (const call of this.waiting.values()) call.reject(err);
    this.waiting.clear();
  }
}

function builtThreadFile(): URL {
  const built = THREAD_FILES.find((file) => existsSync(file));
  if (!built) throw new Error(`the hub's writer thread is not built: ${THREAD_FILES[0]?.pathname} is missing (run \`npm run build\`)`);
  return built;
}

/**
 * `PRAGMA quick_check` of the SQLite file at `path` on a thread of its own, beside the writes.
 * `stop` abandons it: the thread ends once SQLite returns, and holds the process open meanwhile no more.
 */
export function checkIntegrity(path: string): { report: Promise<IntegrityReport>; stop(): void } {
  const worker = new Worker(builtThreadFile(), { workerData: { path, check: true } satisfies CheckThreadData });
  const report = new Promise<IntegrityReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the integrity check of ${path} ended early (code ${code})`)));
  });
  return {
    report,
    stop() {
      worker.unref();
      void worker.terminate();
    },
  };
}
