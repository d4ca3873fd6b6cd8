// The samples table is found through its index led by each sample's minute (hub/storage/sqlite/migrations/008):
// a node's rows over a range are one index seek per minute of it, named in a JSON list that SQL
// reads with json_each. SQLite's `ts_ms / 60000` truncates, as Math.trunc does.
export const MINUTE_MS = 60_000;

/** One node's samples in the listed minutes: binds (minutes as a JSON array, node id). */
export const NODE_MINUTES_SQL = 'ts_ms / 60000 IN (SELECT value FROM json_each(?)) AND node_id = ?';

/** One node's samples with ts_ms in a range: binds (minuteList(from, to), node id, from, to). */
export const NODE_RANGE_SQL = `${NODE_MINUTES_SQL} AND ts_ms BETWEEN ? AND ?`;

/** The minutes that hold [fromMs, toMs], as a JSON array. Callers bound the range (a chart's raw tier, a stored span). */
export function minuteList(fromMs: number, toMs: number): string {
  const minutes: number[] = [];
  for (let m = Math.trunc(fromMs / MINUTE_MS), last = Math.trunc(toMs / MINUTE_MS); m <= last; m++) minutes.push(m);
  return JSON.stringify(minutes);
}
