// Labelled series on PostgreSQL against a real server (one per file, a fresh database per test),
// each answer compared with the SQLite store's for the same samples through the same routes: the
// list, raw ranges (each sample, and means over steps), minute buckets from the rollup run, a
// node's own series, the label-set cap, two hubs sharing the database, retention and removal.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { openPgStore, type PgStore } from '../../hub/storage/postgres/pg-store.ts';
import { listPartitionDays } from '../../hub/storage/postgres/pg-partitions.ts';
import { MAX_SERIES_PER_NODE_MINUTE } from '../../hub/storage/labelled-series.ts';
import type { Retention } from '../../hub/storage/rollups.ts';
import { labelledRoutes } from '../../web/labelled-routes.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';
import { usePostgres } from '../helpers/use-postgres.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const noPause = async () => undefined;

const server = usePostgres();
afterEach(runCleanups);

/** Every 10 s from T0 (6 a minute): two cores, two mounts, an interface and a container. */
function sample(seq: number, boot = 'b1'): Sample {
  return {
    v: 1,
    boot,
    seq,
    ts_ms: T0 + seq * 10_000,
    cpu_pct: 10,
    cpu_core_pct: [seq % 2 === 0 ? 10 : 20, 50 + (seq % 3)],
    filesystems: [
      { mount: '/', size_bytes: 1000, used_bytes: 400 + seq, used_pct: 40 },
      { mount: '/boot', size_bytes: 100, used_bytes: 10, used_pct: 10 },
    ],
    net: [{ iface: 'eth0', rx_bps: 1000 * seq, tx_bps: 5 }],
    series: [
      { name: 'container_cpu_pct', labels: { container: 'nginx' }, value: 3 + (seq % 4) },
      { name: 'queue_depth', labels: { queue: 'mail', host: 'a' }, value: seq },
    ],
  };
}
const incoming = (node: string, s: Sample) => ({ node, sample: s, raw: encodeSample(s) });

/** A SQLite store and a PostgreSQL store on one clock, each behind the labelled routes. */
async function bothStores(retention?: Retention) {
  let now = T0 + 3 * HOUR;
  const clock = () => now;
  const sqlite: SqliteStore = openSqliteStore(join(tempDir(), 'remonitor.db'), { now: clock, ...(retention ? { retention } : {}) });
  cleanup(() => sqlite.close());
  const url = await server.createDatabase();
  const pg: PgStore = await openPgStore(url, { now: clock, ...(retention ? { retention } : {}) });
  cleanup(() => pg.close());
  const sqliteApp = labelledRoutes(sqlite, clock);
  const pgApp = labelledRoutes(pg, clock);
  const get = async (app: typeof sqliteApp, path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    sqlite,
    pg,
    url,
    setNow: (ms: number) => (now = ms),
    clock,
    /** Both answers to `path`, after checking they are equal. */
    same: async (path: string) => {
      const [a, b] = [await get(sqliteApp, path), await get(pgApp, path)];
      expect(b, path).toEqual(a);
      return a;
    },
    insert: async (node: string, samples: Sample[]) => {
      const batch = samples.map((s) => incoming(node, s));
      const [a, b] = [sqlite.insertBatch(batch), await pg.insertBatch(batch)];
      expect(b).toEqual(a);
    },
    derive: async () => {
      await sqlite.deriveRollups(noPause);
      await pg.deriveRollups(noPause);
    },
  };
}

const range = (metric: string, fromMs: number, toMs: number, points?: number, node = 'pi') =>
  `/api/nodes/${node}/labelled/${metric}?from=${fromMs}&to=${toMs}${points ? `&points=${points}` : ''}`;
const METRICS = ['cpu_core_pct', 'fs_used_bytes', 'fs_used_pct', 'iface_rx_bps', 'container_cpu_pct', 'queue_depth'];

describe('labelled series on PostgreSQL, beside SQLite', () => {
  it('lists, reads raw and reads minute means as SQLite does', async () => {
    const s = await bothStores();
    const samples = Array.from({ length: 60 }, (_, seq) => sample(seq)); // 10 minutes
    await s.insert('pi', samples.slice(0, 30));
    await s.insert('pi', samples.slice(30));

    const list = await s.same('/api/nodes/pi/labelled');
    expect((list.body.metrics as { name: string }[]).map((m) => m.name).sort()).toEqual([...METRICS, 'fs_size_bytes', 'iface_tx_bps'].sort());
    expect((await s.same('/api/nodes/nobody/labelled')).status).toBe(404);
    expect((await s.same(range('cpu_core_pct', T0, T0 + 600_000, undefined, 'nobody'))).status).toBe(404);

    for (const metric of METRICS) {
      // Each sample, then means over 20 s steps (more samples than points).
      const raw = (await s.same(range(metric, T0, T0 + 600_000))).body;
      expect(raw.resolution).toBe('raw');
      expect((raw.data as number[][])[0]).toHaveLength(60);
      const stepped = (await s.same(range(metric, T0, T0 + 600_000, 30))).body;
      expect([stepped.resolution, stepped.step_s]).toEqual(['raw', 20]);
    }
    const cores = (await s.same(range('cpu_core_pct', T0, T0 + 600_000))).body;
    expect(cores.labels).toEqual([{ cpu: '0' }, { cpu: '1' }]);
    expect((cores.data as number[][])[1]!.slice(0, 4)).toEqual([10, 20, 10, 20]);
    const queue = (await s.same(range('queue_depth', T0, T0 + 600_000))).body;
    expect(queue.labels).toEqual([{ host: 'a', queue: 'mail' }]);

    // No buckets before the rollup run; after it, each minute's mean, from both stores alike.
    const long = (metric: string, points = 2000) => range(metric, T0 - DAY, T0 + 600_000, points);
    expect(((await s.same(long('cpu_core_pct'))).body.data as number[][])[0]).toEqual([]);
    await s.derive();
    for (const metric of METRICS) {
      const minutes = (await s.same(long(metric))).body;
      expect(minutes.resolution).toBe('1m');
      expect((minutes.data as number[][])[0]).toHaveLength(10);
      // Five-minute steps: means of the minutes' buckets.
      expect(((await s.same(long(metric, 288))).body.data as number[][])[0]).toHaveLength(2);
    }
    expect(new Set(((await s.same(long('cpu_core_pct'))).body.data as number[][])[1])).toEqual(new Set([15]));
    expect(((await s.same(long('fs_used_bytes'))).body.data as number[][])[1]![0]).toBe(400 + 2.5); // seqs 0–5

    // A rollup run with nothing new changes nothing; a sample added to a minute already built is
    // counted in by the next run (PostgreSQL: marked in the batch, rebuilt from the blobs).
    expect(await s.pg.deriveRollups(noPause)).toBe(0);
    const late = { ...sample(3, 'b2'), ts_ms: T0 + 35_000, cpu_core_pct: [100, 50] };
    await s.insert('pi', [late]);
    await s.derive();
    expect(((await s.same(long('cpu_core_pct'))).body.data as number[][])[1]![0]).toBeCloseTo((3 * 10 + 3 * 20 + 100) / 7, 10);
  });

  it('buckets at most MAX_SERIES_PER_NODE_MINUTE label sets a node a minute, and says so once', async () => {
    let told = 0;
    const pg = await openPgStore(await server.createDatabase(), { now: () => T0 + HOUR, log: { info: () => void told++ } });
    cleanup(() => pg.close());
    const many = (seq: number): Sample => ({
      v: 1,
      boot: 'b',
      seq,
      ts_ms: T0 + seq * 1000,
      series: Array.from({ length: MAX_SERIES_PER_NODE_MINUTE + 5 }, (_, i) => ({ name: 'req_ms', labels: { id: String(i + seq) }, value: i })),
    });
    await pg.insertBatch([incoming('pi', many(0)), incoming('pi', many(1))]);
    await pg.deriveRollups(noPause);
    const { rows } = await pg.pool.query<{ n: number }>('SELECT count(*) AS n FROM labelled_rollups');
    expect(rows[0]!.n).toBe(MAX_SERIES_PER_NODE_MINUTE);
    expect(told).toBe(1);
  });

  it('gets the same buckets when two hubs store and roll up the same node at once', async () => {
    const s = await bothStores();
    const other = await openPgStore(s.url, { now: s.clock });
    cleanup(() => other.close());
    const samples = Array.from({ length: 120 }, (_, seq) => sample(seq)); // 20 minutes
    await s.sqlite.insertBatch(samples.map((x) => incoming('pi', x)));
    // Batches of 5 taken in turns by the two hubs, each hub running its rollups between them.
    const hubs = [s.pg, other];
    await Promise.all(
      hubs.map(async (hub, h) => {
        for (let first = h * 5, k = 0; first < samples.length; first += 10, k++) {
          await hub.insertBatch(samples.slice(first, first + 5).map((x) => incoming('pi', x)));
          if (k % 2 === h) await hub.deriveRollups(noPause);
        }
      }),
    );
    await s.derive();
    for (const metric of METRICS) {
      const minutes = (await s.same(range(metric, T0 - DAY, T0 + 1_200_000, 2000))).body;
      expect((minutes.data as number[][])[0]).toHaveLength(20);
    }
    expect((await s.pg.pool.query<{ n: number }>('SELECT count(*) AS n FROM labelled_dirty')).rows[0]!.n).toBe(0);
  });

  it('keeps buckets for the 1 min retention (a day goes whole) and drops a removed node’s', async () => {
    const retention: Retention = { raw: DAY, '1m': 3 * DAY, '15m': 90 * DAY, '1h': 730 * DAY };
    const s = await bothStores(retention);
    await s.insert(
      'pi',
      Array.from({ length: 60 }, (_, seq) => sample(seq)),
    );
    await s.derive();
    expect(await listPartitionDays(s.pg.pool, 'labelled_rollups')).toContain(T0 - (T0 % DAY));
    const long = range('cpu_core_pct', T0 - DAY, T0 + 600_000, 2000);
    const built = (await s.same(long)).body;

    // Raw samples gone (their day past the raw retention), the buckets still serve the range.
    s.setNow(T0 + 2 * DAY + HOUR);
    await s.sqlite.purgeExpired(noPause);
    await s.pg.purgeExpired(noPause);
    expect((await s.pg.pool.query<{ n: number }>('SELECT count(*) AS n FROM samples')).rows[0]!.n).toBe(0);
    expect((await s.same(long)).body).toEqual(built);
    expect(((await s.same(range('cpu_core_pct', T0, T0 + 600_000))).body.data as number[][])[0]).toEqual([]);

    // Past the 1 min retention, with the whole day: gone from both.
    s.setNow(T0 + 5 * DAY);
    await s.sqlite.purgeExpired(noPause);
    expect(await s.pg.purgeExpired(noPause)).toBeGreaterThan(0);
    expect((await s.same(long)).body.labels).toEqual([]);
    expect(await listPartitionDays(s.pg.pool, 'labelled_rollups')).not.toContain(T0 - (T0 % DAY));

    // A node removed with its data: its series go too.
    await s.insert(
      'gone',
      [sample(0)].map((x) => ({ ...x, ts_ms: T0 + 5 * DAY - MIN })),
    );
    await s.derive();
    expect(
      (await s.pg.pool.query<{ n: number }>("SELECT count(*) AS n FROM labelled_series s JOIN nodes n ON n.id = s.node_id WHERE n.name = 'gone'")).rows[0]!.n,
    ).toBeGreaterThan(0);
    await s.pg.removeNode('gone', { purge: true, atMs: T0 + 5 * DAY }, noPause);
    for (const table of ['labelled_series', 'labelled_dirty']) {
      const { rows } = await s.pg.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} t JOIN nodes n ON n.id = t.node_id WHERE n.name = 'gone'`);
      expect(rows[0]!.n, table).toBe(0);
    }
    expect((await s.pg.pool.query<{ n: number }>('SELECT count(*) AS n FROM labelled_rollups')).rows[0]!.n).toBe(0);
  });
});
