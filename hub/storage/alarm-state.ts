// What the alarm engine and its notifier keep in a database: transitions, acknowledgements,
// silences and the notification queue. SQLite answers at once (sqlite/sqlite-alarm-store.ts); PostgreSQL, shared
// by a group of hubs so that a new coordinator goes on where the last one stopped, answers later
// (hub/storage/postgres/pg-alarm-store.ts). Callers await every call, or take the value through
// `whenStored`, which keeps a synchronous store's answer in the same turn. The engine is
// hub/alarms/engine.ts, its notifier hub/alarms/notifier.ts.
import type { AlarmLevel, AlarmTransition, SilenceInfo } from '../../shared/alarm-types.ts';
import type { Promised } from './async-store.ts';

/** A row of `alarm_transitions` as both backends store it. */
export interface TransitionRow {
  id: number;
  ts_ms: number;
  node: string;
  rule_id: string;
  subject: string;
  metric: string;
  from_state: string;
  to_state: string;
  value: number | null;
  threshold: number | null;
  tt_ms: number | null;
}

/** A stored transition as the API gives it. */
export function transitionOf(r: TransitionRow): AlarmTransition {
  return {
    id: r.id,
    ts_ms: r.ts_ms,
    node: r.node,
    rule_id: r.rule_id,
    subject: r.subject,
    metric: r.metric,
    from: r.from_state as AlarmLevel,
    to: r.to_state as AlarmLevel,
    value: r.value,
    threshold: r.threshold,
    tt_ms: r.tt_ms,
  };
}

export interface Delivery {
  id: number;
  created_ms: number;
  /** The channel's name (`webhook`, `ntfy`, `telegram`, `smtp`…). */
  kind: string;
  url: string;
  body: string;
  attempts: number;
  next_attempt_ms: number;
  last_error: string | null;
}

export interface QueueStatusRow {
  url: string;
  kind: string;
  pending: number;
  /** Of those, the ones that failed at least once. */
  failing: number;
  oldest_pending_ms: number | null;
  last_error: string | null;
}

/** An acknowledgement: the alarm's state when it was given (it lapses when the state changes). */
export interface AlarmAck {
  node: string;
  rule_id: string;
  subject: string;
  state: string;
}

/** An alarm's last stored state, by `node \0 rule \0 subject`. */
export type LastStates = Map<string, { state: AlarmLevel; ts_ms: number }>;

export interface AlarmStateStore {
  /** Stores a transition; its id. */
  addTransition(t: AlarmTransition): number;
  /** Newest first, at most `limit`. */
  transitionsSince(fromMs: number, limit?: number): AlarmTransition[];
  /** The last state of every alarm that has a transition. */
  lastStates(): LastStates;
  ack(node: string, ruleId: string, subject: string, state: AlarmLevel, atMs: number, by: string | null): void;
  clearAck(node: string, ruleId: string, subject: string): void;
  acks(): AlarmAck[];
  addSilence(s: Omit<SilenceInfo, 'id'>): number;
  /** Silences that have not ended at `nowMs`, soonest end first. */
  silences(nowMs: number): SilenceInfo[];
  deleteSilence(id: number): boolean;
  enqueue(kind: string, url: string, body: string, nowMs: number): void;
  /**
   * Claims undelivered notifications due at `nowMs`, soonest first, as they were before the claim:
   * each is put off until `nowMs + leaseMs`, so that another reader (a second coordinator for a
   * moment) does not take it too. markDelivered or markFailed settles a claimed notification; one
   * whose claimer died is due again when its lease ends.
   */
  claimDue(nowMs: number, limit: number, leaseMs: number): Delivery[];
  markDelivered(id: number, nowMs: number): void;
  markFailed(id: number, nextAttemptMs: number, error: string): void;
  /** Undelivered notifications per channel URL: how many, how many have failed, and the last error. */
  queueStatus(): QueueStatusRow[];
  pendingDeliveries(): number;
  /** Drops delivered notifications older than `beforeMs` and silences ended at `nowMs`. */
  prune(beforeMs: number, nowMs: number): void;
  close(): void;
}

/** The same, answering over a network. */
export type AsyncAlarmStateStore = { [K in keyof AlarmStateStore]: Promised<AlarmStateStore[K]> };

/** Either kind. */
export type AnyAlarmState = AlarmStateStore | AsyncAlarmStateStore;

/**
 * Runs `then` with a store's answer: at once when the store is synchronous (SQLite keeps its
 * behaviour to the turn), else when the promise settles. A failure, thrown or rejected, goes to `failed`.
 */
export function whenStored<T>(answer: () => T | Promise<T>, then: (value: T) => void, failed: (err: Error) => void): Promise<void> | null {
  let value: T | Promise<T>;
  try {
    value = answer();
  } catch (err) {
    failed(err as Error);
    return null;
  }
  if (!(value instanceof Promise)) {
    then(value);
    return null;
  }
  return value.then(then, failed);
}
