import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../hub/sqlite-store.ts';
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
      const samples: Sample[] = Array.from({ length: 120 }, (_, k) => ({ v: 1, boot: 'b', seq: k, ts_ms: now - 2 * 3_600_000 + k * 60_000, cpu_pct: 10 * (i + 1) }));
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
