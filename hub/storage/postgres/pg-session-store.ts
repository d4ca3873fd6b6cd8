// Session state (hub/storage/session-state.ts) in PostgreSQL: process-watch sessions, their
// samples and the per-process history, shared by the hubs of a group (tables of schema step 10,
// pg-state-schema.ts), so that the next coordinator lists and goes on with the sessions of the last.
// The same rules as the SQLite store (hub/sessions/sessions.ts); verdicts are computed when asked for.
import type { Pool } from 'pg';
import { procsTotals, type ProcsSample } from '../../../protocol/procs.ts';
import type { ProcessUsage } from '../../../protocol/sample.ts';
import type {
  ProcessAverage,
  ProcessHistoryPoint,
  SessionDetail,
  SessionSample,
  SessionSource,
  SessionState,
  SessionSummary,
} from '../../../shared/session-types.ts';
import type { LeakThresholds } from '../../sessions/leak-verdict.ts';
import { sessionDetailOf, sessionSummaryOf, type SessionRow } from '../../sessions/session-summary.ts';
import { processesGone } from '../../sessions/session-lifetime.ts';
import { MAX_PENDING_PROCESS_LISTS, MAX_SESSION_SAMPLES, PROCESS_HISTORY_MS, type AsyncSessionStateStore, type NewSession } from '../session-state.ts';
import { inTransaction } from './pg-partitions.ts';

const INSERT_SESSION = `INSERT INTO sessions (id, node, target, interval_ms, source, state, started_ms) VALUES ($1, $2, $3, $4, $5, 'running', $6)
  ON CONFLICT (id) DO NOTHING`;

export class PgSessionStore implements AsyncSessionStateStore {
  private pendingProcesses: [string, number, string][] = [];
  private flushFailing = false;
  private lastPrune = 0;
  /** Per running session, its newest sample with a live process (null: none yet); read from the table once. */
  private readonly lastLive = new Map<string, number | null>();

  /** The pool is the store's (hub/storage/driver.ts): it parses bigint as a number, and closing it is the store's. */
  constructor(
    private readonly pool: Pool,
    private readonly thresholds: Partial<LeakThresholds> = {},
  ) {}

  async create(s: NewSession): Promise<boolean> {
    const res = await this.pool.query(INSERT_SESSION, [s.id, s.node, s.target, s.interval_ms, s.source, s.started_ms]);
    return res.rowCount === 1;
  }

  async remove(id: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM session_samples WHERE session_id = $1', [id]);
      await client.query('DELETE FROM sessions WHERE id = $1', [id]);
    });
  }

  async setState(id: string, state: SessionState, atMs: number | null, error: string | null = null): Promise<void> {
    await this.pool.query('UPDATE sessions SET state = $1, stopped_ms = $2, error = $3 WHERE id = $4', [state, atMs, error, id]);
  }

  async addSample(node: string, s: ProcsSample): Promise<boolean> {
    const t = procsTotals(s.procs);
    const detail = JSON.stringify(s.procs.map((p) => [p.pid, p.name, p.rss_bytes, p.exited ? 1 : 0]));
    return inTransaction(this.pool, async (client) => {
      const source: SessionSource = s.session.startsWith('record-') ? 'record' : 'agent';
      await client.query(INSERT_SESSION, [s.session, node, s.target, s.interval_ms, source, s.ts_ms]);
      await client.query(
        `INSERT INTO session_samples (session_id, ts_ms, seq, rss_bytes, rss_anon_bytes, rss_file_bytes, swap_bytes, vsize_bytes, cpu_pct, procs, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
        [s.session, s.ts_ms, s.seq, t.rss_bytes, t.rss_anon_bytes, t.rss_file_bytes, t.swap_bytes, t.vsize_bytes, t.cpu_pct, t.count, detail],
      );
      // Locks the session's row: two samples of one session are judged one after the other.
      const row = (
        await client.query<SessionRow>('UPDATE sessions SET last_sample_ms = greatest(coalesce(last_sample_ms, 0), $1) WHERE id = $2 RETURNING *', [
          s.ts_ms,
          s.session,
        ])
      ).rows[0];
      if (row?.state !== 'running') {
        this.lastLive.delete(s.session);
        return false;
      }
      if (s.ended) {
        await client.query("UPDATE sessions SET state = 'ended', stopped_ms = $1, error = NULL WHERE id = $2", [s.ts_ms, s.session]);
        this.lastLive.delete(s.session);
        return false;
      }
      if (!this.lastLive.has(s.session)) {
        const live = await client.query<{ ts_ms: number }>(
          'SELECT ts_ms FROM session_samples WHERE session_id = $1 AND procs > 0 AND ts_ms <> $2 ORDER BY ts_ms DESC LIMIT 1',
          [s.session, s.ts_ms],
        );
        this.lastLive.set(s.session, live.rows[0]?.ts_ms ?? null);
      }
      const last = this.lastLive.get(s.session)!;
      if (t.count > 0) {
        this.lastLive.set(s.session, Math.max(last ?? s.ts_ms, s.ts_ms));
        return false;
      }
      const first =
        last === null
          ? ((await client.query<{ ts_ms: number | null }>('SELECT min(ts_ms) AS ts_ms FROM session_samples WHERE session_id = $1', [s.session])).rows[0]
              ?.ts_ms ?? s.ts_ms)
          : s.ts_ms;
      if (!processesGone({ target: row.target, interval_ms: row.interval_ms, last_live_ms: last, first_sample_ms: first }, s.ts_ms)) return false;
      await client.query("UPDATE sessions SET state = 'ended', stopped_ms = $1, error = NULL WHERE id = $2", [s.ts_ms, s.session]);
      this.lastLive.delete(s.session);
      return true;
    });
  }

  async get(id: string): Promise<SessionSummary | null> {
    const row = (await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id])).rows[0];
    return row ? this.summary(row) : null;
  }

  async detail(id: string, sinceMs = -1): Promise<SessionDetail | null> {
    const summary = await this.get(id);
    if (!summary) return null;
    const { rows } = await this.pool.query<SessionSample & { detail: string | null }>(
      `SELECT ts_ms, rss_bytes, rss_anon_bytes, rss_file_bytes, swap_bytes, vsize_bytes, cpu_pct, procs, detail
       FROM session_samples WHERE session_id = $1 AND ts_ms > $2 ORDER BY ts_ms, seq LIMIT $3`,
      [id, sinceMs, MAX_SESSION_SAMPLES],
    );
    return sessionDetailOf(summary, rows);
  }

  async list(limit = 200): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions ORDER BY started_ms DESC LIMIT $1', [limit]);
    return Promise.all(rows.map((row) => this.summary(row)));
  }

  async runningOn(node: string): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query<SessionRow>("SELECT * FROM sessions WHERE node = $1 AND state = 'running' AND source = 'hub'", [node]);
    return Promise.all(rows.map((row) => this.summary(row)));
  }

  private async summary(row: SessionRow): Promise<SessionSummary> {
    const [memory, count] = await Promise.all([
      this.pool.query<{ ts_ms: number; rss_bytes: number }>(
        'SELECT ts_ms, rss_bytes FROM session_samples WHERE session_id = $1 AND procs > 0 ORDER BY ts_ms LIMIT $2',
        [row.id, MAX_SESSION_SAMPLES],
      ),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM session_samples WHERE session_id = $1', [row.id]),
    ]);
    return sessionSummaryOf(row, memory.rows, count.rows[0]!.n, this.thresholds);
  }

  addTopLists(node: string, tsMs: number, topCpu: readonly ProcessUsage[], topMem: readonly ProcessUsage[]): void {
    const seen = new Set<number>();
    const procs = [...topCpu, ...topMem].filter((p) => !seen.has(p.pid) && seen.add(p.pid));
    this.pendingProcesses.push([node, tsMs, JSON.stringify(procs.map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes]))]);
    // A cap, not a cadence: the session service flushes once a second.
    if (this.pendingProcesses.length < MAX_PENDING_PROCESS_LISTS) return;
    if (this.flushFailing) this.pendingProcesses.shift();
    else void this.flushProcesses().catch(() => undefined); // failures are reported by the timed flush
  }

  async flushProcesses(nowMs = Date.now()): Promise<void> {
    const prune = nowMs - this.lastPrune > 3_600_000;
    if (this.pendingProcesses.length === 0 && !prune) return;
    const rows = this.pendingProcesses;
    this.pendingProcesses = [];
    try {
      await inTransaction(this.pool, async (client) => {
        if (rows.length > 0)
          await client.query(
            `INSERT INTO process_lists (node, ts_ms, procs)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::jsonb[]) ON CONFLICT DO NOTHING`,
            [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
          );
        if (prune) await client.query('DELETE FROM process_lists WHERE ts_ms < $1', [nowMs - PROCESS_HISTORY_MS]);
      });
      if (prune) this.lastPrune = nowMs;
      this.flushFailing = false;
    } catch (err) {
      // Kept for the next flush, the newest within the cap.
      this.pendingProcesses = [...rows, ...this.pendingProcesses].slice(-MAX_PENDING_PROCESS_LISTS);
      this.flushFailing = true;
      throw err;
    }
  }

  async processAverages(fromMs: number, toMs: number, nodes: readonly string[] | null): Promise<ProcessAverage[]> {
    const { rows } = await this.pool.query<ProcessAverage>(
      `SELECT l.node, p.value ->> 1 AS name, avg((p.value ->> 2)::float8) AS cpu_pct, avg((p.value ->> 3)::float8) AS rss_bytes,
              max((p.value ->> 3)::float8) AS max_rss_bytes, count(DISTINCT l.ts_ms)::int AS samples, count(DISTINCT p.value ->> 0)::int AS pids,
              max(l.ts_ms) AS last_ms
       FROM process_lists l, jsonb_array_elements(l.procs) p
       WHERE l.ts_ms BETWEEN $1 AND $2 AND ($3::text[] IS NULL OR l.node = ANY($3))
       GROUP BY l.node, name ORDER BY l.node, cpu_pct DESC`,
      [fromMs, toMs, nodes],
    );
    return rows.map((r) => ({ ...r, cpu_pct: Math.round(r.cpu_pct * 10) / 10, rss_bytes: Math.round(r.rss_bytes) }));
  }

  async processHistory(node: string, name: string, fromMs: number, toMs: number, limit = 50_000): Promise<ProcessHistoryPoint[]> {
    const { rows } = await this.pool.query<ProcessHistoryPoint>(
      `SELECT l.ts_ms, (p.value ->> 0)::int AS pid, (p.value ->> 2)::float8 AS cpu_pct, (p.value ->> 3)::float8 AS rss_bytes
       FROM process_lists l, jsonb_array_elements(l.procs) p WHERE l.node = $1 AND l.ts_ms BETWEEN $2 AND $3 AND p.value ->> 1 = $4
       ORDER BY l.ts_ms, pid LIMIT $5`,
      [node, fromMs, toMs, name, limit],
    );
    return rows;
  }
}

/** A removed node's process history, purged with its data; rows deleted. Its sessions are kept: each is a record of its own. */
export async function purgePgProcessHistory(pool: Pool, node: string): Promise<number> {
  return (await pool.query('DELETE FROM process_lists WHERE node = $1', [node])).rowCount ?? 0;
}
