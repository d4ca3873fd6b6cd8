// The storage contract: what every MetricsStore backend must do, written once against the
// interface. Each backend's test file calls `storageContract` with a way to open a fresh store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricsStore } from '../../hub/store.ts';
import type { Retention } from '../../hub/rollups.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';

export type OpenStore = (options: { now: () => number; retention?: Retention }) => MetricsStore | Promise<MetricsStore>;
const noPause = async () => undefined;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export function storageContract(backend: string, open: OpenStore): void {
  describe(`storage contract: ${backend}`, () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0);
    let store: MetricsStore;
    const sample = (seq: number, ts: number, cpu: number, extra: Partial<Sample> = {}): Sample => ({ v: 1, boot: 'b', seq, ts_ms: ts, cpu_pct: cpu, ...extra });
    const insert = (node: string, samples: Sample[]) => store.insertBatch(samples.map((s) => ({ node, sample: s, raw: encodeSample(s) })));
    const series = (node: string, fromMs: number, toMs: number, maxPoints = 1000) =>
      store.querySeries({ node, metrics: ['cpu_pct', 'temp_c'], fromMs, toMs, maxPoints })!;

    beforeEach(async () => {
      now = Date.UTC(2026, 10, 26, 12, 0, 0);
      store = await open({ now: () => now });
    });
    afterEach(() => store.close());

    it('stores a batch and ignores a re-sent sample', () => {
      expect(insert('a', [sample(0, now - 2000, 1), sample(1, now - 1000, 2)])).toEqual({ inserted: 2, duplicates: 0 });
      expect(insert('a', [sample(1, now - 1000, 2), sample(2, now, 3)])).toEqual({ inserted: 1, duplicates: 1 });
      expect(series('a', now - MIN, now).data[1]).toEqual([1, 2, 3]);
    });

    it('answers a range query with raw samples in time order, only for that node', () => {
      insert('a', [sample(2, now - 1000, 30), sample(0, now - 3000, 10), sample(1, now - 2000, 20)]);
      insert('b', [sample(0, now - 2500, 99)]);
      const res = series('a', now - 2500, now);
      expect(res.resolution).toBe('raw');
      expect(res.data[0]).toEqual([(now - 2000) / 1000, (now - 1000) / 1000]);
      expect(res.data[1]).toEqual([20, 30]);
      expect(res.data[2]).toEqual([null, null]); // temp_c never sent: unknown, not zero
    });

    it('serves long ranges from rollups whose means match the raw data', async () => {
      // 3 days of one sample a minute, cpu cycling 0..9 and temp constant.
      const rows: Sample[] = [];
      for (let i = 0; i < 3 * 24 * 60; i++) rows.push(sample(i, now - 3 * DAY + i * MIN, i % 10, { temp_c: 40 }));
      insert('a', rows);
      await store.deriveRollups(noPause);
      const week = series('a', now - 3 * DAY, now, 250); // 17 min a point
      expect(week.resolution).toBe('15m');
      expect(week.data[0].length).toBeLessThanOrEqual(301);
      // A 15-min bucket of 0..9 repeating has mean 4.5 ± what a partial cycle moves.
      for (const v of week.data[1]!.filter((x) => x !== null)) expect(Math.abs((v as number) - 4.5)).toBeLessThan(0.6);
      expect(new Set(week.data[2]!.filter((x) => x !== null))).toEqual(new Set([40]));
      const day = series('a', now - DAY, now, 500);
      expect(day.resolution).toBe('1m'); // 24 h / 500 points ≈ 3 min a point
      expect(day.step_s).toBe(180);
      const hour = series('a', now - HOUR, now, 1000);
      expect(hour.resolution).toBe('raw');
      expect(hour.data[1]!.length).toBe(60);
    });

    it('purges past retention per resolution', async () => {
      store.close();
      store = await open({ now: () => now, retention: { raw: HOUR, '1m': DAY, '15m': 7 * DAY, '1h': 30 * DAY } });
      // Rollups are derived before time moves on (the 1 min tier keeps a day here).
      now -= 40 * DAY;
      insert('a', [sample(0, now, 1)]);
      await store.deriveRollups(noPause);
      now += 37 * DAY;
      insert('a', [sample(1, now, 2)]);
      await store.deriveRollups(noPause);
      now += 3 * DAY;
      insert('a', [sample(2, now - 2 * HOUR, 3), sample(3, now - MIN, 4)]);
      await store.deriveRollups(noPause);
      // raw (1 h): 3 rows past; 1 min tier (1 d): 2; 15 min (7 d): 1; 1 h (30 d): 1.
      expect(await store.purgeExpired(noPause)).toBe(7);
      expect(series('a', now - HOUR, now).data[1]).toEqual([4]);
      expect(series('a', now - 2 * HOUR - MIN, now).resolution).toBe('1m'); // raw no longer reaches back 2 h
      const longAgo = store.querySeries({ node: 'a', metrics: ['cpu_pct'], fromMs: now - 45 * DAY, toMs: now, maxPoints: 100 })!;
      expect(longAgo.resolution).toBe('1h');
      const values = longAgo.data[1]!.filter((v) => v !== null);
      expect(values).not.toContain(1); // 40 days old: past the 1 h tier's 30 days
      expect(values).toContain(2);
    });

    it('keeps each node status, info and latest sample', () => {
      insert('n', [sample(0, now - 1000, 5, { filesystems: [{ mount: '/', size_bytes: 10, used_bytes: 9, used_pct: 90 }] })]);
      insert('n', [sample(1, now - 5000, 7)]); // older, arrives late: not the latest
      store.setStatus('n', 'offline', now);
      const [node] = store.listNodes();
      expect(node).toMatchObject({ name: 'n', status: 'offline', last_seen_ms: now - 1000, latest: { cpu_pct: 5, disk_pct: 90 } });
      expect(store.nodeDetail('n')!.sample!.seq).toBe(0);
      expect(store.nodeDetail('ghost')).toBeNull();
      expect(store.querySeries({ node: 'ghost', metrics: ['cpu_pct'], fromMs: 0, toMs: now, maxPoints: 10 })).toBeNull();
    });
  });
}
