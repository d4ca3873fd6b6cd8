// Labelled series on SQLite: their raw values are the samples' detail blobs (hub/storage/sample-detail.ts),
// in rows and, after two hours, in compacted chunks (hub/storage/sqlite/chunk-store.ts); the rollup run rebuilds
// each node's 1 min buckets of the minutes it stored since the last run from those blobs
// (labelled_series and labelled_rollups, migration 014), and reads serve short ranges from the
// blobs and longer ones from the buckets, in uPlot's aligned shape.
import type Database from 'better-sqlite3';
import type { ChunkStore } from './chunk-store.ts';
import { LabelledChunks } from './labelled-chunks.ts';
import {
  bucketedLabelledSeries,
  bucketStepMs,
  MAX_SERIES_PER_NODE_MINUTE,
  minuteBuckets,
  RAW_LABELLED_MS,
  rawLabelledSeries,
  type DetailRow,
  type LabelledSeries,
} from '../labelled-series.ts';
import { NODE_MINUTES_SQL, NODE_RANGE_SQL, minuteList } from './sample-minutes.ts';

export { MAX_SERIES_PER_NODE_MINUTE, type LabelledSeries } from '../labelled-series.ts';

export class LabelledRollups {
  private readonly stmt;
  /** Buckets of whole hours past, compressed in windows of a day (hub/storage/sqlite/labelled-chunks.ts). */
  readonly compacted: LabelledChunks;
  /** Nodes already told of (once each): over the label-set limit. */
  private readonly overLimit = new Set<number>();

  /** Series ids by node, name and label set (`name\u0000labels`), as they are made. */
  private readonly ids = new Map<number, Map<string, number>>();

  constructor(
    db: Database.Database,
    private readonly chunks: ChunkStore,
    private readonly onOverLimit: (nodeId: number, limit: number) => void = () => {},
  ) {
    this.compacted = new LabelledChunks(db);
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
    const { buckets, overLimit } = minuteBuckets(this.minuteDetails(nodeId, minutes, list));
    if (overLimit && !this.overLimit.has(nodeId)) {
      this.overLimit.add(nodeId);
      this.onOverLimit(nodeId, MAX_SERIES_PER_NODE_MINUTE);
    }
    this.compacted.expand(nodeId, minutes);
    this.stmt.clear.run(nodeId, list);
    for (const b of buckets) this.stmt.insert.run(this.seriesId(nodeId, b.name, b.labels), b.bucketMs, b.n, b.sum);
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
    if (toMs - fromMs <= RAW_LABELLED_MS) {
      const rows: DetailRow[] = this.stmt.rangeDetails.all(minuteList(fromMs, toMs), nodeId, fromMs, toMs);
      if (this.chunks.holds(nodeId, fromMs, toMs)) rows.push(...this.chunks.details(nodeId, fromMs, toMs));
      return rawLabelledSeries(rows, name, fromMs, toMs, points);
    }
    const stepMs = bucketStepMs(fromMs, toMs, points);
    const from = fromMs - (fromMs % 60_000);
    const compacted = this.compacted.holds(nodeId, name, from, toMs);
    return bucketedLabelledSeries(
      compacted ? this.compacted.means(nodeId, name, stepMs, from, toMs) : this.stmt.buckets.iterate(stepMs, nodeId, name, from, toMs),
      stepMs,
    );
  }

  /** Drops a node's buckets older than `beforeMs` (retention), or all of them. */
  purge(nodeId: number, beforeMs = Infinity): number {
    const chunks = this.compacted.purge(nodeId, beforeMs);
    if (beforeMs !== Infinity) return chunks + this.stmt.purge.run(nodeId, beforeMs).changes;
    this.ids.delete(nodeId);
    return chunks + this.stmt.purgeNode.run(nodeId).changes + this.stmt.purgeNodeSeries.run(nodeId).changes;
  }
}
