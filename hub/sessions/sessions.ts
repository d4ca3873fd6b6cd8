// Session state (hub/storage/session-state.ts), on the hub's SQLite database (tables of migration 002).
// Verdicts are computed when asked for (hub/sessions/leak-verdict.ts), never stored: thresholds may change.
import type Database from 'better-sqlite3';
import { procsTotals, type ProcsSample } from '../../protocol/procs.ts';
import type { ProcessUsage } from '../../protocol/sample.ts';
import type { LeakThresholds } from './leak-verdict.ts';
import { sessionDetailOf, sessionSummaryOf, type SessionRow } from './session-summary.ts';
import { processesGone } from './session-lifetime.ts';
import { naming } from '../../shared/sqlite-open.ts';
import type { PackedSamples, ProcessRow } from '../storage/packed-samples.ts';
import { MAX_PENDING_PROCESS_LISTS, MAX_SESSION_SAMPLES, PROCESS_HISTORY_MS, type NewSession, type SessionStateStore } from '../storage/session-state.ts';
import type { ProcessAverage, ProcessHistoryPoint, SessionDetail, SessionSample, SessionState, SessionSummary } from '../../shared/session-types.ts';

export class SessionStore implements SessionStateStore {
  private readonly stmt;
  private pendingProcesses: unknown[][] = [];
  /** The last flush failed: the timed flush retries, and the queue drops its oldest past the cap meanwhile. */
  private flushFailing = false;
  private lastPrune = 0;
  /** Per running session, its newest sample with a live process (null: none yet); read from the table once after a start. */
  private readonly lastLive = new Map<string, number | null>();

  constructor(
    private readonly db: Database.Database,
    private readonly thresholds: Partial<LeakThresholds> = {},
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO sessions (id, node, target, interval_ms, source, state, started_ms) VALUES (?, ?, ?, ?, ?, 'running', ?)
         ON CONFLICT(id) DO NOTHING`,
      ),
      get: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      list: db.prepare<[number], SessionRow>('SELECT * FROM sessions ORDER BY started_ms DESC LIMIT ?'),
      running: db.prepare<[string], SessionRow>("SELECT * FROM sessions WHERE node = ? AND state = 'running' AND source = 'hub'"),
      setState: db.prepare('UPDATE sessions SET state = ?, stopped_ms = ?, error = ? WHERE id = ?'),
      addSample: db.prepare(
        `INSERT OR IGNORE INTO session_samples (session_id, ts_ms, seq, rss_bytes, rss_anon_bytes, rss_file_bytes, swap_bytes, vsize_bytes, cpu_pct, procs, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      touch: db.prepare('UPDATE sessions SET last_sample_ms = max(coalesce(last_sample_ms, 0), ?) WHERE id = ?'),
      samples: db.prepare<[string, number, number], SessionSample & { detail: string | null }>(
        `SELECT ts_ms, rss_bytes, rss_anon_bytes, rss_file_bytes, swap_bytes, vsize_bytes, cpu_pct, procs, detail
         FROM session_samples WHERE session_id = ? AND ts_ms > ? ORDER BY ts_ms, seq LIMIT ?`,
      ),
      memory: db.prepare<[string, number], { ts_ms: number; rss_bytes: number }>(
        'SELECT ts_ms, rss_bytes FROM session_samples WHERE session_id = ? AND procs > 0 ORDER BY ts_ms LIMIT ?',
      ),
      count: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM session_samples WHERE session_id = ?'),
      lastLive: db.prepare<[string], { ts_ms: number }>('SELECT ts_ms FROM session_samples WHERE session_id = ? AND procs > 0 ORDER BY ts_ms DESC LIMIT 1'),
      firstSample: db.prepare<[string], { ts_ms: number }>('SELECT min(ts_ms) AS ts_ms FROM session_samples WHERE session_id = ?'),
      addProcesses: db.prepare('INSERT OR IGNORE INTO process_lists (node, ts_ms, procs) VALUES (?, ?, jsonb(?))'),
      prune: db.prepare('DELETE FROM process_lists WHERE ts_ms < ?'),
    };
  }

  create(s: NewSession): boolean {
    return this.stmt.insert.run(s.id, s.node, s.target, s.interval_ms, s.source, s.started_ms).changes === 1;
  }

  /** Deletes a session that never started (its watch was never sent), samples included. */
  remove(id: string): void {
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM session_samples WHERE session_id = ?').run(id);
        this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
      })
      .immediate();
  }

  setState(id: string, state: SessionState, atMs: number | null, error: string | null = null): void {
    this.stmt.setState.run(state, atMs, error, id);
  }

  /**
   * Stores a watch sample; a session first heard of here (remonitor record, another hub) is created.
   * IMMEDIATE: the transaction reads first, and SQLite fails a read that turns into a write at once
   * ("database is locked") while ingest's thread commits, where a write that starts as one waits.
   * True when this sample ended the session because its processes are gone (hub/sessions/session-lifetime.ts).
   */
  addSample(node: string, s: ProcsSample): boolean {
    let gone = false;
    const store = this.db.transaction(() => {
      if (!this.stmt.get.get(s.session)) {
        this.create({
          id: s.session,
          node,
          target: s.target,
          interval_ms: s.interval_ms,
          source: s.session.startsWith('record-') ? 'record' : 'agent',
          started_ms: s.ts_ms,
        });
      }
      const t = procsTotals(s.procs);
      const detail = JSON.stringify(s.procs.map((p) => [p.pid, p.name, p.rss_bytes, p.exited ? 1 : 0]));
      this.stmt.addSample.run(
        s.session,
        s.ts_ms,
        s.seq,
        t.rss_bytes,
        t.rss_anon_bytes,
        t.rss_file_bytes,
        t.swap_bytes,
        t.vsize_bytes,
        t.cpu_pct,
        t.count,
        detail,
      );
      this.stmt.touch.run(s.ts_ms, s.session);
      if (s.ended) {
        const row = this.stmt.get.get(s.session);
        if (row?.state === 'running') this.setState(s.session, 'ended', s.ts_ms);
        this.lastLive.delete(s.session);
      } else gone = this.endIfGone(s.session, s.ts_ms, t.count);
    });
    naming(this.db.name, () => store.immediate());
    return gone;
  }

  /** Follows when a running session last had a live process, and ends it once they are gone. */
  private endIfGone(id: string, atMs: number, live: number): boolean {
    const row = this.stmt.get.get(id);
    if (row?.state !== 'running') {
      this.lastLive.delete(id);
      return false;
    }
    if (!this.lastLive.has(id)) this.lastLive.set(id, this.stmt.lastLive.get(id)?.ts_ms ?? null);
    const last = this.lastLive.get(id)!;
    if (live > 0) {
      this.lastLive.set(id, Math.max(last ?? atMs, atMs));
      return false;
    }
    const first = last === null ? (this.stmt.firstSample.get(id)?.ts_ms ?? atMs) : atMs;
    if (!processesGone({ target: row.target, interval_ms: row.interval_ms, last_live_ms: last, first_sample_ms: first }, atMs)) return false;
    this.setState(id, 'ended', atMs);
    this.lastLive.delete(id);
    return true;
  }

  get(id: string): SessionSummary | null {
    const row = this.stmt.get.get(id);
    return row ? this.summary(row) : null;
  }

  /** Samples after `sinceMs`, the verdict over all of them, the exits seen. */
  detail(id: string, sinceMs = -1): SessionDetail | null {
    const summary = this.get(id);
    if (!summary) return null;
    const rows = this.stmt.samples.all(id, sinceMs, MAX_SESSION_SAMPLES);
    return sessionDetailOf(summary, rows);
  }

  list(limit = 200): SessionSummary[] {
    return this.stmt.list.all(limit).map((row) => this.summary(row));
  }

  /** Running hub-started sessions of a node: re-sent to its agent when it comes back online. */
  runningOn(node: string): SessionSummary[] {
    return this.stmt.running.all(node).map((row) => this.summary(row));
  }

  private summary(row: SessionRow): SessionSummary {
    return sessionSummaryOf(row, this.stmt.memory.all(row.id, MAX_SESSION_SAMPLES), this.stmt.count.get(row.id)!.n, this.thresholds);
  }

  // ---- per-process history ---------------------------------------------------------------------

  /** Queues the processes of a sample's top lists; written by flushProcesses in one transaction. */
  addTopLists(node: string, tsMs: number, topCpu: readonly ProcessUsage[], topMem: readonly ProcessUsage[]): void {
    const seen = new Set<number>();
    const procs = [...topCpu, ...topMem].filter((p) => !seen.has(p.pid) && seen.add(p.pid));
    this.pendingProcesses.push([node, tsMs, processListJson(procs)]);
    // A cap, not a cadence: the service flushes once a second. Each flush is a commit, and with
    // synchronous = FULL a commit is an fsync, so flushing every 100 samples cost the hub a
    // seventh of its ingest time under load.
    if (this.pendingProcesses.length < MAX_PENDING_PROCESS_LISTS) return;
    if (this.flushFailing) this.pendingProcesses.shift();
    else this.flushProcesses();
  }

  /** The processes of a batch's samples, one row per sample, in the caller's transaction (the SQLite hub's writer thread: hub/storage/sqlite/sqlite-batch-write.ts). */
  insertProcesses(samples: PackedSamples): void {
    let list: ProcessRow[] = [];
    const write = () => list.length > 0 && this.stmt.addProcesses.run(samples.node(list[0]!.row), samples.tsMs(list[0]!.row), processListJson(list));
    // A sample's processes are consecutive.
    for (const p of samples.processes()) {
      if (list.length > 0 && p.row !== list[0]!.row) {
        write();
        list = [];
      }
      list.push(p);
    }
    write();
  }

  /** Writes the queued rows, and deletes history past its retention (at most once an hour). */
  flushProcesses(nowMs = Date.now()): void {
    const prune = nowMs - this.lastPrune > 3_600_000;
    if (this.pendingProcesses.length === 0 && !prune) return;
    const rows = this.pendingProcesses;
    this.pendingProcesses = [];
    try {
      const store = this.db.transaction(() => {
        for (const r of rows) this.stmt.addProcesses.run(...r);
        if (prune) {
          this.lastPrune = nowMs;
          this.stmt.prune.run(nowMs - PROCESS_HISTORY_MS);
        }
      });
      naming(this.db.name, () => store.immediate());
      this.flushFailing = false;
    } catch (err) {
      // Kept for the next flush (a locked or full disk passes), the newest within the cap.
      this.pendingProcesses = [...rows, ...this.pendingProcesses].slice(-MAX_PENDING_PROCESS_LISTS);
      this.flushFailing = true;
      throw err;
    }
  }

  /**
   * Mean CPU % and mean RSS per node and process name over [fromMs, toMs]. A process is only in a
   * top list while it is among the busiest, so these are means over the samples it was seen in
   * (`samples` says how many), not over the whole window.
   */
  processAverages(fromMs: number, toMs: number, nodes: readonly string[] | null): ProcessAverage[] {
    const filter = nodes ? `AND l.node IN (${nodes.map(() => '?').join(', ')})` : '';
    const rows = this.db
      .prepare(
        `SELECT l.node, p.value ->> 1 AS name, avg(p.value ->> 2) AS cpu_pct, avg(p.value ->> 3) AS rss_bytes, max(p.value ->> 3) AS max_rss_bytes,
                count(DISTINCT l.ts_ms) AS samples, count(DISTINCT p.value ->> 0) AS pids, max(l.ts_ms) AS last_ms
         FROM process_lists l, jsonb_each(l.procs) p WHERE l.ts_ms BETWEEN ? AND ? ${filter}
         GROUP BY l.node, name ORDER BY l.node, cpu_pct DESC`,
      )
      .all(fromMs, toMs, ...(nodes ?? [])) as ProcessAverage[];
    return rows.map((r) => ({ ...r, cpu_pct: Math.round(r.cpu_pct * 10) / 10, rss_bytes: Math.round(r.rss_bytes) }));
  }

  /** Every stored sample of processes named `name` on `node` in [fromMs, toMs], not averaged. */
  processHistory(node: string, name: string, fromMs: number, toMs: number, limit = 50_000): ProcessHistoryPoint[] {
    return this.db
      .prepare<[string, number, number, string, number], ProcessHistoryPoint>(
        `SELECT l.ts_ms, p.value ->> 0 AS pid, p.value ->> 2 AS cpu_pct, p.value ->> 3 AS rss_bytes
         FROM process_lists l, jsonb_each(l.procs) p WHERE l.node = ? AND l.ts_ms BETWEEN ? AND ? AND p.value ->> 1 = ?
         ORDER BY l.ts_ms, pid LIMIT ?`,
      )
      .all(node, fromMs, toMs, name, limit);
  }
}

/** A sample's processes as stored in process_lists: [[pid, name, cpu_pct, rss_bytes], ...]. */
export function processListJson(procs: readonly Pick<ProcessUsage, 'pid' | 'name' | 'cpu_pct' | 'rss_bytes'>[]): string {
  return JSON.stringify(procs.map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes]));
}
