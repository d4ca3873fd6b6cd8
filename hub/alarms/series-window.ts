// A bounded window of one series (time, value) with running sums, so that the least-squares fit of
// the trend costs O(1) per sample whatever the window holds. Times are kept relative to a base and
// values relative to a reference, and the sums are rebuilt from the points every so often (as many
// pushes as points held, at least 64): that keeps them free of the
// drift that adding and subtracting floats for days would bring.
// Memory is bounded by bucketing: points closer than `bucketMs` merge into one (mean time, mean
// value), so a 6-hour trend window of 1-second samples holds 720 points, not 21,600.
import { ExactSum } from './exact-sum.ts';

export interface Fit {
  /** Points in the fit. */
  n: number;
  /** From the oldest to the newest point, ms. */
  spanMs: number;
  /** Units per ms. */
  slope: number;
  /** The fitted line's value at `atMs`. */
  valueAt: (atMs: number) => number;
  /** Coefficient of determination, 0–1 (1 when the points lie on the line). */
  r2: number;
}

/** What the evaluator reads: never mutated by it. */
export interface WindowView {
  readonly length: number;
  /** Time of the newest point, -Infinity when empty. */
  readonly lastT: number;
  /** Mean and count of the points with fromMs < t ≤ toMs. */
  mean(fromMs: number, toMs: number): { mean: number; count: number };
  /** Least-squares fit of the points with fromMs ≤ t < toMs; null with fewer than 2 points or no time spread. */
  fit(fromMs: number, toMs?: number): Fit | null;
}

export class SeriesWindow implements WindowView {
  private t: number[] = [];
  private v: number[] = [];
  private head = 0;
  private baseT = 0;
  private baseV = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private syy = 0;
  private pushes = 0;
  private newest = -Infinity;
  private lastBucket = NaN;
  private bucketN = 0;
  private bucketT = 0;
  private bucketV = 0;

  /**
   * `keepMs`: how far back from the newest point the window reaches. `bucketMs`: points within the
   * same bucket of this length merge into one (0: every point is kept).
   */
  constructor(
    private readonly keepMs: number,
    private readonly bucketMs = 0,
  ) {}

  get length(): number {
    return this.t.length - this.head;
  }

  get lastT(): number {
    return this.length > 0 ? this.newest : -Infinity;
  }

  /** Adds a point; a point not newer than the newest is ignored (duplicates, reordering). */
  push(tMs: number, value: number): void {
    if (!(tMs > this.lastT) || !Number.isFinite(value)) return;
    this.newest = tMs;
    const bucket = this.bucketMs > 0 ? Math.floor(tMs / this.bucketMs) : NaN;
    if (bucket === this.lastBucket && this.length > 0) {
      // Same bucket as the newest point: replace it by the mean of the bucket's points.
      const i = this.t.length - 1;
      this.add(this.t[i]!, this.v[i]!, -1);
      this.bucketN++;
      this.bucketT += tMs;
      this.bucketV += value;
      this.t[i] = this.bucketT / this.bucketN;
      this.v[i] = this.bucketV / this.bucketN;
      this.add(this.t[i]!, this.v[i]!, 1);
      return;
    }
    this.lastBucket = bucket;
    this.bucketN = 1;
    this.bucketT = tMs;
    this.bucketV = value;
    if (this.length === 0) this.rebase(tMs, value);
    this.t.push(tMs);
    this.v.push(value);
    this.add(tMs, value, 1);
    const cutoff = tMs - this.keepMs;
    while (this.head < this.t.length && this.t[this.head]! < cutoff) {
      this.add(this.t[this.head]!, this.v[this.head]!, -1);
      this.head++;
    }
    if (++this.pushes >= Math.max(64, this.length)) this.rebuild();
  }

  private add(tMs: number, value: number, sign: 1 | -1): void {
    const x = (tMs - this.baseT) / 1000;
    const y = value - this.baseV;
    this.sx += sign * x;
    this.sy += sign * y;
    this.sxx += sign * x * x;
    this.sxy += sign * x * y;
    this.syy += sign * y * y;
  }

  private rebase(tMs: number, value: number): void {
    this.baseT = tMs;
    this.baseV = value;
    this.sx = this.sy = this.sxx = this.sxy = this.syy = 0;
  }

  /** Drops the consumed head of the arrays and recomputes the sums from the points. */
  private rebuild(): void {
    this.t = this.t.slice(this.head);
    this.v = this.v.slice(this.head);
    this.head = 0;
    this.pushes = 0;
    if (this.t.length === 0) return;
    this.rebase(this.t[0]!, this.v[0]!);
    for (let i = 0; i < this.t.length; i++) this.add(this.t[i]!, this.v[i]!, 1);
  }

  mean(fromMs: number, toMs: number): { mean: number; count: number } {
    let sum = 0;
    let count = 0;
    // The short window is the newest few points: walk back from the end.
    for (let i = this.t.length - 1; i >= this.head; i--) {
      const t = this.t[i]!;
      if (t <= fromMs) break;
      if (t > toMs) continue;
      sum += this.v[i]!;
      count++;
    }
    return { mean: count > 0 ? sum / count : NaN, count };
  }

  fit(fromMs: number, toMs = Infinity): Fit | null {
    const first = this.t[this.head];
    if (first === undefined) return null;
    // The whole window: the running sums. A part of it: a scan (only asked for when a trend is plausible).
    if (fromMs <= first && toMs > this.lastT) return this.fromSums(this.length, this.sx, this.sy, this.sxx, this.sxy, this.syy, first);
    let n = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0,
      syy = 0;
    let oldest = Infinity;
    let newest = -Infinity;
    for (let i = this.t.length - 1; i >= this.head && this.t[i]! >= fromMs; i--) {
      if (this.t[i]! >= toMs) continue;
      if (newest === -Infinity) newest = this.t[i]!;
      const x = (this.t[i]! - this.baseT) / 1000;
      const y = this.v[i]! - this.baseV;
      n++;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
      syy += y * y;
      oldest = this.t[i]!;
    }
    return this.fromSums(n, sx, sy, sxx, sxy, syy, oldest, newest);
  }

  private fromSums(n: number, sx: number, sy: number, sxx: number, sxy: number, syy: number, oldest: number, newest = this.lastT): Fit | null {
    if (n < 2) return null;
    const vxx = sxx - (sx * sx) / n;
    const vxy = sxy - (sx * sy) / n;
    const vyy = syy - (sy * sy) / n;
    if (!(vxx > 1e-9)) return null;
    const slopePerS = vxy / vxx;
    const meanX = sx / n;
    const meanY = sy / n;
    // A flat line through flat data fits perfectly but predicts nothing; r² 0 keeps it out of AMBER.
    const r2 = vyy > 1e-12 ? Math.min(1, (vxy * vxy) / (vxx * vyy)) : 0;
    const baseT = this.baseT;
    const baseV = this.baseV;
    return {
      n,
      spanMs: newest - oldest,
      slope: slopePerS / 1000,
      valueAt: (atMs) => baseV + meanY + slopePerS * ((atMs - baseT) / 1000 - meanX),
      r2,
    };
  }
}

/** A window holding the given points (tests and the bench). */
export function windowOf(points: readonly (readonly [number, number])[], keepMs = Infinity): SeriesWindow {
  const w = new SeriesWindow(keepMs);
  for (const [t, v] of points) w.push(t, v);
  return w;
}

/**
 * The short window RED judges: every point newer than `keepMs` before the newest, and their exact
 * sum (exact-sum.ts), so the mean over the whole window costs O(1) instead of a walk over every
 * point. The walk was most of the alarm engine's time on a node sending several samples a second.
 * The points sit in a ring of one typed array, time and value side by side, grown by doubling: off
 * the JS heap, never copied by a scavenge, and no array reallocated as the window slides. With
 * thousands of windows the engine waits on memory more than it computes, so a push touches as few
 * cache lines as it can: the newest time is a field, and a point's time and value share a line.
 */
export class MeanWindow {
  /** Point k of the ring: time at 2k, value at 2k + 1. Its capacity is a power of two. */
  private ring = new Float64Array(32);
  /** Capacity − 1, to wrap a ring position with a mask. */
  private mask = 15;
  /** Ring position of the oldest point. */
  private head = 0;
  private count = 0;
  private newest = -Infinity;
  private readonly sum = new ExactSum();

  constructor(private readonly keepMs: number) {}

  get length(): number {
    return this.count;
  }

  /** Time of the newest point, -Infinity when empty. */
  get lastT(): number {
    return this.count > 0 ? this.newest : -Infinity;
  }

  /** Adds a point; a point not newer than the newest is ignored (duplicates, reordering). */
  push(tMs: number, value: number): void {
    if (!(tMs > this.lastT) || !Number.isFinite(value)) return;
    if (this.count > this.mask) this.grow();
    const at = 2 * ((this.head + this.count) & this.mask);
    this.ring[at] = tMs;
    this.ring[at + 1] = value;
    this.count++;
    this.newest = tMs;
    this.sum.add(value);
    const cutoff = tMs - this.keepMs;
    while (this.count > 0 && this.ring[2 * this.head]! <= cutoff) {
      this.sum.subtract(this.ring[2 * this.head + 1]!);
      this.head = (this.head + 1) & this.mask;
      this.count--;
    }
  }

  /** Doubles the ring, the oldest point first. */
  private grow(): void {
    const ring = new Float64Array(this.ring.length * 2);
    for (let k = 0; k < this.count; k++) {
      const from = 2 * ((this.head + k) & this.mask);
      ring[2 * k] = this.ring[from]!;
      ring[2 * k + 1] = this.ring[from + 1]!;
    }
    this.ring = ring;
    this.mask = ring.length / 2 - 1;
    this.head = 0;
  }

  /** Mean and count of the points with fromMs < t ≤ toMs. */
  mean(fromMs: number, toMs: number): { mean: number; count: number } {
    const count = this.count;
    // Asked for everything held (the engine's case: the window ending at the newest point).
    if (count > 0 && fromMs <= this.newest - this.keepMs && toMs >= this.newest) return { mean: this.sum.value / count, count };
    let sum = 0;
    let n = 0;
    for (let k = count - 1; k >= 0; k--) {
      const at = 2 * ((this.head + k) & this.mask);
      const t = this.ring[at]!;
      if (t <= fromMs) break;
      if (t > toMs) continue;
      sum += this.ring[at + 1]!;
      n++;
    }
    return { mean: n > 0 ? sum / n : NaN, count: n };
  }
}

/**
 * What the engine keeps per alarm: the short window raw (the mean RED judges, exact whatever the
 * bucket size) and the trend window bucketed to at most `trendPoints` points (bounded memory).
 */
export class AlarmWindow implements WindowView {
  private readonly recent: MeanWindow;
  private readonly trend: SeriesWindow | null;

  constructor(windowMs: number, trendWindowMs: number | null, trendPoints: number) {
    this.recent = new MeanWindow(windowMs);
    this.trend = trendWindowMs ? new SeriesWindow(trendWindowMs, trendWindowMs / trendPoints) : null;
  }

  get length(): number {
    return this.recent.length;
  }

  get lastT(): number {
    return this.recent.lastT;
  }

  push(tMs: number, value: number): void {
    this.recent.push(tMs, value);
    this.trend?.push(tMs, value);
  }

  mean(fromMs: number, toMs: number): { mean: number; count: number } {
    return this.recent.mean(fromMs, toMs);
  }

  fit(fromMs: number, toMs?: number): Fit | null {
    return this.trend?.fit(fromMs, toMs) ?? null;
  }
}
