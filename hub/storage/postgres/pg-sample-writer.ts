// Ingest's batches into PostgreSQL, acks included (hub/storage/postgres/pg-watermarks.ts): the writer of a hub
// that shares the fleet with other hubs through one database.
import type { SpoolReport } from '../../../protocol/index.ts';
import type { AckOut } from '../../ingest/ack-tracker.ts';
import type { PgStore } from './pg-store.ts';
import { advanceWatermarks, recordSpoolReport } from './pg-watermarks.ts';
import { applyNodeWrite, type NodeWrite, type SampleWriter, type StoredBatch } from '../sample-writer.ts';
import type { PackedSamples } from '../packed-samples.ts';

export class PgSampleWriter implements SampleWriter {
  constructor(
    private readonly store: PgStore,
    private readonly now: () => number = Date.now,
  ) {}

  async write(samples: PackedSamples, nodeWrites: readonly NodeWrite[]): Promise<StoredBatch> {
    // Status and birth records are single-row updates, idempotent: outside the samples' transaction.
    for (const w of nodeWrites) await applyNodeWrite(this.store, w);
    let acks: AckOut[] = [];
    const result = await this.store.insertPacked(samples, async (client, bootIds) => {
      const stored = bootIds.map((bootId, i) => ({ node: samples.node(i), boot: samples.boot(i), bootId, seq: samples.seq(i) }));
      acks = await advanceWatermarks(client, stored, this.now());
    });
    return { ...result, acks };
  }

  spoolReport(node: string, report: SpoolReport): Promise<AckOut> {
    return this.store.withNodeLocked(node, report.spool_boot, (client, { bootId }) => recordSpoolReport(client, { node, bootId }, report, this.now()));
  }
}
