// Ack watermarks on PostgreSQL, shared by every hub of a group (tables of pg-schema.ts step 2).
// The same rules as the SQLite hub's AckTracker (addSeq, applySpoolReport), with the marks read
// and written inside the transaction that stores the samples, while it holds their nodes' row
// locks: the hub that stores a sample is the one that acks it, and no two hubs move one mark at once.
import type { PoolClient } from 'pg';
import type { SpoolReport } from '../../../protocol/index.ts';
import { addSeq, applySpoolReport, type AckOut, type Mark } from '../../ingest/ack-tracker.ts';

export interface StoredSeq {
  node: string;
  boot: string;
  bootId: number;
  seq: number;
}

const toRanges = (flat: number[]): [number, number][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
const toArrayLiteral = (ranges: [number, number][]) => `{${ranges.flat().join(',')}}`;

async function loadMarks(client: PoolClient, wanted: Map<number, { node: string; boot: string }>): Promise<Map<number, Mark>> {
  const { rows } = await client.query<{ boot_id: number; next_seq: number; above: string[]; dropped: number }>({
    name: 'rm_load_marks',
    text: 'SELECT boot_id, next_seq, above, dropped FROM ack_watermarks WHERE boot_id = ANY($1::int[])',
    values: [[...wanted.keys()]],
  });
  const found = new Map(rows.map((r) => [r.boot_id, r]));
  const marks = new Map<number, Mark>();
  for (const [bootId, { node, boot }] of wanted) {
    const row = found.get(bootId);
    // bigint[] comes as strings; every seq is below 2^53 (the wire caps uints there).
    marks.set(bootId, { node, boot, next: row?.next_seq ?? 0, dropped: row?.dropped ?? 0, above: toRanges((row?.above ?? []).map(Number)) });
  }
  return marks;
}

async function saveMarks(client: PoolClient, marks: Map<number, Mark>, now: number): Promise<void> {
  const ids = [...marks.keys()].sort((a, b) => a - b);
  await client.query({
    name: 'rm_save_marks',
    text: `INSERT INTO ack_watermarks (boot_id, next_seq, above, dropped, updated_ms)
           SELECT u.id, u.next, u.above::bigint[], u.dropped, $5 FROM unnest($1::int[], $2::bigint[], $3::text[], $4::bigint[]) AS u(id, next, above, dropped)
           ON CONFLICT (boot_id) DO UPDATE SET next_seq = excluded.next_seq, above = excluded.above, dropped = excluded.dropped, updated_ms = excluded.updated_ms`,
    values: [ids, ids.map((id) => marks.get(id)!.next), ids.map((id) => toArrayLiteral(marks.get(id)!.above)), ids.map((id) => marks.get(id)!.dropped), now],
  });
}

/**
 * Adds the batch's seqs to their boots' marks and saves them, in the caller's transaction (which
 * has locked the batch's node rows). Returns the acks to publish once that transaction commits.
 */
export async function advanceWatermarks(client: PoolClient, stored: readonly StoredSeq[], now: number): Promise<AckOut[]> {
  const wanted = new Map<number, { node: string; boot: string }>();
  for (const s of stored) wanted.set(s.bootId, s);
  const marks = await loadMarks(client, wanted);
  for (const s of stored) addSeq(marks.get(s.bootId)!, s.seq);
  await saveMarks(client, marks, now);
  return [...marks.values()].map(({ node, boot, next }) => ({ node, boot, next }));
}

/**
 * An agent's spool report, in the caller's transaction (which has locked the node's row): the
 * seqs it lost before any hub stored them become gaps, and its mark moves past them.
 */
export async function recordSpoolReport(client: PoolClient, ids: { node: string; bootId: number }, report: SpoolReport, now: number): Promise<AckOut> {
  const marks = await loadMarks(client, new Map([[ids.bootId, { node: ids.node, boot: report.spool_boot }]]));
  const mark = marks.get(ids.bootId)!;
  for (const [from, to] of applySpoolReport(mark, report)) {
    await client.query(
      `INSERT INTO sample_gaps (boot_id, from_seq, to_seq, reason, recorded_ms) VALUES ($1, $2, $3, 'spool-dropped', $4)
       ON CONFLICT (boot_id, from_seq) DO UPDATE SET to_seq = GREATEST(sample_gaps.to_seq, excluded.to_seq)`,
      [ids.bootId, from, to, now],
    );
  }
  await saveMarks(client, marks, now);
  return { node: ids.node, boot: mark.boot, next: mark.next };
}
