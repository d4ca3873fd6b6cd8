import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PackedSamples } from '../../hub/storage/packed-samples.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import type { SamplePage } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';
import { storageContract } from './storage-contract.ts';

afterAll(runCleanups);

let n = 0;
storageContract('SQLite', ({ now, retention }) => openSqliteStore(join(tempDir(), `store-${n++}.db`), { now, retention }));

describe('SQLite rollups in slices', () => {
  it('derives every node when each slice may hold only one (a slice of no time still takes a node)', async () => {
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const store = openSqliteStore(join(tempDir(), 'slices.db'), { now: () => now });
    const nodes = ['a', 'b', 'c'];
    for (const [i, node] of nodes.entries()) {
      // Two hours of a sample a minute: the 1 h tier has whole buckets to answer from.
      const samples: Sample[] = Array.from({ length: 120 }, (_, k) => ({
        v: 1,
        boot: 'b',
        seq: k,
        ts_ms: now - 2 * 3_600_000 + k * 60_000,
        cpu_pct: 10 * (i + 1),
      }));
      store.insertBatch(samples.map((sample) => ({ node, sample, raw: encodeSample(sample) })));
    }
    expect(await store.deriveRollups(async () => undefined, 0)).toBe(nodes.length);
    for (const [i, node] of nodes.entries()) {
      // 7 days at 100 points: served from the 1 h tier, derived for this node too.
      const res = store.querySeries({ node, metrics: ['cpu_pct'], fromMs: now - 7 * 86_400_000, toMs: now, maxPoints: 100 })!;
      expect(res.resolution).toBe('1h');
      const values = res.data[1]!.filter((v) => v !== null);
      expect(values.length).toBeGreaterThan(0);
      expect(new Set(values)).toEqual(new Set([10 * (i + 1)]));
    }
    expect(await store.deriveRollups(async () => undefined, 0)).toBe(0); // nothing new: nothing to do
    store.close();
  });
});

describe('SQLite rollups from the minute sums', () => {
  const now = Date.UTC(2026, 10, 27, 12, 0, 0);
  const start = now - 3 * 3_600_000;
  const noPause = async () => undefined;
  /** A node's sample k: every 10 s, some metrics missing now and then (absent is not zero). */
  const sample = (k: number, boot = 'b'): Sample => ({
    v: 1,
    boot,
    seq: k,
    ts_ms: start + k * 10_000,
    cpu_pct: (k * 7) % 100,
    mem_pct: k % 3 === 0 ? undefined : 40 + (k % 5),
    temp_c: k % 4 === 0 ? undefined : 50 + (k % 9),
    load_1: k / 4,
  });
  const batch = (node: string, ks: number[]) => ks.map((k) => ({ node, sample: sample(k), raw: encodeSample(sample(k)) }));
  const rollupRows = (store: ReturnType<typeof openSqliteStore>) => store.db.prepare('SELECT * FROM rollups ORDER BY tier, node_id, bucket_ms').all();

  it('merges runs of part minutes into the same tiers a rebuild from the raw rows gives', async () => {
    const path = join(tempDir(), 'merge.db');
    const store = openSqliteStore(path, { now: () => now });
    // Runs land mid-minute and mid-hour; a batch re-sent whole is all duplicates.
    for (let from = 0; from < 1000; from += 37) {
      for (const node of ['a', 'b'])
        store.insertBatch(
          batch(
            node,
            Array.from({ length: 37 }, (_, i) => from + i),
          ),
        );
      store.insertBatch(
        batch(
          'a',
          Array.from({ length: 37 }, (_, i) => from + i),
        ),
      );
      if (from % 3 === 0) await store.deriveRollups(noPause);
    }
    // A node whose clock runs a year ahead: a rebuild finds its minute too, far past the others.
    store.insertBatch(batch('c', [5, 3_153_600]));
    await store.deriveRollups(noPause);
    const merged = rollupRows(store);
    expect(merged.length).toBeGreaterThan(2 * (1000 / 6));
    // The same database rebuilt from its raw rows, as after a crash.
    store.db.prepare('DELETE FROM rollups').run();
    store.db.prepare('UPDATE rollup_state SET dirty_from_ms = ?').run(start);
    store.close();
    const rebuilt = openSqliteStore(path, { now: () => now });
    await rebuilt.deriveRollups(noPause);
    expect(rollupRows(rebuilt)).toEqual(merged);
    rebuilt.close();
  });

  it('rebuilds from the raw rows with the samples stored between its slices, in a minute it had not seen', async () => {
    const path = join(tempDir(), 'rebuild-slices.db');
    const first = openSqliteStore(path, { now: () => now });
    first.insertBatch([...batch('a', [0, 1]), ...batch('b', [0, 1])]);
    first.close(); // never merged: the next start rebuilds from the raw rows
    const store = openSqliteStore(path, { now: () => now });
    let stored = false;
    // One node a slice; after the first, a sample of "b" lands in a minute no row had before.
    await store.deriveRollups(async () => {
      if (!stored) store.insertBatch(batch('b', [30]));
      stored = true;
    }, 0);
    await store.deriveRollups(noPause);
    const minutes = store.db
      .prepare("SELECT bucket_ms, n FROM rollups WHERE tier = 60 AND node_id = (SELECT id FROM nodes WHERE name = 'b') ORDER BY bucket_ms")
      .all();
    expect(minutes).toEqual([
      { bucket_ms: start, n: 2 },
      { bucket_ms: start + 300_000, n: 1 },
    ]);
    store.close();
  });

  it('sums nothing of a batch whose transaction rolled back, and rebuilds after a restart what it had not merged', async () => {
    const path = join(tempDir(), 'rollback.db');
    const store = openSqliteStore(path, { now: () => now });
    // Inside a caller's transaction that fails after the insert (a full disk at commit), as the
    // writer thread's (hub/storage/sqlite/sqlite-batch-write.ts), which then tells the store.
    expect(() =>
      store.db.transaction(() => {
        store.insertPacked(PackedSamples.pack(batch('a', [0, 1, 2])));
        throw new Error('disk full');
      })(),
    ).toThrow('disk full');
    store.rolledBack();
    // The node "a" first seen in the rolled-back transaction is not confused with the next new one.
    store.insertBatch(batch('z', [0]));
    store.db.transaction(() => store.insertPacked(PackedSamples.pack(batch('a', [0, 1]))))();
    store.insertBatch(batch('a', [3]));
    expect(store.listNodes().map((n) => n.name)).toEqual(['a', 'z']);
    expect(store.querySeries({ node: 'z', metrics: ['cpu_pct'], fromMs: start, toMs: start + 60_000, maxPoints: 100 })!.data[1]).toEqual([0]);
    await store.deriveRollups(noPause);
    const minute = () =>
      store.db
        .prepare<[string], { n: number; cpu_pct_sum: number }>(
          'SELECT n, cpu_pct_sum FROM rollups WHERE tier = 60 AND node_id = (SELECT id FROM nodes WHERE name = ?) ORDER BY bucket_ms',
        )
        .all('a');
    expect(minute()).toEqual([{ n: 3, cpu_pct_sum: 0 + 7 + 21 }]); // samples 0, 1 and 3, not 2
    // Stored, never merged, then the process ends: its sums die with it, its next start reads the rows.
    store.insertBatch(batch('a', [4, 5, 6]));
    store.close();
    const restarted = openSqliteStore(path, { now: () => now });
    await restarted.deriveRollups(noPause);
    expect(
      restarted.db.prepare("SELECT n, cpu_pct_sum FROM rollups WHERE tier = 60 AND node_id = (SELECT id FROM nodes WHERE name = 'a') ORDER BY bucket_ms").all(),
    ).toEqual([
      { n: 5, cpu_pct_sum: 0 + 7 + 21 + 28 + 35 },
      { n: 1, cpu_pct_sum: 42 },
    ]);
    restarted.close();
  });
});

describe('SQLite samples in arrival order (migration 008)', () => {
  it('carries the samples of a database clustered by node over: ranges, dedup and exports as before', async () => {
    const path = join(tempDir(), 'before-008.db');
    const migrations = new URL('../../hub/storage/sqlite/migrations/', import.meta.url);
    const old = new Database(path);
    for (const file of readdirSync(migrations)
      .filter((f) => /^00[1-7]_.*\.sql$/.test(f))
      .sort())
      old.exec(readFileSync(new URL(file, migrations), 'utf8'));
    old.pragma('user_version = 7');
    old.prepare("INSERT INTO nodes (id, name) VALUES (1, 'a'), (2, 'b')").run();
    const now = Date.UTC(2026, 10, 27, 12, 0, 0);
    const insert = old.prepare('INSERT INTO samples (node_id, ts_ms, seq, boot, cpu_pct, mem_used_bytes) VALUES (?, ?, ?, ?, ?, ?)');
    // Two hours of a sample every 90 s from two nodes: minutes with a sample, minutes without.
    for (let k = 0; k < 80; k++) for (const id of [1, 2]) insert.run(id, now - 7_200_000 + k * 90_000, k, 'b', id * 100 + k, 2 ** 40 + k);
    old.close();

    const lines: string[] = [];
    const store = openSqliteStore(path, { now: () => now, log: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) });
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(8);
    // A migration that may take minutes is not silent: it says which, and how long it took.
    expect(logged).toContainEqual(expect.objectContaining({ migration: '008_samples_by_minute.sql', msg: expect.stringContaining('migrating') }));
    expect(logged).toContainEqual(expect.objectContaining({ migration: '008_samples_by_minute.sql', ms: expect.any(Number) }));
    expect(store.db.prepare('SELECT count(*) AS n FROM samples').get()).toEqual({ n: 160 });
    const hour = store.querySeries({ node: 'a', metrics: ['cpu_pct'], fromMs: now - 3_600_000, toMs: now, maxPoints: 1000 })!;
    expect(hour.resolution).toBe('raw');
    expect(hour.data[1]).toEqual(Array.from({ length: 40 }, (_, i) => 100 + 40 + i));
    // The old rows still make a re-sent sample a duplicate; a new one lands beside them.
    const resent: Sample = { v: 1, boot: 'b', seq: 79, ts_ms: now - 7_200_000 + 79 * 90_000, cpu_pct: 0 };
    const next: Sample = { ...resent, seq: 80, ts_ms: resent.ts_ms + 90_000 };
    expect(store.insertBatch([resent, next].map((sample) => ({ node: 'a', sample, raw: encodeSample(sample) })))).toEqual({ inserted: 1, duplicates: 1 });
    // An export from 1970 on, 7 rows a page: every row of the node once, in order, 64-bit values exact.
    const seqs: number[] = [];
    let after: { ts_ms: number; seq: number } | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page: SamplePage = store.samplePage({ node: 'a', metrics: ['mem_used_bytes'], fromMs: 0, toMs: now, after, limit: 7 })!;
      if (page.rows.length === 0) break;
      for (const row of page.rows) if (row.seq < 80) expect(row.values).toEqual([2 ** 40 + row.seq]);
      seqs.push(...page.rows.map((r) => r.seq));
      after = page.rows.at(-1)!;
    }
    expect(seqs).toEqual(Array.from({ length: 81 }, (_, i) => i));
    store.close();
  });
});
