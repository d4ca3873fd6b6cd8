// Raw compaction on PostgreSQL (hub/storage/postgres/pg-chunks.ts) against a real server: what only this
// backend has beside the storage contract's answers. Only where allowed (a group's coordinator), only
// rows whose rollups are built, a late sample brings its hour back into rows, acks of re-sent samples,
// another hub's late samples racing the compaction, and emptied partitions given back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PackedSamples } from '../../hub/storage/packed-samples.ts';
import { partitionName } from '../../hub/storage/postgres/pg-partitions.ts';
import { PgSampleWriter } from '../../hub/storage/postgres/pg-sample-writer.ts';
import { openPgStore, type PgStore } from '../../hub/storage/postgres/pg-store.ts';
import type { IncomingSample, SamplePage } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const noPause = async () => undefined;

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());

describe('PostgreSQL raw compaction', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  const stores: PgStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  const open = async (url: string, clock: () => number = () => now) => {
    const store = await openPgStore(url, { now: clock });
    stores.push(store);
    return store;
  };
  const sample = (seq: number, ts: number, extra: Partial<Sample> = {}): Sample => ({
    v: 1,
    boot: 'b1',
    seq,
    ts_ms: ts,
    cpu_pct: (seq % 23) / 2,
    filesystems: [{ mount: '/', size_bytes: 1000, used_bytes: seq % 1000, used_pct: (seq % 1000) / 10 }],
    ...extra,
  });
  const incoming = (node: string, s: Sample): IncomingSample => ({ node, sample: s, raw: encodeSample(s) });
  /** `hours` of a sample every 10 s for `node`, ending 10 s before `end`. */
  const history = (end: number, hours: number) => Array.from({ length: hours * 360 }, (_, i) => sample(i, end - hours * HOUR + i * 10_000));
  const insert = async (store: PgStore, node: string, samples: Sample[]) => {
    for (let at = 0; at < samples.length; at += 500) await store.insertBatch(samples.slice(at, at + 500).map((s) => incoming(node, s)));
  };
  const count = async (store: PgStore, sql: string, values: unknown[] = []) => (await store.pool.query<{ n: number }>(sql, values)).rows[0]!.n;
  const rowCount = (store: PgStore) => count(store, 'SELECT count(*) AS n FROM samples');
  const chunkCount = (store: PgStore) => count(store, 'SELECT count(*) AS n FROM sample_chunks');
  const allPages = async (store: PgStore, node: string) => {
    const out: SamplePage['rows'] = [];
    let after: { ts_ms: number; seq: number } | null = null;
    for (let pages = 0; pages < 200; pages++) {
      const page: SamplePage = (await store.samplePage({ node, metrics: ['cpu_pct'], fromMs: 0, toMs: now + DAY, after, limit: 300 }))!;
      out.push(...page.rows);
      if (!page.next) break;
      after = page.next;
    }
    return out;
  };

  it('compacts only where allowed, only rows whose rollups are built, hours past the first two', async () => {
    const store = await open(await server.createDatabase());
    await insert(store, 'a', history(now, 6));
    store.compactsRaw = false; // a hub of a group that does not coordinate
    await store.purgeExpired(noPause);
    expect(await chunkCount(store)).toBe(0);
    store.compactsRaw = true;
    // The 1 min tier is still to be built from these rows: they stay rows meanwhile.
    expect(await store.compactRaw(noPause)).toBe(0);
    await store.deriveRollups(noPause);
    expect(await store.compactRaw(noPause)).toBe(4 * 360);
    expect(await chunkCount(store)).toBe(4);
    expect(await rowCount(store)).toBe(2 * 360);
    expect(await count(store, 'SELECT count(*) AS n FROM samples WHERE ts_ms < $1', [now - 2 * HOUR])).toBe(0);
    expect(await count(store, 'SELECT sum(rows) AS n FROM sample_chunks')).toBe(4 * 360);
    expect(await store.compactRaw(noPause)).toBe(0); // nothing left
  });

  it('moves a compacted hour back into rows for a late sample, which the rollups and labelled series then count', async () => {
    const store = await open(await server.createDatabase());
    await insert(store, 'a', history(now, 6));
    await store.deriveRollups(noPause);
    const labelledBefore = await store.queryLabelled('a', 'fs_used_pct', now - 5 * HOUR, now - 4 * HOUR, 400);
    await store.compactRaw(noPause);
    expect(await chunkCount(store)).toBe(4);
    // Read from the chunk: the same labelled series as from the rows.
    expect(await store.queryLabelled('a', 'fs_used_pct', now - 5 * HOUR, now - 4 * HOUR, 400)).toEqual(labelledBefore);

    const lateTs = now - 5 * HOUR + 5000;
    expect((await store.insertBatch([incoming('a', sample(50_000, lateTs, { cpu_pct: 99 }))])).inserted).toBe(1);
    expect(await chunkCount(store)).toBe(3);
    expect(await count(store, 'SELECT count(*) AS n FROM samples WHERE ts_ms >= $1 AND ts_ms < $2', [now - 5 * HOUR, now - 4 * HOUR])).toBe(361);
    await store.deriveRollups(noPause);
    const minute = (await store.querySeries({ node: 'a', metrics: ['cpu_pct'], fromMs: now - 5 * HOUR, toMs: now - 5 * HOUR + MIN, maxPoints: 1 }))!;
    expect(minute.resolution).toBe('1m');
    expect(minute.data[0][0]).toBe((now - 5 * HOUR) / 1000);
    const cpus = history(now, 6)
      .filter((s) => s.ts_ms >= now - 5 * HOUR && s.ts_ms < now - 5 * HOUR + MIN)
      .map((s) => s.cpu_pct!);
    expect(minute.data[1]![0]).toBeCloseTo((cpus.reduce((a, b) => a + b, 0) + 99) / (cpus.length + 1), 9);
    // The late sample's minute is rebuilt in the labelled series too: 7 samples in it now.
    const labelled = (await store.queryLabelled('a', 'fs_used_pct', now - 5 * HOUR, now - 5 * HOUR + MIN - 1, 100))!;
    expect(labelled.data[0].length).toBe(cpus.length + 1);
    // Compacted again once rebuilt.
    expect(await store.compactRaw(noPause)).toBe(361);
    expect(await chunkCount(store)).toBe(4);
  });

  it('acks a re-sent sample of a compacted hour as stored, and stores no second copy', async () => {
    const store = await open(await server.createDatabase());
    const writer = new PgSampleWriter(store, () => now);
    const samples = history(now, 4);
    const pack = (list: Sample[]) => PackedSamples.pack(list.map((s) => incoming('a', s)));
    const first = await writer.write(pack(samples), []);
    expect(first.acks).toEqual([{ node: 'a', boot: 'b1', next: samples.length }]);
    await store.deriveRollups(noPause);
    expect(await store.compactRaw(noPause)).toBe(2 * 360);
    const replay = await writer.write(pack(samples.slice(0, 10)), []);
    expect(replay).toMatchObject({ inserted: 0, duplicates: 10, acks: [{ node: 'a', boot: 'b1', next: samples.length }] });
    expect(await chunkCount(store)).toBe(2); // a duplicate moves no chunk back
    expect((await allPages(store, 'a')).length).toBe(samples.length);
  });

  it("loses none of another hub's late samples that race the compaction of their hours", async () => {
    const url = await server.createDatabase();
    const compactor = await open(url);
    const other = await open(url);
    const samples = history(now, 8);
    await insert(compactor, 'a', samples);
    await compactor.deriveRollups(noPause);
    // Late samples, one a second of the compacted hours' span, each in a batch of its own, while the compaction runs.
    const late = Array.from({ length: 60 }, (_, i) => sample(100_000 + i, now - 8 * HOUR + 5000 + i * 6 * 60_000, { cpu_pct: 77 }));
    const lateWrites = (async () => {
      for (const s of late) await other.insertBatch([incoming('a', s)]);
    })();
    let moved = 0;
    for (let run = 0; run < 20; run++) {
      await compactor.deriveRollups(noPause);
      moved += await compactor.compactRaw(noPause);
    }
    await lateWrites;
    expect(moved).toBeGreaterThan(0);
    const pages = await allPages(compactor, 'a');
    expect(pages.length).toBe(samples.length + late.length);
    expect(pages.filter((r) => r.values[0] === 77).map((r) => r.seq)).toEqual(late.map((s) => s.seq));
    // Each sample once: in rows or in a chunk, never both.
    expect((await rowCount(compactor)) + (await count(compactor, 'SELECT coalesce(sum(rows), 0) AS n FROM sample_chunks'))).toBe(samples.length + late.length);
  });

  it("gives back a day's partition once all its rows are in chunks, and keeps the days that hold rows", async () => {
    const store = await open(await server.createDatabase());
    const yesterday = now - (now % DAY) - DAY;
    await insert(store, 'a', history(yesterday + 12 * HOUR, 6));
    await insert(
      store,
      'a',
      history(now, 3).map((s) => ({ ...s, seq: s.seq + 10_000 })),
    );
    await store.deriveRollups(noPause);
    const size = async (day: number) => count(store, 'SELECT pg_relation_size($1::regclass) AS n', [partitionName(day)]);
    expect(await size(yesterday)).toBeGreaterThan(0);
    await store.purgeExpired(noPause);
    expect(await size(yesterday)).toBe(0);
    expect(await size(now - (now % DAY))).toBeGreaterThan(0); // today's live rows
    expect((await allPages(store, 'a')).length).toBe(9 * 360);
  });
});
