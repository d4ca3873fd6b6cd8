// Raw samples for export, read a page at a time: a long export never holds the connection
// busy between pages, so ingest keeps writing while a client downloads months of data. A page is
// gathered an hour of minutes at a time (one index seek a minute, hub/storage/sqlite/sample-minutes.ts), and the
// minutes no node stored anything in are skipped with one seek: the work follows the data, never
// the calendar, so a range from 1970 to the year 3000 around a node whose clock was once wrong
// costs what its samples cost. Each page searches a bounded number of windows, then hands back
// where to go on, so that one page never holds the event loop for long. Hours already compacted
// (hub/storage/sqlite/chunk-store.ts) are read from the node's chunks beside the rows, and a page merges the two
// in the export's order: a chunk is decoded once for the pages it spans (the store caches a few).
import type Database from 'better-sqlite3';
import { SERIES_METRICS } from '../../../shared/api-types.ts';
import { minuteList, MINUTE_MS, NODE_RANGE_SQL } from './sample-minutes.ts';
import { byTimeAndSeq, type ChunkStore } from './chunk-store.ts';
import { SAMPLE_COLUMNS } from '../packed-samples.ts';
import type { SamplePage, SamplePageQuery } from '../store.ts';

const WINDOW_MS = 60 * MINUTE_MS;
// Windows a page searches at most: each is up to 60 minute seeks (about 0.2 ms), so a page is
// bounded to a few milliseconds even where every minute holds other nodes' samples.
const WINDOWS_PER_PAGE = 48;

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function cachedStatement(db: Database.Database, key: string, sql: () => string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(key);
  if (!stmt) cache.set(key, (stmt = db.prepare(sql())));
  return stmt;
}

export function readSamplePage(db: Database.Database, chunks: ChunkStore, { node, metrics, fromMs, toMs, after, limit }: SamplePageQuery): SamplePage | null {
  const row = cachedStatement(db, 'node', () => 'SELECT id FROM nodes WHERE name = ?').get(node) as { id: number } | undefined;
  if (!row) return null;
  // Column names come from SERIES_METRICS only (the route checks them); never from a request verbatim.
  for (const m of metrics) if (!(SERIES_METRICS as readonly string[]).includes(m)) throw new TypeError(`unknown metric "${m}"`);
  // The first minute from the given one on that holds samples of any node: one seek in the minute-led index.
  const nextStoredMinute = cachedStatement(db, 'next-minute', () => 'SELECT min(ts_ms / 60000) AS m FROM samples WHERE ts_ms / 60000 >= ?');
  // (ts_ms, seq) is the export's order: a row-value comparison resumes exactly after the last row.
  const cols = metrics.length > 0 ? `, ${metrics.join(', ')}` : '';
  const page = cachedStatement(
    db,
    `page:${metrics.join(',')}`,
    () => `SELECT ts_ms, seq${cols} FROM samples WHERE ${NODE_RANGE_SQL} AND (ts_ms, seq) > (?, ?) ORDER BY ts_ms, seq LIMIT ?`,
  ).raw();
  const [afterTs, afterSeq] = after ? [after.ts_ms, after.seq] : [fromMs - 1, Number.MAX_SAFE_INTEGER];
  const columns = metrics.map((m) => SAMPLE_COLUMNS.indexOf(m));
  const rows: (number | null)[][] = [];
  let windowStart = Math.max(fromMs, afterTs);
  for (let windows = 0; windows < WINDOWS_PER_PAGE; windows++) {
    // The next stored minute: of the rows (any node's), or of this node's chunks.
    const stored = (nextStoredMinute.get(Math.trunc(windowStart / MINUTE_MS)) as { m: number | null }).m;
    const chunked = chunks.nextWindow(row.id, windowStart);
    if (stored === null && chunked === null) return pageOf(rows, null);
    windowStart = Math.max(windowStart, Math.min(stored === null ? Infinity : stored * MINUTE_MS, chunked ?? Infinity));
    if (windowStart > toMs) return pageOf(rows, null);
    const windowEnd = Math.min(toMs, windowStart + WINDOW_MS - 1);
    const wanted = limit - rows.length;
    const recent = page.all(minuteList(windowStart, windowEnd), row.id, windowStart, windowEnd, afterTs, afterSeq, wanted) as (number | null)[][];
    const old = chunked !== null && chunked <= windowEnd ? chunks.rows(row.id, windowStart, windowEnd, columns, { ts_ms: afterTs, seq: afterSeq }) : [];
    rows.push(...(old.length === 0 ? recent : [...old, ...recent].sort(byTimeAndSeq).slice(0, wanted)));
    if (rows.length >= limit) {
      const last = rows.at(-1)!;
      return pageOf(rows, { ts_ms: last[0] as number, seq: last[1] as number });
    }
    if (windowEnd >= toMs) return pageOf(rows, null);
    windowStart = windowEnd + 1;
  }
  // Out of windows for this page: the next one resumes after everything searched so far.
  return pageOf(rows, { ts_ms: windowStart - 1, seq: Number.MAX_SAFE_INTEGER });
}

function pageOf(rows: (number | null)[][], next: SamplePage['next']): SamplePage {
  return { rows: rows.map((r) => ({ ts_ms: r[0] as number, seq: r[1] as number, values: r.slice(2) })), next };
}
