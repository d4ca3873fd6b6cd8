// The parts of labelled series that do not depend on the database, shared by the SQLite store
// (hub/storage/sqlite/labelled-rollups.ts) and the PostgreSQL one (hub/storage/postgres/pg-labelled.ts), so both give the same
// answers for the same samples: a node's minute buckets from its stored samples' detail blobs,
// and a chart's aligned columns from raw details or from bucket means.
import { decodeDetail } from './sample-detail.ts';
import { labelledValues, labelsKey } from './labelled-values.ts';

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

/** A stored sample's time and detail blob (hub/storage/sample-detail.ts). */
export interface DetailRow {
  ts_ms: number;
  detail: Uint8Array | null;
}

/** One series' 1 min bucket: `labels` as labelsKey gives it (canonical JSON). */
export interface MinuteBucket {
  name: string;
  labels: string;
  bucketMs: number;
  n: number;
  sum: number;
}

/**
 * Count and sum per series and minute of one node's samples, at most MAX_SERIES_PER_NODE_MINUTE
 * label sets a minute (first come, first bucketed); `overLimit` when some were left out.
 */
export function minuteBuckets(rows: Iterable<DetailRow>): { buckets: MinuteBucket[]; overLimit: boolean } {
  const buckets = new Map<string, MinuteBucket>();
  const perMinute = new Map<number, number>();
  let overLimit = false;
  for (const { ts_ms, detail } of rows) {
    if (!detail) continue;
    const bucketMs = ts_ms - (ts_ms % 60_000);
    for (const v of labelledValues(decodeDetail(detail))) {
      const labels = labelsKey(v.labels);
      const key = `${v.name}\u0000${labels}\u0000${bucketMs}`;
      const b = buckets.get(key);
      if (b) {
        b.n++;
        b.sum += v.value;
        continue;
      }
      const n = perMinute.get(bucketMs) ?? 0;
      if (n >= MAX_SERIES_PER_NODE_MINUTE) {
        overLimit = true;
        continue;
      }
      perMinute.set(bucketMs, n + 1);
      buckets.set(key, { name: v.name, labels, bucketMs, n: 1, sum: v.value });
    }
  }
  return { buckets: [...buckets.values()], overLimit };
}

/** Columns by label set (labelsKey), each a value by time (ms), made into the aligned response. */
class Columns {
  private readonly columns = new Map<string, Map<number, number>>();
  private readonly times = new Set<number>();

  put(labels: string, t: number, value: number): void {
    let col = this.columns.get(labels);
    if (!col) this.columns.set(labels, (col = new Map()));
    col.set(t, value);
    this.times.add(t);
  }

  series(resolution: LabelledSeries['resolution'], stepMs: number | null): LabelledSeries {
    const order = [...this.times].sort((a, b) => a - b);
    const labelSets = [...this.columns.keys()].sort();
    return {
      labels: labelSets.map((l) => JSON.parse(l) as Record<string, string>),
      data: [order.map((t) => t / 1000), ...labelSets.map((l) => order.map((t) => this.columns.get(l)!.get(t) ?? null))],
      resolution,
      step_s: stepMs === null ? null : stepMs / 1000,
    };
  }
}

/**
 * A labelled metric from the raw samples of [fromMs, toMs] (every stored row of the range, in any
 * order): each sample's values, or, when there are more samples than `points`, their means over
 * steps of whole seconds.
 */
export function rawLabelledSeries(rows: readonly DetailRow[], name: string, fromMs: number, toMs: number, points: number): LabelledSeries {
  const columns = new Columns();
  const stepMs = rows.length > points ? Math.ceil((toMs - fromMs) / points / 1000) * 1000 : null;
  const sums = new Map<string, { sum: number; n: number }>();
  for (const { ts_ms, detail } of rows) {
    if (!detail) continue;
    const t = stepMs ? ts_ms - (ts_ms % stepMs) : ts_ms;
    for (const v of labelledValues(decodeDetail(detail))) {
      if (v.name !== name) continue;
      const labels = labelsKey(v.labels);
      if (!stepMs) columns.put(labels, t, v.value);
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
    columns.put(labels, Number(t), s.sum / s.n);
  }
  return columns.series('raw', stepMs);
}

/** The step (ms, whole minutes) of a range read from the minute buckets in about `points` steps. */
export const bucketStepMs = (fromMs: number, toMs: number, points: number): number => Math.max(60_000, Math.ceil((toMs - fromMs) / points / 60_000) * 60_000);

/** A labelled metric from the means of its minute buckets per step (`t` the step's start, ms). */
export function bucketedLabelledSeries(rows: Iterable<{ t: number; labels: string; mean: number }>, stepMs: number): LabelledSeries {
  const columns = new Columns();
  for (const r of rows) columns.put(r.labels, r.t, r.mean);
  return columns.series('1m', stepMs);
}
