// Two SQLite stores given the same samples, one of them compacted: every chart of the one must be
// the other's, to the last bit.
import { expect } from 'vitest';
import type { SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import type { SeriesMetric } from '../../shared/api-types.ts';

/** A chart's range: what it is, from, to, and the points asked for. */
export type ChartRange = [label: string, fromMs: number, toMs: number, maxPoints: number];

/** Each chart of each node from `compacted` equals the one from `rows`, and none is read from raw samples. */
export function expectSameCharts(
  compacted: SqliteStore,
  rows: SqliteStore,
  charts: readonly ChartRange[],
  nodes: readonly string[],
  metrics: SeriesMetric[],
): void {
  for (const [label, fromMs, toMs, maxPoints] of charts) {
    for (const node of nodes) {
      const want = rows.querySeries({ node, metrics, fromMs, toMs, maxPoints })!;
      const got = compacted.querySeries({ node, metrics, fromMs, toMs, maxPoints })!;
      expect(got.resolution, label).not.toBe('raw');
      expect(got, `${label}, node ${node}`).toEqual(want);
    }
  }
}
