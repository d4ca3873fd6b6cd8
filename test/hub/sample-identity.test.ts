// Identity as PROTOCOL.md documents it, on both stores (a real SQLite file, a real PostgreSQL
// server): a second sample with the same (node, boot, seq) is a duplicate whatever its ts_ms, counted
// and dropped, for as long as the store lives; and what the store keeps of a node's time (last seen,
// clock skew). Then SQLite's migration of a database that already holds such copies.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PackedSamplesBuilder, type ArrivalClock } from '../../hub/storage/packed-samples.ts';
import { createPartitions, dayOf } from '../../hub/storage/postgres/pg-partitions.ts';
import { openPgStore, type PgStore } from '../../hub/storage/postgres/pg-store.ts';
import type { Retention } from '../../hub/storage/rollups.ts';
import { toPoint } from '../../hub/storage/sample-point.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { usePostgres } from '../helpers/use-postgres.ts';
import { tempDir, runCleanups } from '../helpers/parts.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const noPause = async () => undefined;

const server = usePostgres();
afterEach(runCleanups);

type Store = SqliteStore | PgStore;

interface Backend {
  /** A fresh store, and a way to open the same storage again (a restarted hub). */
  open(options: { now: () => number; retention?: Retention }): Promise<{ store: Store; reopen: () => Promise<Store> }>;
}

const backends: [string, Backend][] = [
  [
    'SQLite',
    {
      async open(options) {
        const path = join(tempDir(), 'remonitor.db');
        return { store: openSqliteStore(path, options), reopen: async () => openSqliteStore(path, options) };
      },
    },
  ],
  [
    'PostgreSQL',
    {
      async open(options) {
        const url = await server.createDatabase();
        return { store: await openPgStore(url, options), reopen: () => openPgStore(url, options) };
      },
    },
  ],
];

describe.each(backends)('identity by (node, boot, seq) on %s', (_, backend) => {
  const now = Date.UTC(2026, 2, 10, 12, 0, 0);
  const sample = (seq: number, ts: number, cpu: number, boot = 'b1'): Sample => ({ v: 1, boot, seq, ts_ms: ts, cpu_pct: cpu });
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const opened = async (retention?: Retention) => {
    const { store, reopen } = await backend.open({ now: () => now, retention });
    open.push(store);
    return {
      store,
      reopen: async () => {
        const again = await reopen();
        open.push(again);
        return again;
      },
    };
  };
  const insert = async (store: Store, node: string, samples: Sample[]) => store.insertBatch(samples.map((s) => ({ node, sample: s, raw: encodeSample(s) })));
  const rows = async (store: Store, node: string, fromMs = now - 2 * HOUR) => {
    const res = await store.querySeries({ node, metrics: ['cpu_pct'], fromMs, toMs: now + 5 * MIN, maxPoints: 10_000 });
    expect(res?.resolution ?? 'raw').toBe('raw');
    return res ? res.data[0].map((t, i) => [t * 1000, res.data[1]![i]]) : [];
  };

  it('drops a second copy with another ts_ms, in a later batch and in the same one, and leaves the node as it was', async () => {
    const { store } = await opened();
    expect(await insert(store, 'pi', [sample(0, now - 2000, 10), sample(1, now - 1000, 11)])).toEqual({ inserted: 2, duplicates: 0 });
    const before = (await store.listNodes())[0]!;
    // The same seq 1 with a later time (a node whose clock stepped), then with an earlier one.
    expect(await insert(store, 'pi', [sample(1, now + 30_000, 99)])).toEqual({ inserted: 0, duplicates: 1 });
    expect(await insert(store, 'pi', [sample(1, now - HOUR, 98)])).toEqual({ inserted: 0, duplicates: 1 });
    // Two copies of seq 2 in one batch: the first stays.
    expect(await insert(store, 'pi', [sample(2, now, 12), sample(2, now + 500, 97)])).toEqual({ inserted: 1, duplicates: 1 });
    expect(await rows(store, 'pi')).toEqual([
      [now - 2000, 10],
      [now - 1000, 11],
      [now, 12],
    ]);
    const after = (await store.listNodes())[0]!;
    expect(after.last_seen_ms).toBe(now);
    expect(after.latest?.cpu_pct).toBe(12);
    expect(before.last_seen_ms).toBe(now - 1000);
  });

  it('stores the same seq of another boot, and of another node', async () => {
    const { store } = await opened();
    await insert(store, 'pi', [sample(0, now - 1000, 1)]);
    expect(await insert(store, 'pi', [sample(0, now, 2, 'b2')])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await insert(store, 'other', [sample(0, now - 500, 3)])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await rows(store, 'pi')).toEqual([
      [now - 1000, 1],
      [now, 2],
    ]);
  });

  it('remembers what it stored across a restart, out of order and with holes', async () => {
    const { store, reopen } = await opened();
    await insert(
      store,
      'pi',
      [5, 6, 0, 1, 9].map((seq) => sample(seq, now - 10_000 + seq * 1000, seq)),
    );
    const again = await reopen();
    const copies = [0, 1, 5, 6, 9].map((seq) => sample(seq, now + seq, 50));
    expect(await insert(again, 'pi', copies)).toEqual({ inserted: 0, duplicates: 5 });
    // The holes are not duplicates.
    expect(
      await insert(
        again,
        'pi',
        [2, 3, 4, 7, 8].map((seq) => sample(seq, now - 10_000 + seq * 1000, seq)),
      ),
    ).toEqual({ inserted: 5, duplicates: 0 });
    expect((await rows(again, 'pi')).map(([, cpu]) => cpu)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('counts a copy of a sample that retention has purged as a duplicate', async () => {
    const { store } = await opened({ raw: HOUR, '1m': 24 * HOUR, '15m': 7 * 24 * HOUR, '1h': 30 * 24 * HOUR });
    await insert(store, 'pi', [sample(0, now - 3 * 24 * HOUR, 1), sample(1, now, 2)]);
    expect(await store.purgeExpired(noPause)).toBeGreaterThanOrEqual(1);
    expect(await rows(store, 'pi', now - 30 * MIN)).toEqual([[now, 2]]);
    expect(await insert(store, 'pi', [sample(0, now - 3 * 24 * HOUR, 1)])).toEqual({ inserted: 0, duplicates: 1 });
    expect(await insert(store, 'pi', [sample(0, now - 1000, 1)])).toEqual({ inserted: 0, duplicates: 1 });
  });

  it('keeps last seen at or before arrival, and the clock skew of the newest live sample', async () => {
    const { store } = await opened();
    const packed = (rowsIn: [Sample, ArrivalClock | undefined][]) => {
      const b = new PackedSamplesBuilder();
      for (const [s, clock] of rowsIn) b.add('pi', s, toPoint(s), encodeSample(s), clock);
      return b.build();
    };
    // A clock 90 s ahead: within the tolerance, so stored at its own time, but not seen in the future.
    await store.insertPacked(packed([[sample(0, now + 90_000, 1), { receivedMs: now, skewMs: 90_000 }]]));
    let node = (await store.listNodes())[0]!;
    expect(node.last_seen_ms).toBe(now);
    expect(node.clock_skew_s).toBe(90);
    expect(await rows(store, 'pi')).toEqual([[now + 90_000, 1]]);
    // A replay (no skew measured) leaves the skew; a newer live sample sets it.
    await store.insertPacked(packed([[sample(1, now + 91_000, 2), { receivedMs: now + 2000, skewMs: null }]]));
    node = (await store.listNodes())[0]!;
    expect([node.last_seen_ms, node.clock_skew_s]).toEqual([now + 2000, 90]);
    await store.insertPacked(packed([[sample(2, now + 5000, 3), { receivedMs: now + 5040, skewMs: -40 }]]));
    node = (await store.listNodes())[0]!;
    expect([node.last_seen_ms, node.clock_skew_s]).toEqual([now + 5000, -0.04]);
    expect((await store.nodeDetail('pi'))!.clock_skew_s).toBe(-0.04);
  });
});

describe('PostgreSQL: two hubs storing copies of one sample at once', () => {
  it('keeps one, whichever commits first, and counts the other as a duplicate', async () => {
    const url = await server.createDatabase();
    const now = Date.UTC(2026, 2, 10, 12, 0, 0);
    const hubs: PgStore[] = [await openPgStore(url, { now: () => now }), await openPgStore(url, { now: () => now })];
    try {
      for (let round = 0; round < 20; round++) {
        // Each hub gets the same seqs of the same node, at other times (one copy corrected by its hub).
        const batch = (offset: number) =>
          Array.from({ length: 5 }, (_, i) => {
            const s: Sample = { v: 1, boot: 'b1', seq: round * 5 + i, ts_ms: now + (round * 5 + i) * 1000 + offset, cpu_pct: i };
            return { node: 'pi', sample: s, raw: encodeSample(s) };
          });
        const results = await Promise.all([hubs[0]!.insertBatch(batch(0)), hubs[1]!.insertBatch(batch(250))]);
        expect(results[0]!.inserted + results[1]!.inserted).toBe(5);
        expect(results[0]!.duplicates + results[1]!.duplicates).toBe(5);
      }
      const { rows } = await hubs[0]!.pool.query<{ n: number; distinct_seqs: number }>(
        'SELECT count(*) AS n, count(DISTINCT seq)::int AS distinct_seqs FROM samples',
      );
      expect(rows[0]).toEqual({ n: 100, distinct_seqs: 100 });
    } finally {
      for (const h of hubs) await h.close();
    }
  });
});

describe('PostgreSQL schema step 5 on a database from before it', () => {
  it('keeps the earliest of the copies already stored, knows every stored seq, and unpins a last seen in the future', async () => {
    const url = await server.createDatabase();
    const now = Date.now();
    const first = await openPgStore(url, { now: () => now });
    const s = (seq: number, ts: number, cpu: number, boot = 'b1'): Sample => ({ v: 1, boot, seq, ts_ms: ts, cpu_pct: cpu });
    await first.insertBatch(
      [s(0, now - 3000, 10), s(1, now - 2000, 11), s(2, now - 1000, 12), s(7, now, 17), s(0, now, 20, 'b2')].map((x) => ({
        node: 'pinned',
        sample: x,
        raw: encodeSample(x),
      })),
    );
    // As a hub before step 5 left it: copies of seq 1 under other times, a last seen at 2^53 − 1, no sample_seqs.
    // Their days' partitions first: run just after midnight, two hours ago was yesterday.
    const copyTimes = [now + 3600_000, now - 7200_000];
    await createPartitions(first.pool, copyTimes.map(dayOf));
    await first.pool.query(
      `INSERT INTO samples (node_id, boot_id, ts_ms, seq, cpu_pct)
      SELECT node_id, boot_id, t, seq, 99 FROM samples, unnest($1::bigint[]) AS t WHERE seq = 1`,
      [copyTimes],
    );
    await first.pool.query('UPDATE nodes SET last_seen_ms = $1', [Number.MAX_SAFE_INTEGER]);
    await first.pool.query('DROP TABLE sample_seqs');
    await first.pool.query('DELETE FROM schema_version WHERE version >= 5'); // step 5 and the later ones (each is idempotent)
    await first.close();

    const store = await openPgStore(url, { now: () => now });
    try {
      const { rows } = await store.pool.query<{ seq: number; ts_ms: number; cpu_pct: number }>(
        "SELECT seq, ts_ms, cpu_pct FROM samples JOIN boots ON boots.id = boot_id WHERE boot = 'b1' ORDER BY seq",
      );
      expect(rows).toEqual([
        { seq: 0, ts_ms: now - 3000, cpu_pct: 10 },
        { seq: 1, ts_ms: now - 7200_000, cpu_pct: 99 },
        { seq: 2, ts_ms: now - 1000, cpu_pct: 12 },
        { seq: 7, ts_ms: now, cpu_pct: 17 },
      ]);
      const again = [s(0, now + 1, 1), s(1, now + 2, 1), s(2, now + 3, 1), s(7, now + 4, 1), s(0, now + 5, 1, 'b2')];
      expect(await store.insertBatch(again.map((x) => ({ node: 'pinned', sample: x, raw: encodeSample(x) })))).toEqual({ inserted: 0, duplicates: 5 });
      const next = [s(3, now + 10, 1), s(4, now + 20, 1)];
      expect(await store.insertBatch(next.map((x) => ({ node: 'pinned', sample: x, raw: encodeSample(x) })))).toEqual({ inserted: 2, duplicates: 0 });
      expect((await store.listNodes())[0]!.last_seen_ms).toBe(now + 20);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite: a transaction that rolls back', () => {
  it('forgets the seqs it stored, so that they are stored when sent again', async () => {
    const store: SqliteStore = openSqliteStore(join(tempDir(), 'remonitor.db'));
    try {
      const s: Sample = { v: 1, boot: 'b1', seq: 0, ts_ms: Date.UTC(2026, 0, 1), cpu_pct: 5 };
      const batch = [{ node: 'pi', sample: s, raw: encodeSample(s) }];
      // As ingest's writer does: the store's insert inside a larger transaction that then fails.
      expect(() =>
        store.db.transaction(() => {
          store.insertBatch(batch);
          throw new Error('disk full at commit');
        })(),
      ).toThrow('disk full');
      store.rolledBack();
      expect(store.insertBatch(batch)).toEqual({ inserted: 1, duplicates: 0 });
    } finally {
      store.close();
    }
  });
});

describe('SQLite migration 009 of a database from before it', () => {
  it('keeps the first of the copies already stored, knows every stored seq, and unpins a last seen in the future', () => {
    const dir = tempDir();
    const path = join(dir, 'remonitor.db');
    const migrations = new URL('../../hub/storage/sqlite/migrations/', import.meta.url);
    const old = new Database(path);
    for (const file of readdirSync(migrations)
      .filter((f) => /^00[1-8]_.*\.sql$/.test(f))
      .sort())
      old.exec(readFileSync(new URL(file, migrations), 'utf8'));
    old.pragma('user_version = 8');
    const now = Date.now();
    old.prepare("INSERT INTO nodes (id, name, last_seen_ms) VALUES (1, 'pinned', ?), (2, 'fine', ?)").run(Number.MAX_SAFE_INTEGER, now - MIN);
    const put = old.prepare('INSERT INTO samples (node_id, ts_ms, seq, boot, cpu_pct) VALUES (?, ?, ?, ?, ?)');
    // Seq 1 of node 1 stored three times at three times (the first, then at 2^53 − 1 and in 2001).
    const rowsIn: [number, number, number, string, number][] = [
      [1, now - 3000, 0, 'b1', 10],
      [1, now - 2000, 1, 'b1', 11],
      [1, Number.MAX_SAFE_INTEGER, 1, 'b1', 99],
      [1, Date.UTC(2001, 0, 1), 1, 'b1', 98],
      [1, now - 1000, 2, 'b1', 12],
      [1, now, 7, 'b1', 17],
      [1, now, 0, 'b2', 20],
      [2, now - 500, 3, 'b1', 30],
    ];
    for (const r of rowsIn) put.run(...r);
    old.close();

    const store = openSqliteStore(path);
    try {
      const kept = store.db.prepare('SELECT node_id, seq, boot, cpu_pct FROM samples ORDER BY node_id, boot, seq').raw().all();
      expect(kept).toEqual([
        [1, 0, 'b1', 10],
        [1, 1, 'b1', 11],
        [1, 2, 'b1', 12],
        [1, 7, 'b1', 17],
        [1, 0, 'b2', 20],
        [2, 3, 'b1', 30],
      ]);
      const s = (seq: number, boot = 'b1'): Sample => ({ v: 1, boot, seq, ts_ms: now + 5000 + seq, cpu_pct: 1 });
      const send = (node: string, samples: Sample[]) => store.insertBatch(samples.map((x) => ({ node, sample: x, raw: encodeSample(x) })));
      expect(send('pinned', [s(0), s(1), s(2), s(7), s(0, 'b2')])).toEqual({ inserted: 0, duplicates: 5 });
      expect(send('fine', [s(3)])).toEqual({ inserted: 0, duplicates: 1 });
      expect(send('pinned', [s(3), s(4)])).toEqual({ inserted: 2, duplicates: 0 });
      const nodes = Object.fromEntries(store.listNodes().map((n) => [n.name, n.last_seen_ms]));
      // The pinned node took its next sample's time; the other kept its own.
      expect(nodes).toEqual({ pinned: now + 5004, fine: now - MIN });
    } finally {
      store.close();
    }
  });
});
