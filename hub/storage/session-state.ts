// What the session service keeps in a database: process-watch sessions and their samples, and the
// per-process history. SQLite answers at once (hub/sessions/sessions.ts); PostgreSQL, shared by a
// group of hubs so that a new coordinator lists the sessions of the last one, answers later
// (hub/storage/postgres/pg-session-store.ts). Callers await every call, or take the answer through
// whenStored (alarm-state.ts), which keeps a synchronous store's answer in the same turn.
import type { ProcsSample } from '../../protocol/procs.ts';
import type { ProcessUsage } from '../../protocol/sample.ts';
import type { ProcessAverage, ProcessHistoryPoint, SessionDetail, SessionSource, SessionState, SessionSummary } from '../../shared/session-types.ts';
import type { Promised } from './async-store.ts';

export interface NewSession {
  id: string;
  node: string;
  target: string;
  interval_ms: number;
  source: SessionSource;
  started_ms: number;
}

export interface SessionStateStore {
  /** False when a session with this id exists already. */
  create(s: NewSession): boolean;
  /** Deletes a session that never started (its watch was never sent), samples included. */
  remove(id: string): void;
  setState(id: string, state: SessionState, atMs: number | null, error?: string | null): void;
  /**
   * Stores a watch sample; a session first heard of here (remonitor record, another hub) is created.
   * True when this sample ended the session because its processes are gone (hub/sessions/session-lifetime.ts).
   */
  addSample(node: string, s: ProcsSample): boolean;
  get(id: string): SessionSummary | null;
  /** Samples after `sinceMs`, the verdict over all of them, the exits seen. */
  detail(id: string, sinceMs?: number): SessionDetail | null;
  /** Newest first. */
  list(limit?: number): SessionSummary[];
  /** Running hub-started sessions of a node: re-sent to its agent when it comes back online. */
  runningOn(node: string): SessionSummary[];
  /** Queues the processes of a sample's top lists (in memory: never waits); written by flushProcesses. */
  addTopLists(node: string, tsMs: number, topCpu: readonly ProcessUsage[], topMem: readonly ProcessUsage[]): void;
  /** Writes the queued rows, and deletes history past its retention (at most once an hour). */
  flushProcesses(nowMs?: number): void;
  /** Mean CPU % and mean RSS per node and process name over [fromMs, toMs]. */
  processAverages(fromMs: number, toMs: number, nodes: readonly string[] | null): ProcessAverage[];
  /** Every stored sample of processes named `name` on `node` in [fromMs, toMs], not averaged. */
  processHistory(node: string, name: string, fromMs: number, toMs: number, limit?: number): ProcessHistoryPoint[];
}

/** The same, answering over a network; queueing the top lists stays synchronous. */
export type AsyncSessionStateStore = { [K in Exclude<keyof SessionStateStore, 'addTopLists'>]: Promised<SessionStateStore[K]> } & Pick<
  SessionStateStore,
  'addTopLists'
>;

/** Either kind. */
export type AnySessionState = SessionStateStore | AsyncSessionStateStore;

/** Per-process history older than this is deleted (checked at most once an hour). */
export const PROCESS_HISTORY_MS = 7 * 86_400_000;
/** At most this many samples are returned for one session (the page draws no more points than that). */
export const MAX_SESSION_SAMPLES = 20_000;
/** Queued process lists written at once even before the next timed flush (about 4 MiB). */
export const MAX_PENDING_PROCESS_LISTS = 10_000;
