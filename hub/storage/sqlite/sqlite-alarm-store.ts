// Alarm state (hub/storage/alarm-state.ts) on the hub's SQLite file: transitions, acknowledgements, silences and the
// notification queue. Its own connection (WAL lets it sit beside the metrics store's).
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { naming, openDatabase } from '../../../shared/sqlite-open.ts';
import { migrationsDir } from './migrations-dir.ts';
import { TRY_BUSY_TIMEOUT_MS, whenUnlocked } from './when-unlocked.ts';
import type { AlarmLevel, AlarmTransition, SilenceInfo } from '../../../shared/alarm-types.ts';
import { transitionOf, type AsyncAlarmStateStore, type Delivery, type QueueStatusRow, type TransitionRow } from '../alarm-state.ts';

const MIGRATIONS = ['003_alarms.sql', '011_silence_scope.sql'];

export type { Delivery, QueueStatusRow } from '../alarm-state.ts';

/** The alarm tables' SQL, made to run again on a database that has them. */
function migrationSql(): string {
  const dir = migrationsDir();
  return MIGRATIONS.map((file) => readFileSync(new URL(file, dir), 'utf8')).join('\n');
}

interface SilenceRow {
  id: number;
  node: string | null;
  rule_id: string | null;
  subject: string | null;
  from_ms: number;
  until_ms: number;
  reason: string | null;
  node_pattern: string | null;
  tag: string | null;
  created_by: string | null;
}

export class AlarmStore implements AsyncAlarmStateStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(private readonly path: string) {
    this.db = openDatabase(path);
    naming(path, () => this.db.exec(migrationSql()));
    // From here on a statement the writer thread's lock holds up is tried again later (when-unlocked.ts).
    this.db.pragma(`busy_timeout = ${TRY_BUSY_TIMEOUT_MS}`);
    const db = this.db;
    this.stmt = {
      addTransition: db.prepare(
        `INSERT INTO alarm_transitions (ts_ms, node, rule_id, subject, metric, from_state, to_state, value, threshold, tt_ms)
         VALUES (@ts_ms, @node, @rule_id, @subject, @metric, @from, @to, @value, @threshold, @tt_ms)`,
      ),
      transitionsSince: db.prepare<[number, number], TransitionRow>('SELECT * FROM alarm_transitions WHERE ts_ms >= ? ORDER BY ts_ms DESC, id DESC LIMIT ?'),
      ack: db.prepare(
        `INSERT INTO alarm_acks (node, rule_id, subject, state, ts_ms, by) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node, rule_id, subject) DO UPDATE SET state = excluded.state, ts_ms = excluded.ts_ms, by = excluded.by`,
      ),
      acks: db.prepare<[], { node: string; rule_id: string; subject: string; state: string }>('SELECT node, rule_id, subject, state FROM alarm_acks'),
      clearAck: db.prepare('DELETE FROM alarm_acks WHERE node = ? AND rule_id = ? AND subject = ?'),
      addSilence: db.prepare('INSERT INTO alarm_silences (node, rule_id, subject, from_ms, until_ms, reason) VALUES (?, ?, ?, ?, ?, ?)'),
      addSilenceScope: db.prepare('INSERT INTO alarm_silence_scope (silence_id, node_pattern, tag, created_by) VALUES (?, ?, ?, ?)'),
      silences: db.prepare<[number], SilenceRow>(
        `SELECT s.id, s.node, s.rule_id, s.subject, s.from_ms, s.until_ms, s.reason, x.node_pattern, x.tag, x.created_by
         FROM alarm_silences s LEFT JOIN alarm_silence_scope x ON x.silence_id = s.id WHERE s.until_ms > ? ORDER BY s.until_ms, s.id`,
      ),
      deleteSilence: db.prepare('DELETE FROM alarm_silences WHERE id = ?'),
      deleteSilenceScope: db.prepare('DELETE FROM alarm_silence_scope WHERE silence_id = ?'),
      expireSilences: db.prepare('DELETE FROM alarm_silences WHERE until_ms <= ?'),
      // Also the scopes of silences deleted elsewhere (a removed node's, hub/storage/sqlite/sqlite-store.ts).
      expireSilenceScopes: db.prepare('DELETE FROM alarm_silence_scope WHERE silence_id NOT IN (SELECT id FROM alarm_silences)'),
      enqueue: db.prepare('INSERT INTO alarm_deliveries (created_ms, kind, url, body, next_attempt_ms) VALUES (?, ?, ?, ?, ?)'),
      due: db.prepare<[number, number], Delivery>(
        'SELECT * FROM alarm_deliveries WHERE delivered_ms IS NULL AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?',
      ),
      claim: db.prepare('UPDATE alarm_deliveries SET next_attempt_ms = ? WHERE id = ?'),
      delivered: db.prepare('UPDATE alarm_deliveries SET delivered_ms = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?'),
      failed: db.prepare('UPDATE alarm_deliveries SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?'),
      pending: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM alarm_deliveries WHERE delivered_ms IS NULL'),
      queueStatus: db.prepare<[], QueueStatusRow>(
        `SELECT url, kind, count(*) AS pending, sum(attempts > 0) AS failing, min(created_ms) AS oldest_pending_ms,
                (SELECT last_error FROM alarm_deliveries e WHERE e.url = d.url AND e.delivered_ms IS NULL AND e.last_error IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS last_error
         FROM alarm_deliveries d WHERE delivered_ms IS NULL GROUP BY url, kind ORDER BY url`,
      ),
      pruneDelivered: db.prepare('DELETE FROM alarm_deliveries WHERE delivered_ms IS NOT NULL AND delivered_ms < ?'),
    };
  }

  /** Writes made in the engine's and the notifier's turns, whose errors are logged: they name the file. */
  addTransition(t: AlarmTransition): Promise<number> {
    return whenUnlocked(() =>
      naming(this.path, () =>
        Number(
          this.stmt.addTransition.run({
            ts_ms: t.ts_ms,
            node: t.node,
            rule_id: t.rule_id,
            subject: t.subject, // a labelled alarm's labels are in its subject (labelsSubject)
            metric: t.metric,
            from: t.from,
            to: t.to,
            value: t.value,
            threshold: t.threshold,
            tt_ms: t.tt_ms === null ? null : Math.round(t.tt_ms),
          }).lastInsertRowid,
        ),
      ),
    );
  }

  transitionsSince(fromMs: number, limit = 5000): Promise<AlarmTransition[]> {
    return whenUnlocked(() => this.stmt.transitionsSince.all(fromMs, limit).map(transitionOf));
  }

  /** The last state of every alarm that has a transition, keyed `node \0 rule \0 subject`. */
  lastStates(): Promise<Map<string, { state: AlarmLevel; ts_ms: number }>> {
    return whenUnlocked(() => {
      const rows = this.db
        .prepare<[], { node: string; rule_id: string; subject: string; to_state: string; ts_ms: number }>(
          `SELECT node, rule_id, subject, to_state, ts_ms FROM alarm_transitions t
           WHERE id = (SELECT max(id) FROM alarm_transitions u WHERE u.node = t.node AND u.rule_id = t.rule_id AND u.subject = t.subject)`,
        )
        .all();
      return new Map(rows.map((r) => [`${r.node}\u0000${r.rule_id}\u0000${r.subject}`, { state: r.to_state as AlarmLevel, ts_ms: r.ts_ms }]));
    });
  }

  ack(node: string, ruleId: string, subject: string, state: AlarmLevel, atMs: number, by: string | null): Promise<void> {
    return whenUnlocked(() => {
      this.stmt.ack.run(node, ruleId, subject, state, atMs, by);
    });
  }

  clearAck(node: string, ruleId: string, subject: string): Promise<void> {
    return whenUnlocked(() => {
      naming(this.path, () => this.stmt.clearAck.run(node, ruleId, subject));
    });
  }

  acks(): Promise<{ node: string; rule_id: string; subject: string; state: string }[]> {
    return whenUnlocked(() => this.stmt.acks.all());
  }

  addSilence(s: Omit<SilenceInfo, 'id'>): Promise<number> {
    return whenUnlocked(() =>
      naming(this.path, () =>
        this.db
          .transaction(() => {
            const id = Number(this.stmt.addSilence.run(s.node, s.rule_id, s.subject, s.from_ms, s.until_ms, s.reason).lastInsertRowid);
            if (s.node_pattern !== null || s.tag !== null || s.created_by !== null) this.stmt.addSilenceScope.run(id, s.node_pattern, s.tag, s.created_by);
            return id;
          })
          .immediate(),
      ),
    );
  }

  /** Silences that have not ended at `nowMs`, soonest end first. */
  silences(nowMs: number): Promise<SilenceInfo[]> {
    return whenUnlocked(() =>
      this.stmt.silences.all(nowMs).map((r) => ({
        id: r.id,
        node: r.node,
        node_pattern: r.node_pattern,
        tag: r.tag,
        rule_id: r.rule_id,
        subject: r.subject,
        from_ms: r.from_ms,
        until_ms: r.until_ms,
        reason: r.reason,
        created_by: r.created_by,
      })),
    );
  }

  deleteSilence(id: number): Promise<boolean> {
    return whenUnlocked(() =>
      naming(this.path, () =>
        this.db
          .transaction(() => {
            this.stmt.deleteSilenceScope.run(id);
            return this.stmt.deleteSilence.run(id).changes > 0;
          })
          .immediate(),
      ),
    );
  }

  enqueue(kind: string, url: string, body: string, nowMs: number): Promise<void> {
    return whenUnlocked(() => {
      naming(this.path, () => this.stmt.enqueue.run(nowMs, kind, url, body, nowMs));
    });
  }

  claimDue(nowMs: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    return whenUnlocked(() =>
      naming(this.path, () =>
        this.db
          .transaction(() => {
            const rows = this.stmt.due.all(nowMs, limit);
            for (const r of rows) this.stmt.claim.run(nowMs + leaseMs, r.id);
            return rows;
          })
          .immediate(),
      ),
    );
  }

  markDelivered(id: number, nowMs: number): Promise<void> {
    return whenUnlocked(() => {
      naming(this.path, () => this.stmt.delivered.run(nowMs, id));
    });
  }

  markFailed(id: number, nextAttemptMs: number, error: string): Promise<void> {
    return whenUnlocked(() => {
      naming(this.path, () => this.stmt.failed.run(nextAttemptMs, error.slice(0, 500), id));
    });
  }

  /** Undelivered notifications per channel URL: how many, how many have failed, and the last error. */
  queueStatus(): Promise<QueueStatusRow[]> {
    return whenUnlocked(() => this.stmt.queueStatus.all());
  }

  pendingDeliveries(): Promise<number> {
    return whenUnlocked(() => this.stmt.pending.get()!.n);
  }

  /** Drops delivered notifications and expired silences older than `beforeMs`. */
  prune(beforeMs: number, nowMs: number): Promise<void> {
    return whenUnlocked(() => {
      this.stmt.pruneDelivered.run(beforeMs);
      this.stmt.expireSilences.run(nowMs);
      this.stmt.expireSilenceScopes.run();
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
