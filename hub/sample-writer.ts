// Where ingest's batches go: one transaction per batch holding the samples, the status and birth
// records that arrived with them, and the ack watermarks they move. Acks go out only after it.
// SQLite answers in the same turn of the event loop; PostgreSQL over the network (a Promise).
import type { NodeStatus, SpoolReport } from '../protocol/index.ts';
import type { AckOut, AckTracker } from './ack-tracker.ts';
import type { AnyMetricsStore } from './async-store.ts';
import type { IncomingSample, MetricsStore } from './store.ts';

export type NodeWrite =
  | { node: string; kind: 'status'; status: NodeStatus; atMs: number }
  | { node: string; kind: 'info'; raw: Uint8Array };

export interface StoredBatch {
  inserted: number;
  duplicates: number;
  /** Watermarks the commit moved, to publish now (empty when acks are off). */
  acks: AckOut[];
}

export interface SampleWriter {
  write(batch: IncomingSample[], nodeWrites: NodeWrite[]): StoredBatch | Promise<StoredBatch>;
  /** Records what an agent's spool lost; null when this writer keeps no acks. */
  spoolReport(node: string, report: SpoolReport): AckOut | null | Promise<AckOut | null>;
}

/** Applies a status or birth record to either kind of store (a Promise from an async one). */
export function applyNodeWrite(store: Pick<AnyMetricsStore, 'setStatus' | 'setInfo'>, w: NodeWrite): void | Promise<void> {
  return w.kind === 'status' ? store.setStatus(w.node, w.status, w.atMs) : store.setInfo(w.node, w.raw);
}

/** The SQLite store, with acks kept by an AckTracker on the same connection. */
export class SqliteSampleWriter implements SampleWriter {
  constructor(
    private readonly store: MetricsStore,
    private readonly acks: AckTracker | null,
  ) {}

  write(batch: IncomingSample[], nodeWrites: NodeWrite[]): StoredBatch {
    // A status or birth record alone was one commit, so one fsync, each: a fleet coming online
    // stalled ingest for seconds. They ride in the samples' transaction now (in arrival order).
    const write = () => {
      for (const w of nodeWrites) applyNodeWrite(this.store, w);
      return this.store.insertBatch(batch);
    };
    const { result, acks } = this.acks ? this.acks.commit(batch, write) : { result: write(), acks: [] };
    return { ...result, acks };
  }

  spoolReport(node: string, report: SpoolReport): AckOut | null {
    return this.acks?.spoolReport(node, report) ?? null;
  }
}
