// Where ingest's batches go: one transaction per batch holding the samples, the status and birth
// records that arrived with them, and the ack watermarks they move. Acks go out only after it.
// SQLite on the writer's thread (hub/storage/sqlite/threaded-sample-writer.ts), PostgreSQL over the network: both answer with a Promise.
import type { NodeStatus, SpoolReport } from '../../protocol/index.ts';
import type { AckOut } from '../ingest/ack-tracker.ts';
import type { AnyMetricsStore } from './async-store.ts';
import type { PackedSamples } from './packed-samples.ts';

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
