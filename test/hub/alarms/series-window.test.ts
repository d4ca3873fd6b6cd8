// The window behind the trend: running sums equal a direct least-squares fit, over days of pushes
// (sums rebuilt, no drift), and bucketing bounds the points without moving the line; the short
// window's mean comes from an exact running sum.
import { describe, expect, it } from 'vitest';
import { ExactSum } from '../../../hub/alarms/exact-sum.ts';
import { AlarmWindow, MeanWindow, SeriesWindow } from '../../../hub/alarms/series-window.ts';

/** Ordinary least squares computed directly, for comparison. */
function directFit(points: [number, number][]): { slope: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0,
    sxy = 0,
    syy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  return { slope: sxy / sxx, r2: (sxy * sxy) / (sxx * syy) };
}

describe('SeriesWindow', () => {
  it('keeps only keepMs of points and fits them as a direct computation does, after days of pushes', () => {
    const keep = 600_000;
    const w = new SeriesWindow(keep);
    const all: [number, number][] = [];
    // Three days at 1 s, a value far from 0 (RSS bytes) with a slow climb and a wobble.
    const t0 = 1_764_000_000_000;
    for (let i = 0; i < 3 * 86_400; i++) {
      const t = t0 + i * 1000;
      const v = 8e8 + i * 50 + ((i * 7919) % 1000);
      w.push(t, v);
      all.push([t, v]);
    }
    const inWindow = all.filter(([t]) => t >= all[all.length - 1]![0] - keep);
    expect(w.length).toBe(inWindow.length);
    const fit = w.fit(-Infinity)!;
    const direct = directFit(inWindow);
    expect(fit.slope).toBeCloseTo(direct.slope, 9);
    expect(fit.r2).toBeCloseTo(direct.r2, 6);
  });

  it('ignores points not newer than the newest, and non-finite values', () => {
    const w = new SeriesWindow(Infinity);
    w.push(1000, 1);
    w.push(1000, 2);
    w.push(500, 3);
    w.push(2000, NaN);
    expect(w.length).toBe(1);
  });

  it('bucketing holds at most one point per bucket and keeps the slope', () => {
    const raw = new SeriesWindow(7_200_000);
    const bucketed = new AlarmWindow(60_000, 7_200_000, 720);
    for (let t = 0; t <= 7_200_000; t += 1000) {
      const v = 40 + t / 360_000 + Math.sin(t / 7000);
      raw.push(t, v);
      bucketed.push(t, v);
    }
    const a = raw.fit(-Infinity)!;
    const b = bucketed.fit(-Infinity)!;
    expect(Math.abs(b.slope - a.slope) / a.slope).toBeLessThan(0.01);
    // The short window stays raw: the mean of the last minute is exact.
    expect(bucketed.mean(7_140_000, 7_200_000).count).toBe(60);
    expect((bucketed as unknown as { trend: SeriesWindow }).trend.length).toBeLessThanOrEqual(721);
  });
});

describe('MeanWindow', () => {
  it('after days of sliding, its O(1) mean is exactly the mean of what it holds', () => {
    const keep = 60_000;
    const w = new MeanWindow(keep);
    const held: number[] = [];
    // Two days at 1 s of CPU-like percentages with two decimals: values no float holds exactly.
    for (let i = 0; i < 2 * 86_400; i++) {
      const v = Math.round(((i * 7919) % 10_000) + 0.37 * (i % 3)) / 100;
      w.push(i * 1000, v);
      held.push(v);
      if (held.length > 60) held.shift();
    }
    const { mean, count } = w.mean(-Infinity, Infinity);
    expect(count).toBe(60);
    // The same as summing the held points afresh: two days of adding and taking out left no trace.
    const fresh = new ExactSum();
    for (const v of held) fresh.add(v);
    expect(mean).toBe(fresh.value / 60);
  });

  it('gives 85.5 for points whose mean is 85.5, where a running float sum drifts off it', () => {
    const w = new MeanWindow(2000);
    let running = 0;
    const values = [0.1, 0.7, 123.45, 85, 86];
    for (let i = 0; i < values.length; i++) {
      w.push(i * 1000, values[i]!);
      running += values[i]!;
      if (i >= 2) running -= values[i - 2]!;
    }
    expect(w.mean(-Infinity, Infinity)).toEqual({ mean: 85.5, count: 2 });
    expect(running / 2).not.toBe(85.5); // why the sum is kept exactly
  });

  it('holds points newer than keepMs before the newest, and answers other ranges by walking them', () => {
    const w = new MeanWindow(10_000);
    for (let t = 0; t <= 30_000; t += 1000) w.push(t, t / 1000);
    expect(w.length).toBe(10); // 21 s … 30 s: the point at exactly 20 s has left
    expect(w.mean(20_000, 30_000)).toEqual({ mean: 25.5, count: 10 });
    expect(w.mean(25_000, 28_000)).toEqual({ mean: 27, count: 3 });
    w.push(30_000, 99); // not newer: ignored
    w.push(31_000, NaN);
    expect(w.mean(20_000, 30_000).mean).toBe(25.5);
  });
});

describe('ExactSum', () => {
  it("is the correctly rounded sum, as Python's math.fsum gives it", () => {
    const tenths = new ExactSum();
    for (let i = 0; i < 10; i++) tenths.add(0.1);
    expect(tenths.value).toBe(1); // a plain sum gives 0.9999999999999999
    const s = new ExactSum();
    for (const v of [1e16, 1, -1e16]) s.add(v);
    expect(s.value).toBe(1); // a plain sum gives 0
  });

  it('takes out what was added without leaving a trace', () => {
    const s = new ExactSum();
    for (const v of [1e16, 0.1, 0.2, 3.3]) s.add(v);
    for (const v of [1e16, 0.1, 0.2]) s.subtract(v);
    expect(s.value).toBe(3.3);
    s.subtract(3.3);
    expect(s.value).toBe(0);
  });
});
