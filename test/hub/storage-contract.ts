// The storage contract: what every storage backend must do, written once against the interface.
// Each backend's test file calls `storageContract` with a way to open a fresh store. Every call is
// awaited, so one suite serves the synchronous MetricsStore (SQLite) and the AsyncMetricsStore
// (PostgreSQL) alike: awaiting a plain value costs nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyMetricsStore } from '../../hub/storage/async-store.ts';
import { fleetSummaryOf } from '../../hub/storage/node-record.ts';
import type { Retention } from '../../hub/storage/rollups.ts';
import { REMOVAL_GRACE_MS, type SamplePage } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';

export type OpenStore = (options: { now: () => number; retention?: Retention }) => AnyMetricsStore | Promise<AnyMetricsStore>;
const noPause = async () => undefined;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export function storageContract(backend: string, open: OpenStore): void {
  describe(`storage contract: ${backend}`, () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0);
    let store: AnyMetricsStore;
    const sample = (seq: number, ts: number, cpu: number, extra: Partial<Sample> = {}): Sample => ({ v: 1, boot: 'b', seq, ts_ms: ts, cpu_pct: cpu, ...extra });
    const insert = async (node: string, samples: Sample[]) => store.insertBatch(samples.map((s) => ({ node, sample: s, raw: encodeSample(s) })));
    const series = async (node: string, fromMs: number, toMs: number, maxPoints = 1000) =>
      (await store.querySeries({ node, metrics: ['cpu_pct', 'temp_c'], fromMs, toMs, maxPoints }))!;

    beforeEach(async () => {
      now = Date.UTC(2026, 10, 26, 12, 0, 0);
      store = await open({ now: () => now });
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a batch and ignores a re-sent sample', async () => {
      expect(await insert('a', [sample(0, now - 2000, 1), sample(1, now - 1000, 2)])).toEqual({ inserted: 2, duplicates: 0 });
      expect(await insert('a', [sample(1, now - 1000, 2), sample(2, now, 3)])).toEqual({ inserted: 1, duplicates: 1 });
      expect((await series('a', now - MIN, now)).data[1]).toEqual([1, 2, 3]);
    });

    it('answers a range query with raw samples in time order, only for that node', async () => {
      await insert('a', [sample(2, now - 1000, 30), sample(0, now - 3000, 10), sample(1, now - 2000, 20)]);
      await insert('b', [sample(0, now - 2500, 99)]);
      const res = await series('a', now - 2500, now);
      expect(res.resolution).toBe('raw');
      expect(res.data[0]).toEqual([(now - 2000) / 1000, (now - 1000) / 1000]);
      expect(res.data[1]).toEqual([20, 30]);
      expect(res.data[2]).toEqual([null, null]); // temp_c never sent: unknown, not zero
    });

    it('serves long ranges from rollups whose means match the raw data', async () => {
      // 3 days of one sample a minute, cpu cycling 0..9 and temp constant.
      const rows: Sample[] = [];
      for (let i = 0; i < 3 * 24 * 60; i++) rows.push(sample(i, now - 3 * DAY + i * MIN, i % 10, { temp_c: 40 }));
      await insert('a', rows);
      await store.deriveRollups(noPause);
      const week = await series('a', now - 3 * DAY, now, 250); // 17 min a point
      expect(week.resolution).toBe('15m');
      expect(week.data[0].length).toBeLessThanOrEqual(301);
      // A 15-min bucket of 0..9 repeating has mean 4.5 ± what a partial cycle moves.
      for (const v of week.data[1]!.filter((x) => x !== null)) expect(Math.abs((v as number) - 4.5)).toBeLessThan(0.6);
      expect(new Set(week.data[2]!.filter((x) => x !== null))).toEqual(new Set([40]));
      const day = await series('a', now - DAY, now, 500);
      expect(day.resolution).toBe('1m'); // 24 h / 500 points ≈ 3 min a point
      expect(day.step_s).toBe(180);
      const hour = await series('a', now - HOUR, now, 1000);
      expect(hour.resolution).toBe('raw');
      expect(hour.data[1]!.length).toBe(60);
    });

    it('purges past retention per resolution', async () => {
      await store.close();
      store = await open({ now: () => now, retention: { raw: HOUR, '1m': DAY, '15m': 7 * DAY, '1h': 30 * DAY } });
      // Rollups are derived before time moves on (the 1 min tier keeps a day here).
      now -= 40 * DAY;
      await insert('a', [sample(0, now, 1)]);
      await store.deriveRollups(noPause);
      now += 37 * DAY;
      await insert('a', [sample(1, now, 2)]);
      await store.deriveRollups(noPause);
      now += 3 * DAY;
      await insert('a', [sample(2, now - 2 * HOUR, 3), sample(3, now - MIN, 4)]);
      await store.deriveRollups(noPause);
      // raw (1 h): 3 rows past, 2 of them by more than a day; 1 min tier (1 d): 2; 15 min (7 d): 1;
      // 1 h (30 d): 1. A backend may keep a raw row up to a day past its retention (PostgreSQL
      // drops whole daily partitions), never one that is more than a day past it.
      const purged = await store.purgeExpired(noPause);
      expect(purged).toBeGreaterThanOrEqual(6);
      expect(purged).toBeLessThanOrEqual(7);
      expect(await store.purgeExpired(noPause)).toBe(0); // nothing left to purge
      const past = await store.samplePage?.({ node: 'a', metrics: ['cpu_pct'], fromMs: 0, toMs: now - HOUR - DAY, after: null, limit: 10 });
      if (past) expect(past.rows).toEqual([]);
      expect((await series('a', now - HOUR, now)).data[1]).toEqual([4]);
      expect((await series('a', now - 2 * HOUR - MIN, now)).resolution).toBe('1m'); // raw no longer reaches back 2 h
      const longAgo = (await store.querySeries({ node: 'a', metrics: ['cpu_pct'], fromMs: now - 45 * DAY, toMs: now, maxPoints: 100 }))!;
      expect(longAgo.resolution).toBe('1h');
      const values = longAgo.data[1]!.filter((v) => v !== null);
      expect(values).not.toContain(1); // 40 days old: past the 1 h tier's 30 days
      expect(values).toContain(2);
    });

    it('keeps each node status, info and latest sample', async () => {
      await insert('n', [sample(0, now - 1000, 5, { filesystems: [{ mount: '/', size_bytes: 10, used_bytes: 9, used_pct: 90 }] })]);
      await insert('n', [sample(1, now - 5000, 7)]); // older, arrives late: not the latest
      await store.setStatus('n', 'offline', now);
      const [node] = await store.listNodes();
      expect(node).toMatchObject({ name: 'n', status: 'offline', last_seen_ms: now - 1000, latest: { cpu_pct: 5, disk_pct: 90 } });
      expect(await store.listFleetNodes(noPause)).toEqual([fleetSummaryOf(node!)]); // the fleet page's cut of the same
      expect((await store.nodeDetail('n'))!.sample!.seq).toBe(0);
      expect(await store.nodeDetail('ghost')).toBeNull();
      expect(await store.querySeries({ node: 'ghost', metrics: ['cpu_pct'], fromMs: 0, toMs: now, maxPoints: 10 })).toBeNull();
    });

    it('pages raw samples in (ts_ms, seq) order, values as stored', async () => {
      const big = 2 ** 40; // a byte counter far past 32 bits comes back exact
      await insert(
        'a',
        [0, 1, 2, 3, 4].map((i) => sample(i, now - (5 - i) * 1000, 10 + i, { mem_used_bytes: big + i, load_1: 0.5 })),
      );
      const page = (after: { ts_ms: number; seq: number } | null) =>
        store.samplePage?.({ node: 'a', metrics: ['cpu_pct', 'mem_used_bytes', 'temp_c', 'load_1'], fromMs: now - MIN, toMs: now, after, limit: 3 });
      const first = await page(null);
      if (!first) return; // a store that cannot page (samplePage is optional)
      expect(first.rows.map((r) => r.seq)).toEqual([0, 1, 2]);
      expect(first.rows[0]).toEqual({ ts_ms: now - 5000, seq: 0, values: [10, big, null, 0.5] });
      const second = (await page(first.rows[2]!))!;
      expect(second.rows.map((r) => r.values[0])).toEqual([13, 14]);
      expect(await store.samplePage!({ node: 'ghost', metrics: [], fromMs: 0, toMs: now, after: null, limit: 1 })).toBeNull();
    });

    it('answers across compacted and live hours as the rows did: points, averages, minute buckets, pages; keeps late samples', async () => {
      // 6 h of a sample every 10 s: a purge run compacts the hours past the first two (a backend may
      // keep them as rows); every answer must stay what the rows gave.
      const metrics = ['cpu_pct', 'temp_c', 'mem_used_bytes', 'load_1'] as const;
      const rows: Sample[] = [];
      for (let i = 0; i < 6 * 360; i++) {
        const extra: Partial<Sample> = { mem_used_bytes: 2 ** 40 + i * 4096, load_1: ((i * 7) % 100) / 100 };
        if (i % 5 !== 0) extra.temp_c = 40 + (i % 7) / 10; // absent from every fifth sample
        rows.push(sample(i, now - 6 * HOUR + i * 10_000, (i % 23) / 2, extra));
      }
      for (let at = 0; at < rows.length; at += 500) await insert('a', rows.slice(at, at + 500));
      await store.deriveRollups(noPause);
      const query = (fromMs: number, toMs: number, maxPoints: number) => store.querySeries({ node: 'a', metrics: [...metrics], fromMs, toMs, maxPoints });
      const allPages = async () => {
        const out: unknown[] = [];
        let after: { ts_ms: number; seq: number } | null = null;
        for (let pages = 0; pages < 100; pages++) {
          const page: SamplePage | undefined | null = await store.samplePage?.({
            node: 'a',
            metrics: [...metrics],
            fromMs: now - 7 * HOUR,
            toMs: now,
            after,
            limit: 250,
          });
          if (!page) return null;
          out.push(...page.rows);
          if (!page.next) break;
          after = page.next;
        }
        return out;
      };
      const answers = async () => ({
        points: await query(now - 6 * HOUR, now - HOUR, 5000), // raw points across compacted hours and rows
        averages: await query(now - 5 * HOUR, now, 515), // raw tier averaged over 35 s buckets, some across an hour's end
        minutes: await query(now - 6 * HOUR, now, 360), // 1 min tier, a bucket a point
        pages: await allPages(),
      });
      const before = await answers();
      expect(before.points!.resolution).toBe('raw');
      const inPoints = rows.filter((r) => r.ts_ms <= now - HOUR).length;
      expect(before.points!.data[0].length).toBe(inPoints);
      expect(before.averages!.resolution).toBe('raw');
      expect(before.averages!.step_s).toBe(35);
      expect(before.minutes!.resolution).toBe('1m');
      expect(before.minutes!.step_s).toBe(60);
      if (before.pages) expect(before.pages.length).toBe(rows.length);

      await store.purgeExpired(noPause);
      expect(await answers()).toEqual(before);
      // A re-sent sample of a compacted hour is still a duplicate.
      expect(await insert('a', [rows[10]!])).toEqual({ inserted: 0, duplicates: 1 });

      // A late sample for a compacted hour is kept, in the points, the pages and its minute's bucket.
      const lateTs = now - 5 * HOUR + 5000;
      expect((await insert('a', [sample(100_000, lateTs, 99, { temp_c: 41 })])).inserted).toBe(1);
      await store.deriveRollups(noPause);
      const after = await answers();
      const at = after.points!.data[0].indexOf(lateTs / 1000);
      expect(after.points!.data[1]![at]).toBe(99);
      expect(after.points!.data[0].length).toBe(inPoints + 1);
      if (after.pages) {
        expect(after.pages.length).toBe(rows.length + 1);
        expect(after.pages).toContainEqual({ ts_ms: lateTs, seq: 100_000, values: [99, 41, null, null] });
      }
      const minuteOf = (answer: typeof before) => answer.minutes!.data[1]![answer.minutes!.data[0].indexOf((lateTs - (lateTs % MIN)) / 1000)] as number;
      const cpusOfMinute = rows.filter((r) => r.ts_ms - (r.ts_ms % MIN) === lateTs - (lateTs % MIN)).map((r) => r.cpu_pct!);
      expect(minuteOf(before)).toBeCloseTo(cpusOfMinute.reduce((a, b) => a + b, 0) / cpusOfMinute.length, 9);
      expect(minuteOf(after)).toBeCloseTo((cpusOfMinute.reduce((a, b) => a + b, 0) + 99) / (cpusOfMinute.length + 1), 9);

      // Compacted again, the answers stay.
      await store.purgeExpired(noPause);
      expect(await answers()).toEqual(after);
    });

    it('removes a node: gone from the list, its data kept unless purged, late samples dropped, a later one brings it back', async () => {
      const names = async () => (await store.listNodes()).map((n) => n.name);
      const page = async () =>
        (await store.samplePage?.({ node: 'a', metrics: ['cpu_pct'], fromMs: 0, toMs: now + DAY, after: null, limit: 10 }))?.rows.map((r) => r.values[0]);
      await insert('a', [sample(0, now - 2000, 1), sample(1, now - 1000, 2)]);
      await insert('b', [sample(0, now - 2000, 5)]);
      await store.deriveRollups(noPause);
      expect(await store.removeNode('ghost', { purge: false, atMs: now }, noPause)).toBeNull();
      expect(await store.removeNode('a', { purge: false, atMs: now }, noPause)).toEqual({ deleted: 0 });
      expect(await names()).toEqual(['b']);
      expect(await store.nodeDetail('a')).toBeNull();
      const kept = await page();
      if (kept) expect(kept).toEqual([1, 2]); // export still reads it
      // Its retained status, and a sample taken before the removal's grace ended, do not bring it back.
      await store.setStatus('a', 'offline', now);
      await store.setInfo('a', encodeSample(sample(9, now, 0)));
      expect((await insert('a', [sample(2, now + REMOVAL_GRACE_MS - 1000, 3)])).inserted).toBe(0);
      expect(await names()).toEqual(['b']);
      if (kept) expect(await page()).toEqual([1, 2]);

      // Removed again with purge: its samples and rollups go (2 raw rows, a bucket in each tier).
      expect((await store.removeNode('a', { purge: true, atMs: now }, noPause))!.deleted).toBeGreaterThanOrEqual(5);
      if (kept) expect(await page()).toEqual([]);
      expect((await series('a', now - DAY, now, 10)).data[1]!.filter((v) => v !== null)).toEqual([]);
      expect((await series('b', now - MIN, now)).data[1]).toEqual([5]); // the others untouched

      // A sample taken past the grace: the node is back, as new (its stored seqs went with the purge).
      expect((await insert('a', [sample(0, now + REMOVAL_GRACE_MS + 1000, 7)])).inserted).toBe(1);
      expect(await names()).toEqual(['a', 'b']);
      expect((await store.nodeDetail('a'))!.latest!.cpu_pct).toBe(7);
    });
  });
}
