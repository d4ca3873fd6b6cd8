// Where ingest's batches go: one transaction per batch holding the samples, the status and birth
// records that arrived with them, and the ack watermarks they move. Acks go out only after it.
// SQLite on the writer's thread (hub/storage/sqlite/threaded-sample-writer.ts), PostgreSQL over the network: both answer with a Promise.
import type { NodeStatus, SpoolReport } from '../../../protocol/index.ts';
import type { AckOut, AckTracker } from '../../ingest/ack-tracker.ts';
import type { AnyMetricsStore } from '../async-store.ts';
import type { PackedSamples } from '../packed-samples.ts';
import type { SessionStore } from '../../sessions/sessions.ts';
import type { SqliteStore } from './sqlite-store.ts';

export type NodeWrite = { node: string; kind: 'status'; status: NodeStatus; atMs: number } | { node: string; kind: 'info'; raw: Uint8Array };

export interface StoredBatch {
  inserted: number;
  duplicates: number;
  /** Watermarks the commit moved, to publish now (empty when acks are off). */
  acks: AckOut[];
}

export interface SampleWriter {
  write(samples: PackedSamples, nodeWrites: readonly NodeWrite[]): Promise<StoredBatch>;
  /** Records what an agent's spool lost; null when this writer keeps no acks. */
  spoolReport(node: string, report: SpoolReport): Promise<AckOut | null>;
}

/** Applies a status or birth record to either kind of store (a Promise from an async one). */
export function applyNodeWrite(store: Pick<AnyMetricsStore, 'setStatus' | 'setInfo'>, w: NodeWrite): void | Promise<void> {
  return w.kind === 'status' ? store.setStatus(w.node, w.status, w.atMs) : store.setInfo(w.node, w.raw);
}

/** What one SQLite transaction of ingest writes to: the samples, their processes' history, the ack watermarks. */
export interface SqliteTargets {
  store: SqliteStore;
  processes: SessionStore;
  acks: AckTracker;
}

/**
 * One SQLite transaction: the status and birth records, the samples, their processes, and the
 * watermarks they move. A status or birth record alone was one commit, so one fsync, each: a fleet
 * coming online stalled ingest for seconds. They ride in the samples' transaction (in arrival order).
 */
export function writePacked({ store, processes, acks }: SqliteTargets, samples: PackedSamples, nodeWrites: readonly NodeWrite[]): StoredBatch {
  try {
    const { result, acks: out } = acks.commit(samples, () => {
      for (const w of nodeWrites) applyNodeWrite(store, w);
      processes.insertProcesses(samples);
      return store.insertPacked(samples);
    });
    return { ...result, acks: out };
  } catch (err) {
    store.rolledBack();
    throw err;
  }
}
