// A window of 1 min buckets that only repeat the raw samples they were summed from (a node sampled
// once a minute or less: one sample a bucket, so each metric's min, max and sum are that sample's
// value) is kept as the times and seqs of those samples instead of the buckets themselves: the
// values are in the raw chunks already, and the buckets cost as many bytes again. Naming the
// samples, not the minutes, keeps a restated window as it was when samples come late for it: a late
// sample is not one of those named. Pure: the caller reads the raw samples and writes the result.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Reader, Writer, type BucketColumns, type BucketRows } from './chunk-codec.ts';
import { SAMPLE_COLUMNS } from './packed-samples.ts';
import { alignDown } from './rollups.ts';

// Its own first byte, apart from the bucket chunks' (0x11–0x13) and the sample chunks' (1–3). Then,
// deflated (on these few bytes smaller than brotli): the count, then the times as deltas of deltas
// and the seqs as deltas, zigzag varints.
const RESTATED_FORMAT = 0x20;

/**
 * A restated window takes fewer bytes than this (some tens at a sample a minute); one that would
 * take more (times far from regular) is kept as buckets, so that a store finds its restated windows
 * among its small chunks by their length alone.
 */
export const RESTATED_MAX_BYTES = 1024;
const MINUTE_MS = 60_000;
const WIDTH = 4 * SAMPLE_COLUMNS.length;

/**
 * Raw samples in (ts_ms, seq) order, column by column (at the indexes of SAMPLE_COLUMNS; null, NaN
 * or a column left out where there is no value): a decoded chunk, some of its columns
 * (decodeChunkColumns), or rows in that form. A window's samples come as the parts that hold them.
 */
export interface RawColumns {
  tsMs: ArrayLike<number>;
  seq: ArrayLike<number>;
  columns: readonly (ArrayLike<number | null> | undefined)[];
}

/** A part's value of metric `m` at row `j`, null where it has none. */
function valueAt(part: RawColumns, m: number, j: number): number | null {
  const v = part.columns[m]?.[j];
  return v === null || v === undefined || Number.isNaN(v) ? null : v;
}

/** Whether a rollup chunk's bytes are a restated window rather than buckets. */
export const isRestated = (data: Uint8Array) => data[0] === RESTATED_FORMAT;

/**
 * The window's buckets as the samples they repeat, or null when they do not repeat them exactly:
 * a bucket of more than one sample, a minute with other raw samples than the one summed (late ones
 * not yet rolled up), a value that differs in any bit; or when it would take RESTATED_MAX_BYTES or
 * more. `parts`: the node's raw samples of the window.
 */
export function restated(buckets: BucketRows, parts: readonly RawColumns[]): Uint8Array | null {
  const count = buckets.bucketMs.length;
  if (count === 0 || buckets.n.some((n) => n !== 1) || buckets.columns.length > WIDTH) return null;
  // Every sample of the buckets' minutes, in time order across the parts.
  const first = buckets.bucketMs[0]!;
  const last = buckets.bucketMs[count - 1]! + MINUTE_MS - 1;
  const samples: [RawColumns, number][] = [];
  for (const part of parts) for (let j = 0; j < part.tsMs.length; j++) if (part.tsMs[j]! >= first && part.tsMs[j]! <= last) samples.push([part, j]);
  samples.sort(([a, i], [b, j]) => a.tsMs[i]! - b.tsMs[j]! || a.seq[i]! - b.seq[j]!);
  const tsMs: number[] = [];
  const seq: number[] = [];
  let s = 0;
  for (let i = 0; i < count; i++) {
    const minute = buckets.bucketMs[i]!;
    const minuteOf = (k: number) => alignDown(samples[k]![0].tsMs[samples[k]![1]]!, MINUTE_MS);
    while (s < samples.length && minuteOf(s) < minute) s++;
    if (s >= samples.length || minuteOf(s) !== minute || (s + 1 < samples.length && minuteOf(s + 1) === minute)) return null;
    const [part, j] = samples[s]!;
    for (let c = 0; c < WIDTH; c++) if ((buckets.columns[c]?.[i] ?? absent(c)) !== bucketValue(valueAt(part, c >> 2, j), c)) return null;
    tsMs.push(part.tsMs[j]!);
    seq.push(part.seq[j]!);
  }
  const w = new Writer(8 * count + 16);
  w.uint(count);
  for (let i = 0, lastTs = 0, lastStep = 0, lastSeq = 0; i < count; i++) {
    const step = tsMs[i]! - lastTs;
    w.int(step - lastStep);
    w.int(seq[i]! - lastSeq);
    [lastTs, lastStep, lastSeq] = [tsMs[i]!, step, seq[i]!];
  }
  const named = deflateRawSync(w.done(), { level: 9 });
  if (1 + named.length >= RESTATED_MAX_BYTES) return null;
  const out = new Uint8Array(1 + named.length);
  out[0] = RESTATED_FORMAT;
  out.set(named, 1);
  return out;
}

/**
 * The buckets a restated window stands for, from the raw samples of the window. Throws when one it
 * names is gone: raw retention must not purge samples that a restated window still names
 * (hub/storage/sqlite/rollup-chunks.ts writes those out first).
 */
export function restatedBuckets(data: Uint8Array, parts: readonly RawColumns[]): BucketRows {
  const named = namedSamples(data);
  const found = located(named, parts);
  if ('gone' in found) throw goneError(found.gone);
  const out: BucketRows = { bucketMs: [], n: [], columns: Array.from({ length: WIDTH }, () => []) };
  for (let i = 0; i < named.tsMs.length; i++) {
    const part = parts[found.part[i]!]!;
    const j = found.row[i]!;
    out.bucketMs.push(alignDown(named.tsMs[i]!, MINUTE_MS));
    out.n.push(1);
    for (let c = 0; c < WIDTH; c++) out.columns[c]!.push(bucketValue(valueAt(part, c >> 2, j), c));
  }
  return out;
}

/**
 * A chart's read of a restated window: each bucket's start, then the sum and count of each of
 * `metrics` (indexes into SAMPLE_COLUMNS) in turn, as decodeBucketColumns() gives them from a chunk
 * (NaN for no sum), straight from the raw samples' columns into typed arrays: a 7-day chart reads
 * 28 windows, and an array a bucket cost most of such a read. Null when a sample it names is not in `parts`.
 */
export function restatedSums(data: Uint8Array, parts: readonly RawColumns[], metrics: readonly number[]): BucketColumns | null {
  const named = namedSamples(data);
  const found = located(named, parts);
  if ('gone' in found) return null;
  const count = named.tsMs.length;
  const all = new Float64Array(count * (1 + 2 * metrics.length));
  const bucketMs = all.subarray(0, count);
  const columns = Array.from({ length: 2 * metrics.length }, (_, k) => all.subarray((1 + k) * count, (2 + k) * count));
  for (let i = 0; i < count; i++) {
    const part = parts[found.part[i]!]!;
    const j = found.row[i]!;
    bucketMs[i] = alignDown(named.tsMs[i]!, MINUTE_MS);
    for (let k = 0; k < metrics.length; k++) {
      const value = valueAt(part, metrics[k]!, j);
      columns[2 * k]![i] = value ?? NaN;
      columns[2 * k + 1]![i] = value === null ? 0 : 1;
    }
  }
  return { bucketMs, columns };
}

/** The (ts_ms, seq) of the samples a restated window names. */
function namedSamples(data: Uint8Array): Named {
  if (!isRestated(data)) throw new RangeError('not a restated window of 1 min buckets');
  const r = new Reader(inflateRawSync(data.subarray(1)));
  const count = r.uint();
  const tsMs = new Float64Array(count);
  const seq = new Float64Array(count);
  for (let i = 0, lastTs = 0, lastStep = 0, lastSeq = 0; i < count; i++) {
    lastStep += r.int();
    tsMs[i] = lastTs += lastStep;
    seq[i] = lastSeq += r.int();
  }
  if (r.at !== r.bytes.length) throw new RangeError(`a restated window has ${r.bytes.length - r.at} bytes past its end`);
  return { tsMs, seq };
}

interface Named {
  tsMs: Float64Array;
  seq: Float64Array;
}

/** The first sample a restated window names that is not in `parts`, as an error that says which. */
const goneError = ({ ts, seq }: { ts: number; seq: number }) =>
  new RangeError(`a restated window of 1 min buckets names the raw sample at ${new Date(ts).toISOString()} (seq ${seq}), which is gone`);

/** Where each sample a restated window names is in `parts` (its part and row there), or the first that is not there. */
function located({ tsMs, seq }: Named, parts: readonly RawColumns[]): { part: Uint8Array; row: Uint32Array } | { gone: { ts: number; seq: number } } {
  const part = new Uint8Array(tsMs.length);
  const row = new Uint32Array(tsMs.length);
  // Each part is in (ts_ms, seq) order and so are the names: one pass over each part.
  const at = parts.map(() => 0);
  for (let i = 0; i < tsMs.length; i++) {
    const ts = tsMs[i]!;
    const s = seq[i]!;
    let p = 0;
    for (; p < parts.length; p++) {
      const { tsMs: times, seq: seqs } = parts[p]!;
      let j = at[p]!;
      while (j < times.length && (times[j]! < ts || (times[j] === ts && seqs[j]! < s))) j++;
      at[p] = j;
      if (j < times.length && times[j] === ts && seqs[j] === s) break;
    }
    if (p === parts.length) return { gone: { ts, seq: s } };
    part[i] = p;
    row[i] = at[p]!;
  }
  return { part, row };
}

/** Column `c` (min, max, sum, count of each metric in turn) of the bucket of one sample whose metric's value is `value`. */
function bucketValue(value: number | null, c: number): number | null {
  if (c % 4 === 3) return value === null ? 0 : 1;
  return value;
}

/** What a bucket column written before the registry grew holds for the metrics added since. */
const absent = (c: number) => (c % 4 === 3 ? 0 : null);
