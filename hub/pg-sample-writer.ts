// Ingest's batches into PostgreSQL, acks included (hub/pg-watermarks.ts): the writer of a hub
// that shares the fleet with other hubs through one database.
import type { SpoolReport } from '../protocol/index.ts';
import type { AckOut } from './ack-tracker.ts';
import type { PgStore } from './pg-store.ts';
import { advanceWatermarks, recordSpoolReport } from './pg-watermarks.ts';
import { applyNodeWrite, type NodeWrite, type SampleWriter, type StoredBatch } from './sample-writer.ts';
import type { IncomingSample } from './store.ts';

export class PgSampleWriter implements SampleWriter {
  constructor(
    private readonly store: PgStore,
    private readonly now: () => number = Date.now,
  ) {}

  async write(batch: IncomingSample[], nodeWrites: NodeWrite[]): Promise<StoredBatch> {
    // Status and birth records are single-row updates, idempotent: outside the samples' transaction.
    for (const w of nodeWrites) await applyNodeWrite(this.store, w);
    let acks: AckOut[] = [];
    const result = await this.store.insertBatch(batch, async (client, bootIds) => {
      const stored = batch.map(({ node, sample }, i) => ({ node, boot: sample.boot, bootId: bootIds[i]!, seq: sample.seq }));
      acks = await advanceWatermarks(client, stored, this.now());
    });
    return { ...result, acks };
  }

  spoolReport(node: string, report: SpoolReport): Promise<AckOut> {
    return this.store.withNodeLocked(node, report.spool_boot, (client, { bootId }) => recordSpoolReport(client, { node, bootId }, report, this.now()));
  }
}
