// Compaction of older raw samples into chunks (hub/storage/sqlite/chunk-store.ts) on real SQLite files: two stores
// get the same samples, one compacts, and every reader of raw samples (the raw chart tier, the
// export, a rollup rebuild, duplicate checks, node removal, retention) answers the same from both.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recompressedCold } from '../../hub/storage/chunk-codec.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import type { SamplePage, SamplePageQuery } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import type { SeriesMetric } from '../../shared/api-types.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

const MINUTE = 60_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 12, 20, 0);
const START = NOW - 5 * HOUR;
const noPause = async () => undefined;
const METRICS: SeriesMetric[] = ['cpu_pct', 'mem_used_bytes', 'temp_c', 'load_1', 'uptime_s'];

/** Sample k of a node: every 10 s, a reboot at k = 900, some metrics absent now and then, a detail. */
function sample(k: number, node: number): Sample {
  const boot = k < 900 ? 'boot-1' : 'boot-2';
  return {
    v: 1,
    boot,
    seq: k < 900 ? k : k - 900,
    ts_ms: START + k * 10_000 + (k % 3),
    cpu_pct: ((k * 7 + node) % 1000) / 10,
    mem_used_bytes: 3_000_000_000 + k * 4096 * node,
    temp_c: k % 4 === 0 ? undefined : 45 + (k % 90) / 10,
    load_1: (k % 250) / 100,
    uptime_s: k < 900 ? 86_400 + k * 10 : (k - 900) * 10,
    cpu_core_pct: [k % 100, (k * 3) % 100],
  };
}
const items = (node: string, ks: number[]) => ks.map((k) => ({ node, sample: sample(k, node.length), raw: encodeSample(sample(k, node.length)) }));

function twinStores(): { compacted: SqliteStore; rows: SqliteStore; clock: { now: number } } {
  const dir = tempDir();
  const clock = { now: NOW };
  const open = (name: string) =>
    openSqliteStore(join(dir, name), {
      now: () => clock.now,
      retention: { raw: 48 * HOUR, '1m': 14 * 86_400_000, '15m': 90 * 86_400_000, '1h': 730 * 86_400_000 },
    });
  return { compacted: open('compacted.db'), rows: open('rows.db'), clock };
}

function allPages(store: SqliteStore, query: Omit<SamplePageQuery, 'after'>): SamplePage['rows'] {
  const rows: SamplePage['rows'] = [];
  let after: SamplePageQuery['after'] = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page: SamplePage = store.samplePage({ ...query, after })!;
    rows.push(...page.rows);
    if (!page.next) return rows;
    after = page.next;
  }
  throw new Error('the export did not end');
}

const count = (store: SqliteStore, table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
/** Every rollup bucket, its compacted windows moved back into rows first (they are compacted again at the next purge). */
const rollups = (store: SqliteStore) => {
  store.db.transaction(() => {
    for (const { id } of store.db.prepare('SELECT id FROM nodes').all() as { id: number }[]) store.rollupChunks.expandFrom(id, 0);
  })();
  return store.db.prepare('SELECT * FROM rollups ORDER BY tier, node_id, bucket_ms').all();
};

describe('compaction of older samples into chunks', () => {
  it('moves rows older than 2 min into chunks of up to 900 samples of a node, and every raw read answers as before', async () => {
    const { compacted, rows } = twinStores();
    const ks = Array.from({ length: 1800 }, (_, k) => k);
    for (const store of [compacted, rows]) {
      for (const node of ['a', 'bb']) store.insertBatch(items(node, ks));
      await store.deriveRollups(noPause);
    }
    const before = count(compacted, 'samples');
    await compacted.purgeExpired(noPause);
    const cutoff = NOW - 2 * MINUTE;
    // Each node's 1,788 samples up to the cutoff (07:20 to 12:18 at 10 s, across hours) are two
    // chunks now, of 900 and 888, each with its last sample's time; nothing older is left in rows.
    expect(compacted.db.prepare('SELECT node_id, rows, last_ms - start_ms AS span FROM sample_chunks ORDER BY node_id, start_ms').all()).toEqual(
      [1, 2].flatMap((node_id) => [
        { node_id, rows: 900, span: 899 * 10_000 + 2 },
        { node_id, rows: 888, span: 887 * 10_000 + 2 },
      ]),
    );
    // Neither takes more rows (as many again would start the next chunk): each was compressed again, harder, once.
    for (const { data } of compacted.db.prepare('SELECT data FROM sample_chunks').all() as { data: Buffer }[]) expect(await recompressedCold(data)).toBeNull();
    const left = compacted.db.prepare('SELECT min(ts_ms) AS t, count(*) AS n FROM samples').get() as { t: number; n: number };
    expect(left.t).toBeGreaterThanOrEqual(cutoff);
    const chunked = (compacted.db.prepare('SELECT sum(rows) AS n FROM sample_chunks').get() as { n: number }).n;
    expect(chunked + left.n).toBe(before);

    // The raw chart tier: samples as they are, and averaged buckets, over ranges in chunks, rows and both.
    for (const [fromMs, toMs, maxPoints] of [
      [START, START + HOUR, 1000],
      [START + 1234, START + 3 * HOUR - 999, 1000],
      [cutoff - HOUR / 2, cutoff + HOUR / 2, 1000],
      [START, START + 4 * HOUR, 500],
      [START - HOUR, NOW, 300],
    ] as const) {
      for (const node of ['a', 'bb']) {
        const want = rows.querySeries({ node, metrics: METRICS, fromMs, toMs, maxPoints });
        expect(compacted.querySeries({ node, metrics: METRICS, fromMs, toMs, maxPoints }), `${node} ${fromMs}…${toMs}`).toEqual(want);
      }
    }
    // The export: every row once, in (ts_ms, seq) order, across page and chunk boundaries.
    for (const limit of [7, 333, 5000]) {
      const query = { node: 'a', metrics: METRICS, fromMs: START - HOUR, toMs: NOW, limit };
      const exported = allPages(compacted, query);
      expect(exported).toEqual(allPages(rows, query));
      expect(exported.length).toBe(1800);
    }
    expect(allPages(compacted, { node: 'bb', metrics: [], fromMs: START + 1_000_000, toMs: START + 9_000_000, limit: 100 })).toEqual(
      allPages(rows, { node: 'bb', metrics: [], fromMs: START + 1_000_000, toMs: START + 9_000_000, limit: 100 }),
    );

    // The detail blobs are kept, byte for byte.
    const details = rows.db.prepare('SELECT ts_ms, detail FROM samples WHERE node_id = 1 AND ts_ms < ? ORDER BY ts_ms').all(cutoff) as {
      ts_ms: number;
      detail: Buffer;
    }[];
    expect(details.length).toBe(1788); // 07:20 to 12:18 at 10 s
    expect(compacted.chunks.details(1, START, cutoff - 1).map((d) => [d.ts_ms, Buffer.from(d.detail)])).toEqual(details.map((d) => [d.ts_ms, d.detail]));

    // Copies of compacted samples are still duplicates, by (node, boot, seq) whatever their time.
    const copy = { ...sample(10, 1), ts_ms: NOW - 60_000 };
    expect(compacted.insertBatch([{ node: 'a', sample: copy, raw: encodeSample(copy) }, ...items('a', [20, 950])])).toEqual({ inserted: 0, duplicates: 3 });
    compacted.close();
    rows.close();
  });

  it('merges samples that arrive late for a compacted hour into its chunk, and rebuilds rollups from chunks', async () => {
    const { compacted, rows } = twinStores();
    const early = Array.from({ length: 1800 }, (_, k) => k).filter((k) => k % 50 !== 7);
    const late = Array.from({ length: 1800 }, (_, k) => k).filter((k) => k % 50 === 7);
    for (const store of [compacted, rows]) {
      store.insertBatch(items('a', early));
      await store.deriveRollups(noPause);
    }
    await compacted.purgeExpired(noPause);
    const chunks = count(compacted, 'sample_chunks');
    for (const store of [compacted, rows]) {
      store.insertBatch(items('a', late));
      // As after a restart with a rollup run left undone: the 1 min tier is rebuilt from the raw samples.
      store.rolledBack();
      await store.deriveRollups(noPause);
    }
    const query = { node: 'a', metrics: METRICS, fromMs: START, toMs: NOW, limit: 250 };
    // Late rows sit beside their hour's chunk until the next compaction, then in it.
    expect(allPages(compacted, query)).toEqual(allPages(rows, query));
    expect(rollups(compacted)).toEqual(rollups(rows));
    await compacted.purgeExpired(noPause);
    expect(count(compacted, 'sample_chunks')).toBe(chunks);
    expect(allPages(compacted, query)).toEqual(allPages(rows, query));
    compacted.rolledBack();
    rows.rolledBack();
    for (const store of [compacted, rows]) {
      store.insertBatch(items('a', [1800]));
      await store.deriveRollups(noPause);
    }
    expect(rollups(compacted)).toEqual(rollups(rows));
    compacted.close();
    rows.close();
  });

  it("drops chunks whose every sample is past the raw retention, and a removed node's chunks", async () => {
    const { compacted, clock } = twinStores();
    const ks = Array.from({ length: 1800 }, (_, k) => k);
    for (const node of ['a', 'bb']) compacted.insertBatch(items(node, ks));
    await compacted.purgeExpired(noPause);
    const perNode = count(compacted, 'sample_chunks') / 2;
    // Raw retention 48 h: each node's first chunk (07:20 to 09:49:50) is past it, the second (to 12:19:50, the rows since merged in) is not.
    clock.now = START + 48 * HOUR + 2.5 * HOUR + 1;
    await compacted.purgeExpired(noPause);
    const kept = compacted.db.prepare('SELECT start_ms, last_ms FROM sample_chunks').all() as { start_ms: number; last_ms: number }[];
    expect(kept.length).toBe(2 * (perNode - 1));
    expect(perNode).toBe(2);
    for (const chunk of kept) {
      expect(chunk.last_ms).toBeGreaterThanOrEqual(clock.now - 48 * HOUR);
      expect(chunk.start_ms).toBeLessThanOrEqual(clock.now - 48 * HOUR);
    }
    expect(count(compacted, 'samples')).toBe(0);
    const held = (compacted.db.prepare("SELECT sum(rows) AS n FROM sample_chunks JOIN nodes ON nodes.id = node_id WHERE name = 'bb'").get() as { n: number }).n;
    const removed = await compacted.removeNode('bb', { purge: true, atMs: clock.now }, noPause);
    expect(removed!.deleted).toBeGreaterThanOrEqual(held);
    expect(compacted.db.prepare("SELECT count(*) AS n FROM sample_chunks JOIN nodes ON nodes.id = node_id WHERE name = 'bb'").get()).toEqual({ n: 0 });
    expect(count(compacted, 'sample_chunks')).toBeGreaterThan(0); // a's stay
    compacted.close();
  });

  it('leaves the rows of a node sampled once a minute until the oldest is an hour old, and compacts a busier one meanwhile', async () => {
    const { compacted, rows, clock } = twinStores();
    const at = (node: string, k: number, stepMs: number): Sample => ({ v: 1, boot: node, seq: k, ts_ms: START + k * stepMs, cpu_pct: (k % 1000) / 10 });
    const add = async (node: string, ks: number[], stepMs: number) => {
      for (const store of [compacted, rows]) {
        store.insertBatch(ks.map((k) => ({ node, sample: at(node, k, stepMs), raw: encodeSample(at(node, k, stepMs)) })));
        await store.deriveRollups(noPause);
      }
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    const rowsOf = (node: string) =>
      (compacted.db.prepare('SELECT count(*) AS n FROM samples JOIN nodes ON nodes.id = node_id WHERE name = ?').get(node) as { n: number }).n;
    const chunked = (node: string) =>
      compacted.db.prepare('SELECT rows FROM sample_chunks JOIN nodes ON nodes.id = node_id WHERE name = ? ORDER BY start_ms').all(node);
    // 07:20 to 12:20 once a minute: the 298 minutes up to the cutoff (12:18) are past an hour, so compacted.
    await add('slow', range(0, 300), MINUTE);
    await compacted.purgeExpired(noPause);
    expect(rowsOf('slow')).toBe(2);
    expect(chunked('slow')).toEqual([{ rows: 298 }]);
    // It grows an hour at a time yet: compressed fast, as it is re-encoded whole at each merge.
    const growing = compacted.db.prepare('SELECT data FROM sample_chunks').get() as { data: Buffer };
    expect(await recompressedCold(growing.data)).not.toBeNull();
    // Then to 13:10, and a node at 10 s from 12:20: at 13:05 the slow node's 45 rows before the cutoff
    // (12:18 to 13:02) stay rows, the busy one's are compacted.
    await add('slow', range(300, 350), MINUTE);
    await add('busy', range(1800, 2100), 10_000);
    clock.now = NOW + 45 * MINUTE;
    await compacted.purgeExpired(noPause);
    expect(rowsOf('slow')).toBe(52);
    expect(chunked('slow')).toEqual([{ rows: 298 }]);
    expect(rowsOf('busy')).toBe(300 - 258);
    // At 13:25 the oldest (12:18) is more than an hour before the cutoff (13:23): they join the chunk.
    await add('slow', range(350, 365), MINUTE);
    clock.now = NOW + 65 * MINUTE;
    await compacted.purgeExpired(noPause);
    expect(rowsOf('slow')).toBe(2);
    expect(chunked('slow')).toEqual([{ rows: 363 }]);
    for (const node of ['slow', 'busy']) {
      const query = { node, metrics: ['cpu_pct'] as SeriesMetric[], fromMs: START - HOUR, toMs: NOW + 2 * HOUR, limit: 100 };
      expect(allPages(compacted, query)).toEqual(allPages(rows, query));
    }
    compacted.close();
    rows.close();
  });

  it('cuts 1 Hz samples into chunks of 900, across hours, never inside one time', async () => {
    const { compacted, rows } = twinStores();
    const at1Hz = (k: number): Sample => ({ v: 1, boot: 'hz', seq: k, ts_ms: START + k * 1000, cpu_pct: (k % 1000) / 10 });
    // Two hours at 1 Hz, then 1,000 samples at one time (a clock stuck at the hour after).
    const samples = [
      ...Array.from({ length: 7200 }, (_, k) => at1Hz(k)),
      ...Array.from({ length: 1000 }, (_, i) => ({ ...at1Hz(7200 + i), ts_ms: START + 7_200_000 })),
    ];
    for (const store of [compacted, rows]) {
      for (let i = 0; i < samples.length; i += 2000)
        store.insertBatch(samples.slice(i, i + 2000).map((sample) => ({ node: 'hz', sample, raw: encodeSample(sample) })));
    }
    await compacted.purgeExpired(noPause);
    const chunks = compacted.db.prepare('SELECT start_ms, rows FROM sample_chunks ORDER BY start_ms').all() as { start_ms: number; rows: number }[];
    const hour = Math.floor(START / HOUR) * HOUR;
    // 07:20–09:20 in chunks of 900, each from its first sample on (a step takes the next hour's
    // samples when its own are fewer); the 1,000 samples at 09:20:00 whole.
    expect(chunks.map((c) => [(c.start_ms - hour) / 1000, c.rows])).toEqual([
      [1200, 900],
      [2100, 900],
      [3000, 900],
      [3900, 900],
      [4800, 900],
      [5700, 900],
      [6600, 900],
      [7500, 900],
      [8400, 1000],
    ]);
    expect(count(compacted, 'samples')).toBe(0);
    const query = { node: 'hz', metrics: ['cpu_pct'] as SeriesMetric[], fromMs: START, toMs: NOW, limit: 1500 };
    expect(allPages(compacted, query)).toEqual(allPages(rows, query));
    compacted.close();
    rows.close();
  });
});
