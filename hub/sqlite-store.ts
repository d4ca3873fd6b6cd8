// MetricsStore on SQLite (better-sqlite3): WAL, prepared statements, one transaction per batch.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  decodeInfo,
  decodeSample,
  encodeSampleFields,
  type NodeInfo,
  type NodeStatus,
} from '../protocol/index.ts';
import type { NodeDetailResponse, NodeSummary, SeriesResponse } from '../web/api-types.ts';
import { toPoint } from './sample-point.ts';
import { typicalStep, withGaps } from './series-gaps.ts';
import type { IncomingSample, InsertResult, MetricsStore, SeriesQuery } from './store.ts';

// Resolves from hub/ (sources) and from dist/ (the built CLI) alike: both sit beside hub/.
const MIGRATIONS_DIR = new URL('../hub/migrations/', import.meta.url);

const SAMPLE_COLUMNS = [
  'cpu_pct', 'mem_pct', 'mem_used_bytes', 'swap_pct', 'swap_used_bytes', 'disk_pct', 'disk_read_bps',
  'disk_write_bps', 'net_rx_bps', 'net_tx_bps', 'temp_c', 'load_1', 'load_5', 'load_15', 'procs_total', 'uptime_s',
] as const;

interface NodeRow {
  id: number;
  name: string;
  status: string;
  last_seen_ms: number | null;
  info: Buffer | null;
  latest: Buffer | null;
  latest_processes: Buffer | null;
}

export function openSqliteStore(path: string): SqliteStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return new SqliteStore(db);
}

/** Applies the SQL files of hub/migrations/ that the database has not seen, in name order. */
function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  for (const file of files) {
    const version = Number.parseInt(file, 10);
    if (version <= current) continue;
    const sql = readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}

export class SqliteStore implements MetricsStore {
  private readonly nodeIds = new Map<string, number>();
  private readonly seriesStatements = new Map<string, Database.Statement>();
  private readonly stmt;

  constructor(readonly db: Database.Database) {
    this.stmt = {
      addNode: db.prepare('INSERT INTO nodes (name) VALUES (?) ON CONFLICT(name) DO NOTHING'),
      nodeId: db.prepare<[string], { id: number }>('SELECT id FROM nodes WHERE name = ?'),
      insert: db.prepare(
        `INSERT OR IGNORE INTO samples (node_id, ts_ms, seq, boot, ${SAMPLE_COLUMNS.join(', ')}, detail)
         VALUES (?, ?, ?, ?, ${SAMPLE_COLUMNS.map(() => '?').join(', ')}, ?)`,
      ),
      latest: db.prepare(
        'UPDATE nodes SET last_seen_ms = ?, latest = ? WHERE id = ? AND (last_seen_ms IS NULL OR last_seen_ms <= ?)',
      ),
      latestProcesses: db.prepare('UPDATE nodes SET latest_processes = ? WHERE id = ?'),
      status: db.prepare('UPDATE nodes SET status = ?, status_ms = ? WHERE id = ?'),
      info: db.prepare('UPDATE nodes SET info = ? WHERE id = ?'),
      nodes: db.prepare<[], NodeRow>('SELECT * FROM nodes ORDER BY name'),
      node: db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE name = ?'),
      count: db.prepare<[number, number, number], { n: number }>(
        'SELECT count(*) AS n FROM samples WHERE node_id = ? AND ts_ms BETWEEN ? AND ?',
      ),
    };
  }

  private nodeId(name: string): number {
    let id = this.nodeIds.get(name);
    if (id === undefined) {
      this.stmt.addNode.run(name);
      id = this.stmt.nodeId.get(name)!.id;
      this.nodeIds.set(name, id);
    }
    return id;
  }

  insertBatch(batch: IncomingSample[]): InsertResult {
    return this.db.transaction((): InsertResult => {
      let inserted = 0;
      const newest = new Map<number, IncomingSample>();
      const newestWithProcesses = new Map<number, IncomingSample>();
      for (const item of batch) {
        const { sample } = item;
        const id = this.nodeId(item.node);
        const point = toPoint(sample);
        const detail = encodeSampleFields({
          cpu_core_pct: sample.cpu_core_pct,
          filesystems: sample.filesystems,
          net: sample.net,
          top_cpu: sample.top_cpu,
          top_mem: sample.top_mem,
        });
        const values = SAMPLE_COLUMNS.map((c) => point[c] ?? null);
        inserted += this.stmt.insert.run(id, sample.ts_ms, sample.seq, sample.boot, ...values, detail).changes;
        if ((newest.get(id)?.sample.ts_ms ?? -1) <= sample.ts_ms) newest.set(id, item);
        if (sample.top_cpu && (newestWithProcesses.get(id)?.sample.ts_ms ?? -1) <= sample.ts_ms) newestWithProcesses.set(id, item);
      }
      for (const [id, item] of newest) this.stmt.latest.run(item.sample.ts_ms, item.raw, id, item.sample.ts_ms);
      for (const [id, item] of newestWithProcesses) this.stmt.latestProcesses.run(item.raw, id);
      return { inserted, duplicates: batch.length - inserted };
    })();
  }

  setStatus(node: string, status: NodeStatus, atMs: number): void {
    this.stmt.status.run(status, atMs, this.nodeId(node));
  }

  setInfo(node: string, _info: NodeInfo, raw: Uint8Array): void {
    this.stmt.info.run(raw, this.nodeId(node));
  }

  listNodes(): NodeSummary[] {
    return this.stmt.nodes.all().map(summarize);
  }

  nodeDetail(node: string): NodeDetailResponse | null {
    const row = this.stmt.node.get(node);
    if (!row) return null;
    const processes = row.latest_processes ? decodeSample(row.latest_processes) : null;
    return {
      ...summarize(row),
      sample: row.latest ? decodeSample(row.latest) : null,
      processes: processes
        ? {
            ts_ms: processes.ts_ms,
            procs_total: processes.procs_total ?? null,
            top_cpu: processes.top_cpu ?? [],
            top_mem: processes.top_mem ?? [],
          }
        : null,
    };
  }

  querySeries({ node, metrics, fromMs, toMs, maxPoints }: SeriesQuery): SeriesResponse | null {
    const row = this.stmt.nodeId.get(node);
    if (!row) return null;
    const count = this.stmt.count.get(row.id, fromMs, toMs)!.n;
    const raw = count <= maxPoints;
    // Buckets of whole seconds, so that x values stay readable.
    const stepMs = raw ? 0 : Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000;
    const rows = this.seriesStatement(metrics, raw).raw().all(
      ...(raw ? [row.id, fromMs, toMs] : [stepMs, row.id, fromMs, toMs]),
    ) as (number | null)[][];
    const times = rows.map((r) => r[0] as number);
    const columns = metrics.map((_, m) => rows.map((r) => r[m + 1] ?? null));
    const filled = withGaps(times, columns, raw ? typicalStep(times) : stepMs);
    return {
      node,
      metrics,
      from_ms: fromMs,
      to_ms: toMs,
      step_s: raw ? null : stepMs / 1000,
      data: [filled.times.map((t) => t / 1000), ...filled.columns],
    };
  }

  private seriesStatement(metrics: readonly string[], raw: boolean): Database.Statement {
    const key = `${raw ? 'raw' : 'avg'}:${metrics.join(',')}`;
    let stmt = this.seriesStatements.get(key);
    if (!stmt) {
      // Metric names come from SERIES_METRICS (checked by the caller), never from a request verbatim.
      const sql = raw
        ? `SELECT ts_ms, ${metrics.join(', ')} FROM samples WHERE node_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms`
        : `SELECT ts_ms - (ts_ms % ?) AS t, ${metrics.map((m) => `avg(${m})`).join(', ')}
           FROM samples WHERE node_id = ? AND ts_ms BETWEEN ? AND ? GROUP BY t ORDER BY t`;
      stmt = this.db.prepare(sql);
      this.seriesStatements.set(key, stmt);
    }
    return stmt;
  }

  close(): void {
    this.db.close();
  }
}

function summarize(row: NodeRow): NodeSummary {
  return {
    name: row.name,
    status: row.status === 'online' || row.status === 'offline' ? row.status : 'unknown',
    last_seen_ms: row.last_seen_ms,
    latest: row.latest ? toPoint(decodeSample(row.latest)) : null,
    info: row.info ? decodeInfo(row.info) : null,
  };
}
