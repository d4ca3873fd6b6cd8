// Raw samples for export, read a page at a time: a long export never holds the connection
// busy between pages, so ingest keeps writing while a client downloads months of data. A page is
// gathered an hour of minutes at a time (one index seek a minute, hub/sample-minutes.ts), within
// the span the table holds: a range from 1970 is not millions of empty minutes.
import type Database from 'better-sqlite3';
import { SERIES_METRICS } from '../web/api-types.ts';
import { minuteList, MINUTE_MS, NODE_RANGE_SQL } from './sample-minutes.ts';
import type { SamplePage, SamplePageQuery } from './store.ts';

const WINDOW_MS = 60 * MINUTE_MS;

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function cachedStatement(db: Database.Database, key: string, sql: () => string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(key);
  if (!stmt) cache.set(key, (stmt = db.prepare(sql())));
  return stmt;
}

export function readSamplePage(db: Database.Database, { node, metrics, fromMs, toMs, after, limit }: SamplePageQuery): SamplePage | null {
  const row = cachedStatement(db, 'node', () => 'SELECT id FROM nodes WHERE name = ?').get(node) as { id: number } | undefined;
  if (!row) return null;
  // Column names come from SERIES_METRICS only (the route checks them); never from a request verbatim.
  for (const m of metrics) if (!(SERIES_METRICS as readonly string[]).includes(m)) throw new TypeError(`unknown metric "${m}"`);
  const span = cachedStatement(
    db,
    'span',
    () => 'SELECT (SELECT min(ts_ms / 60000) FROM samples) AS first, (SELECT max(ts_ms / 60000) FROM samples) AS last',
  ).get() as { first: number | null; last: number | null };
  if (span.first === null || span.last === null) return { rows: [] };
  // (ts_ms, seq) is the export's order: a row-value comparison resumes exactly after the last row.
  const cols = metrics.length > 0 ? `, ${metrics.join(', ')}` : '';
  const stmt = cachedStatement(
    db,
    `page:${metrics.join(',')}`,
    () => `SELECT ts_ms, seq${cols} FROM samples WHERE ${NODE_RANGE_SQL} AND (ts_ms, seq) > (?, ?) ORDER BY ts_ms, seq LIMIT ?`,
  ).raw();
  const [afterTs, afterSeq] = after ? [after.ts_ms, after.seq] : [fromMs - 1, Number.MAX_SAFE_INTEGER];
  const start = Math.max(after ? after.ts_ms : fromMs, span.first * MINUTE_MS);
  const end = Math.min(toMs, span.last * MINUTE_MS + MINUTE_MS - 1);
  const rows: (number | null)[][] = [];
  for (let windowStart = start; windowStart <= end && rows.length < limit; windowStart += WINDOW_MS) {
    const windowEnd = Math.min(end, windowStart + WINDOW_MS - 1);
    rows.push(...(stmt.all(minuteList(windowStart, windowEnd), row.id, windowStart, windowEnd, afterTs, afterSeq, limit - rows.length) as (number | null)[][]));
  }
  return { rows: rows.map((r) => ({ ts_ms: r[0] as number, seq: r[1] as number, values: r.slice(2) })) };
}
