// Which samples of a boot a store holds, by their identity: (node, boot, seq), never the time
// (PROTOCOL.md, "Duplicates and gaps"). A second copy of a sample is a duplicate whatever its ts_ms:
// the hub may store a sample at a corrected time (hub/ingest/sample-time.ts), so two copies of one sample
// can differ in time, and a node that steps its clock may send one again with another.
//
// Per boot, the stored seqs as a watermark and ranges above it: a boot's samples come mostly in
// order, so this stays a row of a few numbers however many samples the boot has, and it outlives
// the samples themselves (a copy of a purged sample is still a duplicate). Keeping it costs a small
// row per boot and batch. A unique index on (node, boot, seq) would touch a B-tree leaf per node and
// batch, and 9 % more disk: the writer's CPU a sample, 10,000 nodes one sample each a batch, was
// 21.9 µs without either, 26.7 with the index, 24.6 with this; 1,000 nodes five samples each a batch:
// 12.4, 17.1, 13.0 (medians of three runs).
import { addSeq } from '../ingest/ack-tracker.ts';

export interface StoredSeqs {
  /** Every seq below this is stored (or was, before retention purged it). */
  next: number;
  /** Stored seqs above `next`: sorted, disjoint, non-adjacent inclusive ranges. */
  above: [number, number][];
}

/** Whether `seq` is stored already. */
export function holdsSeq(seqs: StoredSeqs, seq: number): boolean {
  if (seq < seqs.next) return true;
  // Samples mostly come in order: search from the end.
  for (let i = seqs.above.length - 1; i >= 0; i--) {
    const [from, to] = seqs.above[i]!;
    if (seq > to) return false;
    if (seq >= from) return true;
  }
  return false;
}

/** Records `seq` as stored (mutating `seqs`). */
export function addStoredSeq(seqs: StoredSeqs, seq: number): void {
  addSeq(seqs, seq);
}

/**
 * Stored seqs from ranges in any order, overlapping or adjacent (as a migration computes them from
 * the rows), in the form above: sorted, merged, and the watermark moved over the ranges it reaches.
 */
export function storedSeqsOf(next: number, ranges: readonly (readonly [number, number])[]): StoredSeqs {
  const seqs: StoredSeqs = { next, above: [] };
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (to < seqs.next) continue;
    const last = seqs.above[seqs.above.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else seqs.above.push([Math.max(from, seqs.next), to]);
  }
  while (seqs.above.length > 0 && seqs.above[0]![0] <= seqs.next) seqs.next = Math.max(seqs.next, seqs.above.shift()![1] + 1);
  return seqs;
}
