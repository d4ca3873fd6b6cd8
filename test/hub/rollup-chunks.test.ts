// Compaction of rollup buckets and labelled series' minute buckets into chunks (hub/storage/sqlite/rollup-chunks.ts,
// hub/storage/sqlite/labelled-chunks.ts) on real SQLite files: two stores get the same samples, one compacts, and
// every reader of the tiers (the series API at each tier, the labelled routes, a rollup run that
// merges late samples or rebuilds from the raw ones, retention) answers the same from both.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBuckets, decodeChunk, encodeBuckets, encodeChunk, recompressedCold, type ChunkRows } from '../../hub/storage/chunk-codec.ts';
import { mergeChunks } from '../../hub/storage/chunk-merge.ts';
import { sliceBuckets } from '../../hub/storage/sqlite/rollup-chunks.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import type { SeriesMetric } from '../../shared/api-types.ts';
import { labelledRoutes } from '../../web/labelled-routes.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';
import { type ChartRange, expectSameCharts as sameCharts } from '../helpers/same-charts.ts';

afterAll(runCleanups);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// A Friday: the data's three days cross the Thursday 00:00 UTC where the 1 h tier's week windows start.
const NOW = Date.UTC(2026, 10, 27, 12, 20, 0);
const START = NOW - 3 * DAY;
const STEP = 30_000; // two samples a minute: bucket sums of tenths that floating point leaves inexact
const noPause = async () => undefined;
const METRICS: SeriesMetric[] = ['cpu_pct', 'mem_used_bytes', 'temp_c', 'load_1', 'uptime_s'];
const RETENTION = { raw: 14 * DAY, '1m': 14 * DAY, '15m': 90 * DAY, '1h': 730 * DAY };

/** Sample k of a node: every 30 s, some metrics absent now and then, two cores as labelled series. */
function sample(k: number, node: number): Sample {
  return {
    v: 1,
    boot: 'b1',
    seq: k,
    ts_ms: START + k * STEP,
    cpu_pct: ((k * 7 + node) % 1000) / 10,
    mem_used_bytes: 3_000_000_000 + (k % 5000) * 4096 * node,
    temp_c: k % 4 === 0 ? undefined : 45 + (k % 90) / 10,
    load_1: (k % 250) / 100,
    uptime_s: 86_400 + k * 30,
    cpu_core_pct: [(k % 100) / 10, ((k * 3) % 1000) / 10],
  };
}
const items = (node: string, ks: number[]) => ks.map((k) => ({ node, sample: sample(k, node.length), raw: encodeSample(sample(k, node.length)) }));
const SAMPLES = Math.floor((NOW - START) / STEP);

async function twinStores() {
  const dir = tempDir();
  const clock = { now: NOW };
  const open = (name: string) => openSqliteStore(join(dir, name), { now: () => clock.now, retention: RETENTION });
  const compacted = open('compacted.db');
  const rows = open('rows.db');
  // Every 30th sample is held back, to come late.
  const early = Array.from({ length: SAMPLES }, (_, k) => k).filter((k) => k % 30 !== 11);
  for (const store of [compacted, rows]) {
    for (let i = 0; i < early.length; i += 2000) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, early.slice(i, i + 2000)));
      await store.deriveRollups(noPause);
    }
  }
  return { compacted, rows, clock, late: Array.from({ length: SAMPLES }, (_, k) => k).filter((k) => k % 30 === 11) };
}

const count = (store: SqliteStore, sql: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${sql}`).get() as { n: number }).n;
const allRollups = (store: SqliteStore) => store.db.prepare('SELECT * FROM rollups ORDER BY tier, node_id, bucket_ms').all();
const allLabelled = (store: SqliteStore) => store.db.prepare('SELECT * FROM labelled_rollups ORDER BY series_id, bucket_ms').all();

/** Every bucket of the compacted store as rows (its chunks moved back), to compare with the other's rows; then compacted again. */
async function bucketsOf(store: SqliteStore): Promise<{ rollups: unknown[]; labelled: unknown[] }> {
  store.db.transaction(() => {
    for (const node of [1, 2]) {
      store.rollupChunks.expandFrom(node, 0);
      store.labelled.compacted.expand(
        node,
        Array.from({ length: 5 * 24 * 60 }, (_, m) => Math.floor((START - DAY) / 60_000) + m),
      );
    }
  })();
  expect(count(store, 'rollup_chunks') + count(store, 'labelled_chunks')).toBe(0);
  const out = { rollups: allRollups(store), labelled: allLabelled(store) };
  await store.purgeExpired(noPause);
  return out;
}

/** Chart ranges that pick each tier, over compacted windows, rows and both. */
const CHARTS: ChartRange[] = [
  ['a day at 1,000 points (1 min tier), all compacted', START, START + DAY, 1000],
  ['a day across compacted and rows (1 min)', NOW - DAY, NOW, 1000],
  ['6 h at 100 points (1 min, 4-min steps) from an odd time', START + 5 * HOUR + 1234, START + 11 * HOUR, 100],
  ['3 days at 200 points (15 min tier)', START, NOW, 200],
  ['3 days at 50 points (1 h tier)', START, NOW, 50],
];

const expectSameCharts = (compacted: SqliteStore, rows: SqliteStore) => sameCharts(compacted, rows, CHARTS, ['a', 'bb'], METRICS);

async function labelledChart(store: SqliteStore, fromMs: number, toMs: number, points: number): Promise<unknown> {
  const res = await labelledRoutes(store, () => NOW).request(`/api/nodes/bb/labelled/cpu_core_pct?from=${fromMs}&to=${toMs}&points=${points}`);
  expect(res.status).toBe(200);
  return res.json();
}

/** The compacted store's charts, per-core chart included, are the other's. */
async function expectSameReads(compacted: SqliteStore, rows: SqliteStore): Promise<void> {
  expectSameCharts(compacted, rows);
  expect(await labelledChart(compacted, START, NOW, 300)).toEqual(await labelledChart(rows, START, NOW, 300));
}

/** The compacted store's buckets, moved back into rows, are the other's (bucketsOf). */
async function expectSameBuckets(compacted: SqliteStore, rows: SqliteStore): Promise<void> {
  const back = await bucketsOf(compacted);
  expect(back.rollups).toEqual(allRollups(rows));
  expect(back.labelled).toEqual(allLabelled(rows));
}

describe('compaction of rollups into chunks', () => {
  it("moves each tier's buckets of whole hours that ended 10 min ago into their windows' chunks, read back exactly by every reader", async () => {
    const { compacted, rows, clock } = await twinStores();
    const rowsBefore = count(compacted, 'rollups');
    await compacted.purgeExpired(noPause);
    // Whole hours that ended 10 min ago, to 12:00 on the 27th, are in chunks: windows of 6 h of the 1 min tier, days of 15 min, weeks of 1 h, the last of each up to 12:00.
    const chunks = (tier: number) => count(compacted, `rollup_chunks WHERE tier = ${tier}`);
    expect(chunks(60)).toBe(2 * 12); // 12:00 on the 24th to 06:00–12:00 on the 27th, each node
    expect(chunks(900)).toBe(2 * 4); // the 24th, 25th, 26th, and the 27th to 12:00
    expect(chunks(3600)).toBe(2 * 2); // the week to Thursday 26th, and the next to 12:00 on the 27th
    // A window with its last hour in was compressed again, harder, once (each 6 h of the 1 min tier);
    // one still growing (the 27th's 15 min buckets to 12:00) was not.
    const compressedAgain = async (where: string) => {
      const rows = compacted.db.prepare(`SELECT data FROM rollup_chunks WHERE ${where}`).all() as { data: Buffer }[];
      return Promise.all(rows.map(async ({ data }) => (await recompressedCold(data)) === null));
    };
    expect(await compressedAgain('tier = 60')).toEqual(new Array(2 * 12).fill(true));
    expect(await compressedAgain(`tier = 900 AND start_ms = ${Date.UTC(2026, 10, 27)}`)).toEqual([false, false]);
    const oldestRow = (tier: number) => (compacted.db.prepare('SELECT min(bucket_ms) AS b FROM rollups WHERE tier = ?').get(tier) as { b: number }).b;
    for (const tier of [60, 900, 3600]) expect(oldestRow(tier)).toBe(Date.UTC(2026, 10, 27, 12));
    expect(count(compacted, 'rollups')).toBeLessThan(rowsBefore / 20);
    expect(count(compacted, 'labelled_rollups')).toBe(2 * 2 * 20); // two cores of two nodes, 12:00 to 12:20
    expect(count(compacted, 'labelled_chunks')).toBe(2 * 2 * 4); // two cores of two nodes, a chunk a day
    await expectSameReads(compacted, rows);
    expect(await labelledChart(compacted, START + 7 * HOUR, START + 9 * HOUR, 500)).toEqual(await labelledChart(rows, START + 7 * HOUR, START + 9 * HOUR, 500));
    // min, max, sum and count of every bucket, as the rows held them.
    await expectSameBuckets(compacted, rows);
    expect(chunks(60)).toBe(2 * 12);
    // An hour on, the coarser tiers' buckets of 12:00 go into their chunks too, as the 1 min tier's do.
    clock.now += HOUR;
    await compacted.purgeExpired(noPause);
    for (const tier of [60, 900, 3600]) expect(count(compacted, `rollups WHERE tier = ${tier}`)).toBe(0);
    compacted.close();
    rows.close();
  }, 180_000);

  it("leaves the chunks as they are when a rollup run writes this hour's samples, and moves back only what follows a late one", async () => {
    const { compacted, rows } = await twinStores();
    await compacted.purgeExpired(noPause);
    const chunkBytes = (store: SqliteStore) => store.db.prepare('SELECT * FROM rollup_chunks ORDER BY tier, node_id, start_ms').all();
    const labelledChunkBytes = (store: SqliteStore) => store.db.prepare('SELECT * FROM labelled_chunks ORDER BY series_id, start_ms').all();
    const before = { rollups: chunkBytes(compacted), labelled: labelledChunkBytes(compacted) };
    // The next minute's samples, as a live hub's run every minute writes them.
    for (const store of [compacted, rows]) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, [SAMPLES, SAMPLES + 1]));
      await store.deriveRollups(noPause);
    }
    expect(chunkBytes(compacted)).toEqual(before.rollups);
    expect(labelledChunkBytes(compacted)).toEqual(before.labelled);
    expectSameCharts(compacted, rows);
    // The first sample held back after 11:00 (11:10:30) comes late: the 1 min buckets from 11:00 on (the 1 h tier is derived from its hour)
    // and the coarser ones from their buckets that hold it go back to rows; older ones stay in their chunks.
    const after11 = (Date.UTC(2026, 10, 27, 11) - START) / STEP;
    const lateK = after11 + ((((11 - after11) % 30) + 30) % 30);
    expect(START + lateK * STEP).toBe(Date.UTC(2026, 10, 27, 11, 10, 30));
    for (const store of [compacted, rows]) {
      store.insertBatch(items('a', [lateK]));
      await store.deriveRollups(noPause);
    }
    const oldestRow = (tier: number) =>
      (
        compacted.db.prepare("SELECT min(bucket_ms) AS b FROM rollups JOIN nodes ON nodes.id = node_id WHERE tier = ? AND name = 'a'").get(tier) as {
          b: number;
        }
      ).b;
    expect(oldestRow(60)).toBe(Date.UTC(2026, 10, 27, 11));
    expect(oldestRow(3600)).toBe(Date.UTC(2026, 10, 27, 11));
    expect(count(compacted, 'rollup_chunks')).toBe(before.rollups.length);
    const window = compacted.db
      .prepare('SELECT buckets, last_ms FROM rollup_chunks WHERE tier = 60 AND start_ms = ? AND node_id = 1')
      .get(Date.UTC(2026, 10, 27, 6));
    expect(window).toEqual({ buckets: 5 * 60, last_ms: Date.UTC(2026, 10, 27, 10, 59) });
    await expectSameReads(compacted, rows);
    await expectSameBuckets(compacted, rows);
    compacted.close();
    rows.close();
  }, 180_000);

  it('migrates an older database in place and reads and rewrites its chunks: no last bucket kept, labelled windows of 6 h', async () => {
    const { compacted: older, rows, late, clock } = await twinStores();
    await older.purgeExpired(noPause);
    // The labelled chunks cut in 6 h windows as they were before migration 016, which then had no last_ms.
    const day = older.db.prepare('SELECT series_id, start_ms, data FROM labelled_chunks').all() as { series_id: number; start_ms: number; data: Buffer }[];
    const save = older.db.prepare('INSERT INTO labelled_chunks (series_id, start_ms, buckets, data) VALUES (?, ?, ?, ?)');
    older.db.transaction(() => {
      older.db.exec('DELETE FROM labelled_chunks');
      for (const chunk of day) {
        let rest = decodeBuckets(chunk.data);
        for (let start = chunk.start_ms; rest.bucketMs.length > 0; start += 6 * HOUR) {
          const count = rest.bucketMs.filter((t) => t < start + 6 * HOUR).length;
          const part = sliceBuckets(rest, count);
          rest = { bucketMs: rest.bucketMs.slice(count), n: rest.n.slice(count), columns: rest.columns.map((c) => c.slice(count)) };
          if (count > 0) save.run(chunk.series_id, start, count, encodeBuckets(part));
        }
      }
      older.db.exec('ALTER TABLE rollup_chunks DROP COLUMN last_ms; ALTER TABLE labelled_chunks DROP COLUMN last_ms');
      // Nor had the raw chunks theirs (migration 017): they held a node's hour each, from the hour on.
      const raw = older.db.prepare('SELECT node_id, data FROM sample_chunks ORDER BY node_id, start_ms').all() as { node_id: number; data: Buffer }[];
      const hours = new Map<string, { nodeId: number; hour: number; rows: ChunkRows }>();
      for (const chunk of raw) {
        const rows = decodeChunk(chunk.data);
        for (const hour of new Set(rows.tsMs.map((ts) => Math.floor(ts / HOUR) * HOUR))) {
          const at = rows.tsMs.flatMap((ts, i) => (ts >= hour && ts < hour + HOUR ? [i] : []));
          const part: ChunkRows = {
            tsMs: at.map((i) => rows.tsMs[i]!),
            seq: at.map((i) => rows.seq[i]!),
            boot: at.map((i) => rows.boot[i]!),
            columns: rows.columns.map((c) => at.map((i) => c[i] ?? null)),
            detail: at.map((i) => rows.detail[i] ?? null),
          };
          const key = `${chunk.node_id} ${hour}`;
          const held = hours.get(key);
          hours.set(key, { nodeId: chunk.node_id, hour, rows: held ? mergeChunks(held.rows, part) : part });
        }
      }
      older.db.exec('DELETE FROM sample_chunks; DROP INDEX sample_chunks_by_node_span; ALTER TABLE sample_chunks DROP COLUMN last_ms');
      const saveRaw = older.db.prepare('INSERT INTO sample_chunks (node_id, start_ms, rows, data) VALUES (?, ?, ?, ?)');
      for (const { nodeId, hour, rows } of hours.values()) saveRaw.run(nodeId, hour, rows.tsMs.length, encodeChunk(rows));
      older.db.pragma('user_version = 15');
    })();
    const path = older.db.name;
    older.close();
    const compacted = openSqliteStore(path, { now: () => clock.now, retention: RETENTION });
    expect(compacted.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(16);
    expect(count(compacted, 'rollup_chunks WHERE last_ms IS NULL')).toBe(count(compacted, 'rollup_chunks'));
    expect(count(compacted, 'sample_chunks WHERE last_ms IS NULL')).toBe(count(compacted, 'sample_chunks'));
    expect(count(compacted, 'sample_chunks')).toBeGreaterThan(2 * 24);
    expect(count(compacted, 'labelled_chunks')).toBe(2 * 2 * 12);
    await expectSameReads(compacted, rows);
    // Late samples of the last day: their windows are moved back from their first bucket on, and compacted anew.
    const lastDay = late.filter((k) => START + k * STEP >= NOW - DAY);
    for (const store of [compacted, rows]) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, lastDay));
      await store.deriveRollups(noPause);
    }
    await expectSameReads(compacted, rows);
    await compacted.purgeExpired(noPause);
    expectSameCharts(compacted, rows);
    await expectSameBuckets(compacted, rows);
    compacted.close();
    rows.close();
  }, 180_000);

  it('merges late samples into compacted windows, through the minute sums and through a rebuild from the raw samples', async () => {
    const { compacted, rows, late } = await twinStores();
    await compacted.purgeExpired(noPause);
    const chunks = count(compacted, 'rollup_chunks');
    // Late samples of the first day, as a node's spool replays them after an outage: summed in memory, merged by the run.
    const firstDay = late.filter((k) => START + k * STEP < START + DAY);
    for (const store of [compacted, rows]) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, firstDay));
      await store.deriveRollups(noPause);
    }
    // The windows written into are rows again until the next compaction.
    expect(count(compacted, 'rollup_chunks')).toBeLessThan(chunks);
    await expectSameReads(compacted, rows);
    await compacted.purgeExpired(noPause);
    expect(count(compacted, 'rollup_chunks')).toBe(chunks);
    expectSameCharts(compacted, rows);
    // The rest, then a run that reads the raw samples back (as after a restart with a run left undone).
    const rest = late.filter((k) => START + k * STEP >= START + DAY);
    for (const store of [compacted, rows]) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, rest));
      store.rolledBack();
      await store.deriveRollups(noPause);
    }
    await expectSameReads(compacted, rows);
    await expectSameBuckets(compacted, rows);
    // Nothing acknowledged is lost: every sample is counted in the 1 min tier.
    const counted = rows.db.prepare('SELECT sum(n) AS n FROM rollups WHERE tier = 60').get() as { n: number };
    expect(counted.n).toBe(2 * SAMPLES);
    expect(count(compacted, 'rollup_chunks')).toBe(chunks);
    compacted.close();
    rows.close();
  }, 180_000);

  it("drops a tier's chunks once their window has ended past its retention, and a removed node's", async () => {
    const { compacted, clock } = await twinStores();
    await compacted.purgeExpired(noPause);
    const chunks = (tier: number) => count(compacted, `rollup_chunks WHERE tier = ${tier}`);
    const labelled = count(compacted, 'labelled_chunks');
    // 14 days of the 1 min tier end at 18:20 on the 24th: the 12:00 window ended before, the 18:00 one straddles.
    clock.now = Date.UTC(2026, 10, 24, 18, 20) + 14 * DAY;
    // By then the 27th's last window has ended too and is compacted.
    await compacted.purgeExpired(noPause);
    expect(chunks(60)).toBe(2 * (12 + 1 - 1));
    expect(count(compacted, 'labelled_chunks')).toBe(labelled + 2 * 2 * (1 - 1));
    expect(chunks(900)).toBe(2 * 4);
    expect(chunks(3600)).toBe(2 * 2);
    // A month on, all of the 1 min tier is gone, rows and chunks; 15 min and 1 h stay.
    clock.now = NOW + 30 * DAY;
    await compacted.purgeExpired(noPause);
    expect(chunks(60) + count(compacted, 'rollups WHERE tier = 60') + count(compacted, 'labelled_chunks')).toBe(0);
    expect(chunks(900)).toBe(2 * 4);
    const removed = await compacted.removeNode('bb', { purge: true, atMs: clock.now }, noPause);
    expect(removed!.deleted).toBeGreaterThan(0);
    expect(compacted.db.prepare("SELECT count(*) AS n FROM rollup_chunks JOIN nodes ON nodes.id = node_id WHERE name = 'bb'").get()).toEqual({ n: 0 });
    expect(chunks(900)).toBe(4);
    compacted.close();
  }, 180_000);
});
