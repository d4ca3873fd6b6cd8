// Raw samples for export, read a page at a time: a long export never holds the connection
// busy between pages, so ingest keeps writing while a client downloads months of data.
import type Database from 'better-sqlite3';
import { SERIES_METRICS } from '../web/api-types.ts';
import type { SamplePage, SamplePageQuery } from './store.ts';

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function readSamplePage(db: Database.Database, { node, metrics, fromMs, toMs, after, limit }: SamplePageQuery): SamplePage | null {
  const row = db.prepare<[string], { id: number }>('SELECT id FROM nodes WHERE name = ?').get(node);
  if (!row) return null;
  // Column names come from SERIES_METRICS only (the route checks them); never from a request verbatim.
  for (const m of metrics) if (!(SERIES_METRICS as readonly string[]).includes(m)) throw new TypeError(`unknown metric "${m}"`);
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  const key = `${after ? 'after' : 'first'}:${metrics.join(',')}`;
  let stmt = cache.get(key);
  if (!stmt) {
    // (ts_ms, seq) is the primary key order: a row-value comparison resumes exactly after the last row.
    const where = after ? 'node_id = ? AND (ts_ms, seq) > (?, ?) AND ts_ms <= ?' : 'node_id = ? AND ts_ms >= ? AND ts_ms <= ?';
    const cols = metrics.length > 0 ? `, ${metrics.join(', ')}` : '';
    stmt = db.prepare(`SELECT ts_ms, seq${cols} FROM samples WHERE ${where} ORDER BY ts_ms, seq LIMIT ?`).raw();
    cache.set(key, stmt);
  }
  const params = after ? [row.id, after.ts_ms, after.seq, toMs, limit] : [row.id, fromMs, toMs, limit];
  const rows = stmt.all(...params) as (number | null)[][];
  return { rows: rows.map((r) => ({ ts_ms: r[0] as number, seq: r[1] as number, values: r.slice(2) })) };
}
