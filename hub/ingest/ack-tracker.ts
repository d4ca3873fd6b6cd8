// Per node and boot id: the highest contiguous seq stored (as `next`, the first seq not yet stored),
// and the stored ranges above it. Watermarks move in the same transaction as the samples they cover,
// and acks go out only after that commit: an acked sample is on disk (see `synchronous` in
// sqlite-store.ts for what "on disk" means across a power cut).
import type Database from 'better-sqlite3';
import type { SpoolReport } from '../../protocol/index.ts';
import { GapLog } from './gaps.ts';
import type { SampleKeys } from '../storage/packed-samples.ts';

export interface AckOut {
  node: string;
  boot: string;
  next: number;
}

/** A node's boot: its watermark, and what is stored above it. */
export interface Mark {
  node: string;
  boot: string;
  next: number;
  dropped: number;
  /** Stored seqs above `next`, as sorted, disjoint, non-adjacent inclusive ranges. */
  above: [number, number][];
}

/** Adds `seq` to a mark (mutating it) and moves `next` over whatever became contiguous. */
export function addSeq(mark: { next: number; above: [number, number][] }, seq: number): void {
  if (seq < mark.next) return;
  const ranges = mark.above;
  // Samples mostly come in order: search from the end.
  let i = ranges.length - 1;
  while (i >= 0 && ranges[i]![0] > seq) i--;
  if (i >= 0 && seq <= ranges[i]![1]) return; // already there
  if (i >= 0 && ranges[i]![1] === seq - 1) {
    ranges[i]![1] = seq;
  } else {
    ranges.splice(i + 1, 0, [seq, seq]);
    i++;
  }
  const next = ranges[i + 1];
  if (next && next[0] === ranges[i]![1] + 1) {
    ranges[i]![1] = next[1];
    ranges.splice(i + 1, 1);
  }
  advance(mark);
}

function advance(mark: { next: number; above: [number, number][] }): void {
  while (mark.above.length > 0 && mark.above[0]![0] <= mark.next) {
    mark.next = Math.max(mark.next, mark.above[0]![1] + 1);
    mark.above.shift();
  }
}

/**
 * Applies an agent's spool report to a mark (mutating it): seqs below the spool's first one that
 * were never stored are lost. Returns them as inclusive ranges; `next` moves past them.
 */
export function applySpoolReport(mark: { next: number; dropped: number; above: [number, number][] }, report: SpoolReport): [number, number][] {
  mark.dropped = report.spool_dropped;
  const lost: [number, number][] = [];
  if (report.spool_first_seq > mark.next) {
    let from = mark.next;
    for (const [a, b] of mark.above) {
      if (a >= report.spool_first_seq) break;
      if (a > from) lost.push([from, a - 1]);
      from = b + 1;
    }
    if (from < report.spool_first_seq) lost.push([from, report.spool_first_seq - 1]);
    mark.next = report.spool_first_seq;
    mark.above = mark.above.filter((r) => r[1] >= mark.next);
    advance(mark);
  }
  return lost;
}

const key = (node: string, boot: string) => `${node}\u0000${boot}`;

export class AckTracker {
  private readonly marks = new Map<string, Mark>();
  private readonly load;
  private readonly save;
  readonly gaps: GapLog;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.load = db.prepare<[string, string], { next_seq: number; dropped: number }>('SELECT next_seq, dropped FROM ack_watermarks WHERE node = ? AND boot = ?');
    this.save = db.prepare(
      `INSERT INTO ack_watermarks (node, boot, next_seq, dropped, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(node, boot) DO UPDATE SET next_seq = excluded.next_seq, dropped = excluded.dropped, updated_ms = excluded.updated_ms`,
    );
    this.gaps = new GapLog(db);
  }

  private mark(node: string, boot: string): Mark {
    let mark = this.marks.get(key(node, boot));
    if (!mark) {
      const row = this.load.get(node, boot);
      mark = { node, boot, next: row?.next_seq ?? 0, dropped: row?.dropped ?? 0, above: [] };
      this.marks.set(key(node, boot), mark);
    }
    return mark;
  }

  /** The watermark of a node's boot, for tests and tools. */
  next(node: string, boot: string): number {
    return this.mark(node, boot).next;
  }

  /**
   * Runs `write` (the samples' insert) and saves the watermarks the batch moves, in one transaction.
   * A sample ignored as a duplicate counts as stored: it is already in the database. Returns the
   * acks to publish once this returns (that is, after the commit).
   */
  commit<T>(samples: SampleKeys, write: () => T): { result: T; acks: AckOut[] } {
    const planned = new Map<string, Mark>();
    for (let row = 0; row < samples.length; row++) {
      const node = samples.node(row);
      const boot = samples.boot(row);
      const k = key(node, boot);
      let mark = planned.get(k);
      if (!mark) {
        const current = this.mark(node, boot);
        mark = { ...current, above: current.above.map((r) => [r[0], r[1]] as [number, number]) };
        planned.set(k, mark);
      }
      addSeq(mark, samples.seq(row));
    }
    const at = this.now();
    const result = this.db
      .transaction(() => {
        const value = write();
        for (const m of planned.values()) this.save.run(m.node, m.boot, m.next, m.dropped, at);
        return value;
      })
      .immediate();
    // Committed: only now does memory (and so any ack) move.
    for (const [k, m] of planned) this.marks.set(k, m);
    return { result, acks: [...planned.values()].map(({ node, boot, next }) => ({ node, boot, next })) };
  }

  /**
   * An agent says what its spool still holds: seqs below its first one that the hub lacks are lost.
   * Records them as gaps and moves the watermark past them; returns the ack to publish.
   */
  spoolReport(node: string, report: SpoolReport): AckOut {
    const current = this.mark(node, report.spool_boot);
    const mark: Mark = { ...current, above: current.above.map((r) => [r[0], r[1]] as [number, number]) };
    const lost = applySpoolReport(mark, report);
    const at = this.now();
    this.db
      .transaction(() => {
        for (const [a, b] of lost) this.gaps.record({ node, boot: mark.boot, from_seq: a, to_seq: b, reason: 'spool-dropped', recorded_ms: at });
        this.save.run(mark.node, mark.boot, mark.next, mark.dropped, at);
      })
      .immediate();
    this.marks.set(key(node, report.spool_boot), mark);
    return { node, boot: mark.boot, next: mark.next };
  }
}

/** The watermarks as another connection sees them (the writer's thread moves them): read from the database each time. */
export class AckReader {
  private readonly load;
  readonly gaps: GapLog;

  constructor(db: Database.Database) {
    this.load = db.prepare<[string, string], { next_seq: number }>('SELECT next_seq FROM ack_watermarks WHERE node = ? AND boot = ?');
    this.gaps = new GapLog(db);
  }

  /** The watermark of a node's boot, for tests and tools. */
  next(node: string, boot: string): number {
    return this.load.get(node, boot)?.next_seq ?? 0;
  }
}
