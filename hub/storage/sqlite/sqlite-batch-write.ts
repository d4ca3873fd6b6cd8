// One SQLite transaction of ingest's batch (the writer's thread runs it: hub/storage/sqlite/sqlite-writer-thread.ts).
import type { AckTracker } from '../../ingest/ack-tracker.ts';
import type { PackedSamples } from '../packed-samples.ts';
import { applyNodeWrite, type NodeWrite, type StoredBatch } from '../sample-writer.ts';
import type { SessionStore } from '../../sessions/sessions.ts';
import type { SqliteStore } from './sqlite-store.ts';

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
