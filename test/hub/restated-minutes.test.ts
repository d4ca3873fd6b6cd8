// 1 min buckets of nodes sampled once a minute, kept as the raw samples they repeat
// (hub/storage/restated-minutes.ts, hub/storage/sqlite/rollup-chunks.ts), on real SQLite files: two stores get the
// same samples, one compacts, and every reader of the tiers answers the same from both, through
// late samples, raw retention and a node's removal.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBuckets, encodeBuckets } from '../../hub/storage/chunk-codec.ts';
import { isRestated, restated, restatedBuckets, restatedSums, type RawColumns } from '../../hub/storage/restated-minutes.ts';
import { SAMPLE_COLUMNS } from '../../hub/storage/packed-samples.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import type { SeriesMetric } from '../../shared/api-types.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';
import { type ChartRange, expectSameCharts as sameCharts } from '../helpers/same-charts.ts';

afterAll(runCleanups);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 27, 12, 20, 0);
const START = NOW - 2 * DAY;
const noPause = async () => undefined;
const METRICS: SeriesMetric[] = ['cpu_pct', 'mem_used_bytes', 'temp_c', 'load_1', 'uptime_s'];
const RETENTION = { raw: 14 * DAY, '1m': 14 * DAY, '15m': 90 * DAY, '1h': 730 * DAY };
// 'a' and 'bb' sample once a minute, 17 s into it; 'c' every 30 s, two samples a bucket.
const STEPS: Record<string, number> = { a: 60_000, bb: 60_000, c: 30_000 };
const tsOf = (node: string, k: number) => START + 17_000 + k * STEPS[node]!;

/** Sample k of a node: temperature absent now and then, tenths that sum inexactly. */
function sample(node: string, k: number): Sample {
  return {
    v: 1,
    boot: 'b1',
    seq: k,
    ts_ms: tsOf(node, k),
    cpu_pct: ((k * 7 + node.length) % 1000) / 10,
    mem_used_bytes: 3_000_000_000 + (k % 5000) * 4096 * node.length,
    temp_c: k % 4 === 0 ? undefined : 45 + (k % 90) / 10,
    load_1: (k % 250) / 100,
    uptime_s: 86_400 + k * 60,
  };
}
const items = (node: string, ks: readonly number[]) => ks.map((k) => ({ node, sample: sample(node, k), raw: encodeSample(sample(node, k)) }));
const samplesOf = (node: string) => Math.floor((NOW - START - 17_000) / STEPS[node]!);
// Held back, to come late: every 50th minute of 'a'.
const heldBack = (k: number) => k % 50 === 7;

async function twinStores(retention = RETENTION) {
  const dir = tempDir();
  const clock = { now: NOW };
  const compacted = openSqliteStore(join(dir, 'compacted.db'), { now: () => clock.now, retention });
  const rows = openSqliteStore(join(dir, 'rows.db'), { now: () => clock.now, retention: RETENTION });
  for (const store of [compacted, rows]) {
    for (const node of Object.keys(STEPS)) {
      const ks = Array.from({ length: samplesOf(node) }, (_, k) => k).filter((k) => node !== 'a' || !heldBack(k));
      for (let i = 0; i < ks.length; i += 1000) store.insertBatch(items(node, ks.slice(i, i + 1000)));
    }
    await store.deriveRollups(noPause);
  }
  return { compacted, rows, clock };
}

const count = (store: SqliteStore, sql: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${sql}`).get() as { n: number }).n;
const minuteChunks = (store: SqliteStore, node: string) =>
  store.db.prepare('SELECT start_ms, data FROM rollup_chunks JOIN nodes ON nodes.id = node_id WHERE tier = 60 AND name = ? ORDER BY start_ms').all(node) as {
    start_ms: number;
    data: Buffer;
  }[];
const restatedStarts = (store: SqliteStore, node: string) =>
  minuteChunks(store, node)
    .filter((c) => isRestated(c.data))
    .map((c) => c.start_ms);

/** Chart ranges over each tier, compacted windows and rows. */
const CHARTS: ChartRange[] = [
  ['a day at 1,000 points (1 min tier), all compacted', START, START + DAY, 1000],
  ['a day across compacted and rows (1 min)', NOW - DAY, NOW, 1000],
  ['6 h at 100 points (1 min, 4-min steps) from an odd time', START + 5 * HOUR + 1234, START + 11 * HOUR, 100],
  ['2 days at 200 points (15 min tier)', START, NOW, 200],
  ['2 days at 40 points (1 h tier)', START, NOW, 40],
];

const expectSameCharts = (compacted: SqliteStore, rows: SqliteStore) => sameCharts(compacted, rows, CHARTS, Object.keys(STEPS), METRICS);

const allRollups = (store: SqliteStore) => store.db.prepare('SELECT * FROM rollups ORDER BY tier, node_id, bucket_ms').all();

/** Every bucket of the compacted store moved back into rows (restated ones read from raw) is the other's; then compacted again. */
async function expectSameBuckets(compacted: SqliteStore, rows: SqliteStore): Promise<void> {
  compacted.db.transaction(() => {
    for (const node of [1, 2, 3]) compacted.rollupChunks.expandFrom(node, 0);
  })();
  expect(count(compacted, 'rollup_chunks')).toBe(0);
  expect(allRollups(compacted)).toEqual(allRollups(rows));
  await compacted.purgeExpired(noPause);
}

describe('1 min buckets restated from raw samples', () => {
  it('keeps the windows of a node sampled once a minute as the samples they repeat, and every reader answers as from rows', async () => {
    const { compacted, rows } = await twinStores();
    await compacted.purgeExpired(noPause);
    // Windows of 6 h from 12:00 on the 25th up to 12:00 on the 27th, each node: 8 of them.
    for (const node of Object.keys(STEPS)) expect(minuteChunks(compacted, node)).toHaveLength(8);
    expect(restatedStarts(compacted, 'a')).toHaveLength(8);
    expect(restatedStarts(compacted, 'bb')).toHaveLength(8);
    expect(restatedStarts(compacted, 'c')).toEqual([]); // two samples a bucket
    // A restated window costs a small part of its buckets' chunk.
    const restatedBytes = minuteChunks(compacted, 'bb').reduce((sum, c) => sum + c.data.length, 0);
    // The same buckets as a chunk, from the twin that keeps them as rows.
    const asBuckets = minuteChunks(compacted, 'bb').reduce((sum, c) => sum + encodeBuckets(bucketsFromRows(rows, 2, c.start_ms)).length, 0);
    expect(restatedBytes).toBeLessThan(asBuckets / 3);
    expectSameCharts(compacted, rows);
    await expectSameBuckets(compacted, rows);
    expect(restatedStarts(compacted, 'a')).toHaveLength(8);
    compacted.close();
    rows.close();
  }, 120_000);

  it('answers with the late samples of a restated window, a second one in a minute and one in an empty minute', async () => {
    const { compacted, rows } = await twinStores();
    await compacted.purgeExpired(noPause);
    const windowStart = Date.UTC(2026, 10, 26, 6);
    expect(restatedStarts(compacted, 'a')).toContain(windowStart);
    // 'a' minute 7 of each 50 comes now; and a second sample in a minute that has one, seq after the rest.
    const late = Array.from({ length: samplesOf('a') }, (_, k) => k).filter(heldBack);
    const extra = { ...sample('a', 1100), seq: 100_000, ts_ms: tsOf('a', 1100) + 20_000, cpu_pct: 99.9 };
    expect(extra.ts_ms).toBe(Date.UTC(2026, 10, 26, 6, 40, 37));
    for (const store of [compacted, rows]) {
      store.insertBatch(items('a', late));
      store.insertBatch([{ node: 'a', sample: extra, raw: encodeSample(extra) }]);
      await store.deriveRollups(noPause);
    }
    expectSameCharts(compacted, rows);
    await compacted.purgeExpired(noPause);
    // The window with a bucket of two samples is kept as buckets; the others are restated again.
    expect(restatedStarts(compacted, 'a')).not.toContain(windowStart);
    expect(restatedStarts(compacted, 'a').length).toBeGreaterThanOrEqual(6);
    expectSameCharts(compacted, rows);
    await expectSameBuckets(compacted, rows);
    compacted.close();
    rows.close();
  }, 120_000);

  it('writes restated windows out as buckets before raw retention purges the samples they name, and removes a node', async () => {
    const { compacted, rows, clock } = await twinStores({ ...RETENTION, raw: DAY });
    await compacted.purgeExpired(noPause);
    // Raw samples from 12:20 on the 26th are kept: the windows from 18:00 on stay restated.
    expect(restatedStarts(compacted, 'a')).toEqual([Date.UTC(2026, 10, 26, 18), Date.UTC(2026, 10, 27), Date.UTC(2026, 10, 27, 6)]);
    expect(minuteChunks(compacted, 'a')).toHaveLength(8);
    // Raw goes a chunk at a time (a day's window, 900 samples at most): the 25th's are gone.
    expect(compacted.chunks.rows(1, START, Date.UTC(2026, 10, 26) - 1, [0])).toEqual([]);
    expect(compacted.chunks.rows(1, NOW - DAY, NOW, [0]).length).toBeGreaterThan(1400);
    expectSameCharts(compacted, rows);
    // Six hours on, the next window's samples go: it is written out first. A store opened anew does the same.
    clock.now += 6 * HOUR;
    compacted.close();
    const reopened = openSqliteStore(compacted.db.name, { now: () => clock.now, retention: { ...RETENTION, raw: DAY } });
    await reopened.purgeExpired(noPause);
    // 18:00 on the 26th written out; 12:00 on the 27th (its 20 minutes) compacted and restated.
    expect(restatedStarts(reopened, 'a')).toEqual([Date.UTC(2026, 10, 27), Date.UTC(2026, 10, 27, 6), Date.UTC(2026, 10, 27, 12)]);
    clock.now = NOW;
    expectSameCharts(reopened, rows);
    const removed = await reopened.removeNode('a', { purge: true, atMs: NOW }, noPause);
    expect(removed).not.toBeNull();
    expect(minuteChunks(reopened, 'a')).toEqual([]);
    expect(reopened.querySeries({ node: 'bb', metrics: METRICS, fromMs: START, toMs: NOW, maxPoints: 1000 })).toEqual(
      rows.querySeries({ node: 'bb', metrics: METRICS, fromMs: START, toMs: NOW, maxPoints: 1000 }),
    );
    reopened.close();
    rows.close();
  }, 120_000);

  it('restates only buckets that repeat their sample to the bit, and says which sample is gone', () => {
    const metrics = SAMPLE_COLUMNS.length;
    const t0 = Date.UTC(2026, 10, 27);
    // Samples at :05 of three minutes, the first metric 0.1, 0.2, 0.30000000000000004 (0.1 × 3), the others absent.
    const part = (ks: number[], extra: Partial<Record<number, [number, number, number]>> = {}): RawColumns => {
      const all = ks.map((k): [number, number, number] => extra[k] ?? [t0 + k * 60_000 + 5_000, k, 0.1 * (k + 1)]);
      return {
        tsMs: all.map((r) => r[0]),
        seq: all.map((r) => r[1]),
        columns: Array.from({ length: metrics }, (_, m) => all.map((r) => (m === 0 ? r[2] : null))),
      };
    };
    const samples = part([0, 1, 2]);
    const buckets = {
      bucketMs: [0, 1, 2].map((k) => t0 + k * 60_000),
      n: [1, 1, 1],
      columns: Array.from({ length: 4 * metrics }, (_, c) => [0, 1, 2].map((k) => (c >> 2 === 0 ? (c % 4 === 3 ? 1 : 0.1 * (k + 1)) : c % 4 === 3 ? 0 : null))),
    };
    const marker = restated(buckets, [samples])!;
    expect(isRestated(marker)).toBe(true);
    expect(marker.length).toBeLessThan(40);
    expect(restatedBuckets(marker, [samples])).toEqual(buckets);
    // The chart's read: starts, then the first metric's sum and count, the second's (absent: NaN and 0).
    const sums = restatedSums(marker, [samples], [0, 1])!;
    expect([...sums.bucketMs]).toEqual(buckets.bucketMs);
    expect(sums.columns.map((c) => [...c])).toEqual([
      [0.1, 0.2, 0.1 * 3],
      [1, 1, 1],
      [NaN, NaN, NaN],
      [0, 0, 0],
    ]);
    // A sum a bit off (0.3 is not 0.1 × 3), a second sample in a minute, a missing one: not restated.
    const offByABit = { ...buckets, columns: buckets.columns.map((col, c) => (c === 2 ? [col[0]!, col[1]!, 0.3] : col)) };
    expect(restated(offByABit, [samples])).toBeNull();
    expect(restated(buckets, [samples, part([2], { 2: [t0 + 2 * 60_000 + 9_000, 3, 0.3] })])).toBeNull();
    expect(restated(buckets, [part([0, 1])])).toBeNull();
    // A late sample in a restated minute, in a part of its own, is not one of those it names.
    const late = part([1], { 1: [t0 + 60_000 + 1_000, 7, 55] });
    expect(restatedBuckets(marker, [late, samples])).toEqual(buckets);
    expect(restatedBuckets(marker, [part([0]), part([1, 2])])).toEqual(buckets);
    expect(() => restatedBuckets(marker, [part([0, 2])])).toThrow(/raw sample at 2026-11-27T00:01:05.000Z \(seq 1\), which is gone/);
    expect(() => restatedBuckets(encodeBuckets(buckets), [samples])).toThrow(/not a restated window/);
    expect(decodeBuckets(encodeBuckets(restatedBuckets(marker, [samples])))).toEqual(buckets);
    // 6 h of samples at :05 take some tens of bytes; at random milliseconds of their minutes, RESTATED_MAX_BYTES or more: kept as buckets.
    const sixHours = (offsetMs: (k: number) => number) => {
      const ks = Array.from({ length: 360 }, (_, k) => k);
      const part: RawColumns = { tsMs: ks.map((k) => t0 + k * 60_000 + offsetMs(k)), seq: ks, columns: [ks.map(() => 1)] };
      const ones = { bucketMs: ks.map((k) => t0 + k * 60_000), n: ks.map(() => 1), columns: Array.from({ length: 4 }, () => ks.map(() => 1)) };
      return restated(ones, [part]);
    };
    expect(sixHours(() => 5_000)!.length).toBeLessThan(60);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    expect(sixHours(() => Math.floor(random() * 60_000))).toBeNull();
  });
});

/** The 1 min buckets of node `nodeId` in the window from `start` as the rows store holds them, in chunk form. */
function bucketsFromRows(store: SqliteStore, nodeId: number, start: number) {
  const columns = SAMPLE_COLUMNS.flatMap((m) => [`${m}_min`, `${m}_max`, `${m}_sum`, `${m}_n`]);
  const found = store.db
    .prepare(`SELECT bucket_ms, n, ${columns.join(', ')} FROM rollups WHERE tier = 60 AND node_id = ? AND bucket_ms BETWEEN ? AND ? ORDER BY bucket_ms`)
    .raw()
    .all(nodeId, start, start + 6 * HOUR - 1) as (number | null)[][];
  return { bucketMs: found.map((r) => r[0]!), n: found.map((r) => r[1]!), columns: columns.map((_, c) => found.map((r) => r[2 + c] ?? null)) };
}
