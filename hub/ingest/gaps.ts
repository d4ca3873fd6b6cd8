// Gaps that will never fill: seqs an agent dropped from its full spool before the hub had them.
// Recorded per node (hub/storage/sqlite/migrations/005_acks.sql) so that lost data is visible, not silent.
import type Database from 'better-sqlite3';

export interface SampleGap {
  node: string;
  boot: string;
  from_seq: number;
  /** Inclusive. */
  to_seq: number;
  reason: 'spool-dropped';
  recorded_ms: number;
}

export class GapLog {
  private readonly insert;
  private readonly list;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO sample_gaps (node, boot, from_seq, to_seq, reason, recorded_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(node, boot, from_seq) DO UPDATE SET to_seq = max(to_seq, excluded.to_seq)`,
    );
    this.list = db.prepare<[string], SampleGap>('SELECT * FROM sample_gaps WHERE node = ? ORDER BY recorded_ms, boot, from_seq');
  }

  record(gap: SampleGap): void {
    this.insert.run(gap.node, gap.boot, gap.from_seq, gap.to_seq, gap.reason, gap.recorded_ms);
  }

  forNode(node: string): SampleGap[] {
    return this.list.all(node);
  }

  /** Samples lost for a node, over every gap. */
  lostCount(node: string): number {
    return this.forNode(node).reduce((n, g) => n + g.to_seq - g.from_seq + 1, 0);
  }
}
