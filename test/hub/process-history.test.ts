// The per-process history (GET /api/processes and /api/processes/:node/:name/history) on a real
// SQLite file: written by the writer thread's path (a batch's transaction), by the feed's path (the
// one a hub on PostgreSQL takes, into the database: test/hub/state-contract.ts), and carried over from
// the schema before 007.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AckTracker } from '../../hub/ingest/ack-tracker.ts';
import { writePacked } from '../../hub/storage/sqlite/sqlite-batch-write.ts';
import { SessionStore } from '../../hub/sessions/sessions.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { PackedSamples } from '../../hub/storage/packed-samples.ts';
import { encodeSample, type ProcessUsage, type Sample } from '../../protocol/index.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

// An hour ago, on a whole minute: within the 7 days of history the store keeps (flushing prunes older rows).
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const proc = (pid: number, name: string, cpu_pct: number, rss_bytes: number): ProcessUsage => ({ pid, name, cpu_pct, rss_bytes, threads: 1 });

/** Three samples of node "a" with process lists: "web" climbs, "db" is in both top lists, a name needs JSON escaping. */
function samplesOfA(): Sample[] {
  return [1, 2, 3].map((k) => ({
    v: 1,
    boot: 'b1',
    seq: k,
    ts_ms: T0 + k * 1000,
    cpu_pct: 5,
    top_cpu: [proc(10, 'web', 10 * k, 100 * k), proc(11, 'db', 1, 5000)],
    top_mem: [proc(11, 'db', 1, 5000), proc(12 + (k % 2), 'we"ird\\name', 2, 300)],
  }));
}

function expectHistoryOfA(sessions: SessionStore): void {
  const averages = sessions.processAverages(T0, T0 + 10_000, ['a']);
  expect(averages).toEqual([
    { node: 'a', name: 'web', cpu_pct: 20, rss_bytes: 200, max_rss_bytes: 300, samples: 3, pids: 1, last_ms: T0 + 3000 },
    { node: 'a', name: 'we"ird\\name', cpu_pct: 2, rss_bytes: 300, max_rss_bytes: 300, samples: 3, pids: 2, last_ms: T0 + 3000 },
    { node: 'a', name: 'db', cpu_pct: 1, rss_bytes: 5000, max_rss_bytes: 5000, samples: 3, pids: 1, last_ms: T0 + 3000 },
  ]);
  expect(sessions.processHistory('a', 'web', T0, T0 + 10_000)).toEqual(
    [1, 2, 3].map((k) => ({ ts_ms: T0 + k * 1000, pid: 10, cpu_pct: 10 * k, rss_bytes: 100 * k })),
  );
  // A range holds only its own samples; another node's processes stay its own.
  expect(sessions.processHistory('a', 'web', T0 + 1500, T0 + 2500)).toEqual([{ ts_ms: T0 + 2000, pid: 10, cpu_pct: 20, rss_bytes: 200 }]);
  expect(sessions.processHistory('other', 'web', T0, T0 + 10_000)).toEqual([]);
}

describe('per-process history', () => {
  it("keeps each sample's processes from the writer's batches, averaged and as a history", () => {
    const store = openSqliteStore(join(tempDir(), 'procs.db'));
    const sessions = new SessionStore(store.db);
    const other: Sample = { v: 1, boot: 'x', seq: 1, ts_ms: T0 + 1000, top_cpu: [proc(99, 'web', 90, 1)] };
    const batch = [...samplesOfA().map((sample) => ({ node: 'a', sample })), { node: 'b', sample: other }];
    writePacked(
      { store, processes: sessions, acks: new AckTracker(store.db) },
      PackedSamples.pack(batch.map((s) => ({ ...s, raw: encodeSample(s.sample) }))),
      [],
    );
    expectHistoryOfA(sessions);
    expect(sessions.processAverages(T0, T0 + 10_000, null).map((p) => `${p.node}/${p.name}`)).toEqual(['a/web', 'a/we"ird\\name', 'a/db', 'b/web']);
    store.close();
  });

  it('keeps the same history from the live feed (a hub on PostgreSQL)', () => {
    const store = openSqliteStore(join(tempDir(), 'feed.db'));
    const sessions = new SessionStore(store.db);
    for (const s of samplesOfA()) sessions.addTopLists('a', s.ts_ms, s.top_cpu!, s.top_mem!);
    expect(sessions.processAverages(T0, T0 + 10_000, ['a'])).toEqual([]); // queued until flushed
    sessions.flushProcesses();
    expectHistoryOfA(sessions);
    store.close();
  });

  it('carries the history of a database from before migration 007 over', () => {
    const path = join(tempDir(), 'old.db');
    const migrations = new URL('../../hub/storage/sqlite/migrations/', import.meta.url);
    const old = new Database(path);
    for (const file of readdirSync(migrations)
      .filter((f) => /^00[1-6]_.*\.sql$/.test(f))
      .sort())
      old.exec(readFileSync(new URL(file, migrations), 'utf8'));
    old.pragma('user_version = 6');
    const insert = old.prepare('INSERT INTO process_samples (node, ts_ms, pid, name, cpu_pct, rss_bytes) VALUES (?, ?, ?, ?, ?, ?)');
    for (const s of samplesOfA()) {
      const seen = new Set<number>();
      for (const p of [...s.top_cpu!, ...s.top_mem!]) if (!seen.has(p.pid) && seen.add(p.pid)) insert.run('a', s.ts_ms, p.pid, p.name, p.cpu_pct, p.rss_bytes);
    }
    old.close();
    const store = openSqliteStore(path);
    expectHistoryOfA(new SessionStore(store.db));
    expect(store.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'process_samples'").get()).toEqual({ n: 0 });
    store.close();
  });
});
