// Labelled series on SQLite: their raw values are the samples' detail blobs (hub/sample-detail.ts),
// in rows and, after two hours, in compacted chunks (hub/chunk-store.ts); the rollup run rebuilds
// each node's 1 min buckets of the minutes it stored since the last run from those blobs
// (labelled_series and labelled_rollups, migration 014), and reads serve short ranges from the
// blobs and longer ones from the buckets, in uPlot's aligned shape.
import type Database from 'better-sqlite3';
import type { ChunkStore } from './chunk-store.ts';
import { decodeDetail } from './sample-detail.ts';
import { labelledValues, labelsKey } from './labelled-values.ts';
import { NODE_MINUTES_SQL, NODE_RANGE_SQL, minuteList } from './sample-minutes.ts';

/**
 * Label sets one node may have in a minute's buckets. A node's own metrics come from its scripts, and
 * one that puts a request id or a time in a label would make a new series every sample: past this,
 * the minute's other series are not bucketed (their raw values stay in the samples) and the hub
 * says so once per node.
 */
export const MAX_SERIES_PER_NODE_MINUTE = 2000;

/** Up to this range a chart reads the raw blobs (one decode a sample: 3,600 at 1 Hz); past it, the minute buckets. */
export const RAW_LABELLED_MS = 3_600_000;

/** One labelled metric of a node over a range: [times in s, one column per label set]. */
export interface LabelledSeries {
  labels: Record<string, string>[];
  data: [number[], ...(number | null)[][]];
  resolution: 'raw' | '1m';
  step_s: number | null;
}

interface Bucket {
  n: number;
  sum: number;
}

export class LabelledRollups {
  private readonly stmt;
  /** Nodes already told of (once each): over the label-set limit. */
  private readonly overLimit = new Set<number>();

  /** Series ids by node, name and label set (`name\u0000labels`), as they are made. */
  private readonly ids = new Map<number, Map<string, number>>();

  constructor(
    db: Database.Database,
    private readonly chunks: ChunkStore,
    private readonly onOverLimit: (nodeId: number, limit: number) => void = () => {},
  ) {
    this.stmt = {
      details: db.prepare<[string, number], { ts_ms: number; detail: Uint8Array | null }>(`SELECT ts_ms, detail FROM samples WHERE ${NODE_MINUTES_SQL}`),
      rangeDetails: db.prepare<[string, number, number, number], { ts_ms: number; detail: Uint8Array | null }>(
        `SELECT ts_ms, detail FROM samples WHERE ${NODE_RANGE_SQL} ORDER BY ts_ms`,
      ),
      seriesOf: db.prepare<[number], { id: number; name: string; labels: string }>('SELECT id, name, labels FROM labelled_series WHERE node_id = ?'),
      addSeries: db.prepare<[number, string, string], { id: number }>('INSERT INTO labelled_series (node_id, name, labels) VALUES (?, ?, ?) RETURNING id'),
      clear: db.prepare(
        'DELETE FROM labelled_rollups WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ?) AND bucket_ms IN (SELECT value * 60000 FROM json_each(?))',
      ),
      insert: db.prepare('INSERT INTO labelled_rollups (series_id, bucket_ms, n, sum) VALUES (?, ?, ?, ?)'),
      buckets: db.prepare<[number, number, string, number, number], { t: number; labels: string; mean: number }>(
        `SELECT r.bucket_ms - (r.bucket_ms % ?) AS t, s.labels, sum(r.sum) / sum(r.n) AS mean
         FROM labelled_series s JOIN labelled_rollups r ON r.series_id = s.id
         WHERE s.node_id = ? AND s.name = ? AND r.bucket_ms BETWEEN ? AND ? GROUP BY t, s.labels ORDER BY t`,
      ),
      purge: db.prepare('DELETE FROM labelled_rollups WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ?) AND bucket_ms < ?'),
      purgeNode: db.prepare('DELETE FROM labelled_rollups WHERE series_id IN (SELECT id FROM labelled_series WHERE node_id = ?)'),
      purgeNodeSeries: db.prepare('DELETE FROM labelled_series WHERE node_id = ?'),
    };
  }

  /** Rebuilds a node's buckets of the given minutes (ms since 1970 / 60,000) from its stored samples; in the caller's transaction. */
  rebuild(nodeId: number, minutes: readonly number[]): void {
    if (minutes.length === 0) return;
    const list = JSON.stringify(minutes);
    const buckets = new Map<string, Bucket>();
    const perMinute = new Map<number, number>();
    for (const { ts_ms, detail } of this.minuteDetails(nodeId, minutes, list)) {
      if (!detail) continue;
      const bucketMs = ts_ms - (ts_ms % 60_000);
      for (const v of labelledValues(decodeDetail(detail))) {
        const key = `${v.name}\u0000${labelsKey(v.labels)}\u0000${bucketMs}`;
        const b = buckets.get(key);
        if (!b) {
          const n = perMinute.get(bucketMs) ?? 0;
          if (n >= MAX_SERIES_PER_NODE_MINUTE) {
            if (!this.overLimit.has(nodeId)) {
              this.overLimit.add(nodeId);
              this.onOverLimit(nodeId, MAX_SERIES_PER_NODE_MINUTE);
            }
            continue;
          }
          perMinute.set(bucketMs, n + 1);
          buckets.set(key, { n: 1, sum: v.value });
        } else {
          b.n++;
          b.sum += v.value;
        }
      }
    }
    this.stmt.clear.run(nodeId, list);
    for (const [key, b] of buckets) {
      const [name, labels, bucketMs] = key.split('\u0000') as [string, string, string];
      this.stmt.insert.run(this.seriesId(nodeId, name, labels), Number(bucketMs), b.n, b.sum);
    }
  }

  /** The id of a node's series, made on first use. */
  private seriesId(nodeId: number, name: string, labels: string): number {
    let ids = this.ids.get(nodeId);
    if (!ids) {
      ids = new Map(this.stmt.seriesOf.all(nodeId).map((r) => [`${r.name}\u0000${r.labels}`, r.id]));
      this.ids.set(nodeId, ids);
    }
    const key = `${name}\u0000${labels}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = this.stmt.addSeries.get(nodeId, name, labels)!.id));
    return id;
  }

  /** The node's samples in these minutes: rows, and those already compacted into chunks. */
  private minuteDetails(nodeId: number, minutes: readonly number[], list: string): { ts_ms: number; detail: Uint8Array | null }[] {
    const rows = this.stmt.details.all(list, nodeId);
    const fromMs = Math.min(...minutes) * 60_000;
    const toMs = (Math.max(...minutes) + 1) * 60_000 - 1;
    if (!this.chunks.holds(nodeId, fromMs, toMs)) return rows;
    const wanted = new Set(minutes);
    return [...rows, ...this.chunks.details(nodeId, fromMs, toMs).filter((d) => wanted.has(Math.floor(d.ts_ms / 60_000)))];
  }

  /**
   * A labelled metric of a node over [fromMs, toMs] in about `points` steps: raw values for short
   * ranges (averaged into steps when there are more samples than points), else means of the minute
   * buckets per step.
   */
  query(nodeId: number, name: string, fromMs: number, toMs: number, points: number): LabelledSeries {
    const columns = new Map<string, Map<number, number>>();
    const times = new Set<number>();
    const put = (labels: string, t: number, value: number) => {
      let col = columns.get(labels);
      if (!col) columns.set(labels, (col = new Map()));
      col.set(t, value);
      times.add(t);
    };
    let resolution: LabelledSeries['resolution'];
    let stepMs: number | null;
    if (toMs - fromMs <= RAW_LABELLED_MS) {
      resolution = 'raw';
      const rows = this.stmt.rangeDetails.all(minuteList(fromMs, toMs), nodeId, fromMs, toMs);
      if (this.chunks.holds(nodeId, fromMs, toMs)) rows.push(...this.chunks.details(nodeId, fromMs, toMs));
      stepMs = rows.length > points ? Math.ceil((toMs - fromMs) / points / 1000) * 1000 : null;
      const sums = new Map<string, { sum: number; n: number }>();
      for (const { ts_ms, detail } of rows) {
        if (!detail) continue;
        const t = stepMs ? ts_ms - (ts_ms % stepMs) : ts_ms;
        for (const v of labelledValues(decodeDetail(detail))) {
          if (v.name !== name) continue;
          const labels = labelsKey(v.labels);
          if (!stepMs) put(labels, t, v.value);
          else {
            const key = `${labels}\u0000${t}`;
            const s = sums.get(key) ?? { sum: 0, n: 0 };
            s.sum += v.value;
            s.n++;
            sums.set(key, s);
          }
        }
      }
      for (const [key, s] of sums) {
        const [labels, t] = key.split('\u0000') as [string, string];
        put(labels, Number(t), s.sum / s.n);
      }
    } else {
      resolution = '1m';
      stepMs = Math.max(60_000, Math.ceil((toMs - fromMs) / points / 60_000) * 60_000);
      for (const r of this.stmt.buckets.iterate(stepMs, nodeId, name, fromMs - (fromMs % 60_000), toMs)) put(r.labels, r.t, r.mean);
    }
    const order = [...times].sort((a, b) => a - b);
    const labelSets = [...columns.keys()].sort();
    return {
      labels: labelSets.map((l) => JSON.parse(l) as Record<string, string>),
      data: [order.map((t) => t / 1000), ...labelSets.map((l) => order.map((t) => columns.get(l)!.get(t) ?? null))],
      resolution,
      step_s: stepMs === null ? null : stepMs / 1000,
    };
  }

  /** Drops a node's buckets older than `beforeMs` (retention), or all of them. */
  purge(nodeId: number, beforeMs = Infinity): number {
    if (beforeMs !== Infinity) return this.stmt.purge.run(nodeId, beforeMs).changes;
    this.ids.delete(nodeId);
    return this.stmt.purgeNode.run(nodeId).changes + this.stmt.purgeNodeSeries.run(nodeId).changes;
  }
}
