// Alarm state (hub/alarms/alarm-state.ts) in PostgreSQL: transitions, acknowledgements, silences and
// the notification queue, shared by the hubs of a group (tables of schema step 10,
// pg-state-schema.ts). One hub at a time evaluates and notifies (the coordinator); a new coordinator
// reads the last states, acks and silences its predecessor stored. Two coordinators may overlap for
// a moment, so the queue is read by claiming: each notification goes to one reader.
import type { Pool } from 'pg';
import {
  transitionOf,
  type AlarmAck,
  type AsyncAlarmStateStore,
  type Delivery,
  type LastStates,
  type QueueStatusRow,
  type TransitionRow,
} from '../alarm-state.ts';
import type { AlarmLevel, AlarmTransition, SilenceInfo } from '../../../shared/alarm-types.ts';
import { inTransaction } from './pg-partitions.ts';

export class PgAlarmStore implements AsyncAlarmStateStore {
  /** The pool is the store's (hub/storage/driver.ts): it parses bigint as a number, and closing it is the store's. */
  constructor(private readonly pool: Pool) {}

  async addTransition(t: AlarmTransition): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO alarm_transitions (ts_ms, node, rule_id, subject, metric, from_state, to_state, value, threshold, tt_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [t.ts_ms, t.node, t.rule_id, t.subject, t.metric, t.from, t.to, t.value, t.threshold, t.tt_ms === null ? null : Math.round(t.tt_ms)],
    );
    return rows[0]!.id;
  }

  async transitionsSince(fromMs: number, limit = 5000): Promise<AlarmTransition[]> {
    const { rows } = await this.pool.query<TransitionRow>('SELECT * FROM alarm_transitions WHERE ts_ms >= $1 ORDER BY ts_ms DESC, id DESC LIMIT $2', [
      fromMs,
      limit,
    ]);
    return rows.map(transitionOf);
  }

  async lastStates(): Promise<LastStates> {
    // By time first: transitions a hub copied from its older local file (pg-local-state-copy.ts) may come after newer ones.
    const { rows } = await this.pool.query<{ node: string; rule_id: string; subject: string; to_state: string; ts_ms: number }>(
      `SELECT DISTINCT ON (node, rule_id, subject) node, rule_id, subject, to_state, ts_ms
       FROM alarm_transitions ORDER BY node, rule_id, subject, ts_ms DESC, id DESC`,
    );
    return new Map(rows.map((r) => [`${r.node}\u0000${r.rule_id}\u0000${r.subject}`, { state: r.to_state as AlarmLevel, ts_ms: r.ts_ms }]));
  }

  async ack(node: string, ruleId: string, subject: string, state: AlarmLevel, atMs: number, by: string | null): Promise<void> {
    await this.pool.query(
      `INSERT INTO alarm_acks (node, rule_id, subject, state, ts_ms, by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (node, rule_id, subject) DO UPDATE SET state = excluded.state, ts_ms = excluded.ts_ms, by = excluded.by`,
      [node, ruleId, subject, state, atMs, by],
    );
  }

  async clearAck(node: string, ruleId: string, subject: string): Promise<void> {
    await this.pool.query('DELETE FROM alarm_acks WHERE node = $1 AND rule_id = $2 AND subject = $3', [node, ruleId, subject]);
  }

  async acks(): Promise<AlarmAck[]> {
    return (await this.pool.query<AlarmAck>('SELECT node, rule_id, subject, state FROM alarm_acks')).rows;
  }

  async addSilence(s: Omit<SilenceInfo, 'id'>): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO alarm_silences (node, rule_id, subject, from_ms, until_ms, reason, node_pattern, tag, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [s.node, s.rule_id, s.subject, s.from_ms, s.until_ms, s.reason, s.node_pattern, s.tag, s.created_by],
    );
    return rows[0]!.id;
  }

  async silences(nowMs: number): Promise<SilenceInfo[]> {
    const { rows } = await this.pool.query<SilenceInfo>(
      `SELECT id, node, node_pattern, tag, rule_id, subject, from_ms, until_ms, reason, created_by
       FROM alarm_silences WHERE until_ms > $1 ORDER BY until_ms, id`,
      [nowMs],
    );
    return rows;
  }

  async deleteSilence(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM alarm_silences WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async enqueue(kind: string, url: string, body: string, nowMs: number): Promise<void> {
    await this.pool.query('INSERT INTO alarm_deliveries (created_ms, kind, url, body, next_attempt_ms) VALUES ($1, $2, $3, $4, $1)', [nowMs, kind, url, body]);
  }

  async claimDue(nowMs: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    // One statement, so one transaction: the rows are locked as they are picked, and rows another
    // reader has locked are skipped rather than waited for (then, claimed, they are no longer due).
    const { rows } = await this.pool.query<Delivery>(
      `WITH picked AS (
         SELECT id, next_attempt_ms FROM alarm_deliveries
         WHERE delivered_ms IS NULL AND next_attempt_ms <= $1 ORDER BY next_attempt_ms, id LIMIT $2
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE alarm_deliveries d SET next_attempt_ms = $3 FROM picked p WHERE d.id = p.id
         RETURNING d.id, d.created_ms, d.kind, d.url, d.body, d.attempts, p.next_attempt_ms, d.last_error
       )
       SELECT * FROM claimed ORDER BY next_attempt_ms, id`,
      [nowMs, limit, nowMs + leaseMs],
    );
    return rows;
  }

  async markDelivered(id: number, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE alarm_deliveries SET delivered_ms = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2', [nowMs, id]);
  }

  async markFailed(id: number, nextAttemptMs: number, error: string): Promise<void> {
    await this.pool.query('UPDATE alarm_deliveries SET attempts = attempts + 1, next_attempt_ms = $1, last_error = $2 WHERE id = $3', [
      nextAttemptMs,
      error.slice(0, 500),
      id,
    ]);
  }

  async queueStatus(): Promise<QueueStatusRow[]> {
    const { rows } = await this.pool.query<QueueStatusRow>(
      `SELECT url, kind, count(*)::int AS pending, count(*) FILTER (WHERE attempts > 0)::int AS failing, min(created_ms) AS oldest_pending_ms,
              (SELECT last_error FROM alarm_deliveries e WHERE e.url = d.url AND e.delivered_ms IS NULL AND e.last_error IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS last_error
       FROM alarm_deliveries d WHERE delivered_ms IS NULL GROUP BY url, kind ORDER BY url`,
    );
    return rows;
  }

  async pendingDeliveries(): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM alarm_deliveries WHERE delivered_ms IS NULL')).rows[0]!.n;
  }

  async prune(beforeMs: number, nowMs: number): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM alarm_deliveries WHERE delivered_ms IS NOT NULL AND delivered_ms < $1', [beforeMs]);
      await client.query('DELETE FROM alarm_silences WHERE until_ms <= $1', [nowMs]);
    });
  }

  /** The pool is the metrics store's, closed with it. */
  async close(): Promise<void> {}
}

/** A removed node's alarm records (transitions, acks, silences of it alone), purged with its data; rows deleted. */
export async function purgePgAlarmNode(pool: Pool, node: string): Promise<number> {
  return inTransaction(pool, async (client) => {
    let deleted = 0;
    for (const table of ['alarm_transitions', 'alarm_acks', 'alarm_silences'])
      deleted += (await client.query(`DELETE FROM ${table} WHERE node = $1`, [node])).rowCount ?? 0;
    return deleted;
  });
}
