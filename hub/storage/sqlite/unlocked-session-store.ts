// The session state of a SQLite hub, on its own connection, with each call tried again later while
// the writer thread holds the write lock (when-unlocked.ts): a watch sample arrives every 250 ms of
// a session, and its write, waiting synchronously in SQLite's busy handler, held the event loop
// for as long as a purge kept the lock.
import type Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, naming, openDatabase } from '../../../shared/sqlite-open.ts';
import type { LeakThresholds } from '../../sessions/leak-verdict.ts';
import { SessionStore } from '../../sessions/sessions.ts';
import type { AsyncSessionStateStore } from '../session-state.ts';
import { TRY_BUSY_TIMEOUT_MS, whenUnlocked as tryUntil } from './when-unlocked.ts';

// Refused after as long as any other connection waits, so the command bridge says the store is held
// up and keeps the samples for later, as it did when the wait was SQLite's own.
const whenUnlocked = <T>(statement: () => T) => tryUntil(statement, BUSY_TIMEOUT_MS);

/** A connection for session state on the hub's file (its tables made by the store's migrations). */
export function openSessionConnection(path: string): Database.Database {
  const db = openDatabase(path);
  naming(path, () => db.pragma(`busy_timeout = ${TRY_BUSY_TIMEOUT_MS}`));
  return db;
}

/** The session state on `db`, every call answered once the database is free. */
export function unlockedSessionStore(db: Database.Database, thresholds: Partial<LeakThresholds> = {}): AsyncSessionStateStore {
  const s = new SessionStore(db, thresholds);
  return {
    create: async (session) => whenUnlocked(() => s.create(session)),
    remove: async (id) => whenUnlocked(() => s.remove(id)),
    setState: async (id, state, atMs, error) => whenUnlocked(() => s.setState(id, state, atMs, error)),
    addSample: async (node, sample) => whenUnlocked(() => s.addSample(node, sample)),
    get: async (id) => whenUnlocked(() => s.get(id)),
    detail: async (id, sinceMs) => whenUnlocked(() => s.detail(id, sinceMs)),
    list: async (limit) => whenUnlocked(() => s.list(limit)),
    runningOn: async (node) => whenUnlocked(() => s.runningOn(node)),
    addTopLists: (node, tsMs, topCpu, topMem) => s.addTopLists(node, tsMs, topCpu, topMem),
    flushProcesses: async (nowMs) => whenUnlocked(() => s.flushProcesses(nowMs)),
    processAverages: async (fromMs, toMs, nodes) => whenUnlocked(() => s.processAverages(fromMs, toMs, nodes)),
    processHistory: async (node, name, fromMs, toMs, limit) => whenUnlocked(() => s.processHistory(node, name, fromMs, toMs, limit)),
  };
}
