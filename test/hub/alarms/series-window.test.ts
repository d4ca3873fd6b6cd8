// The window behind the trend: running sums equal a direct least-squares fit, over days of pushes
// (sums rebuilt, no drift), and bucketing bounds the points without moving the line.
import { describe, expect, it } from 'vitest';
import { AlarmWindow, SeriesWindow } from '../../../hub/alarms/series-window.ts';

/** Ordinary least squares computed directly, for comparison. */
function directFit(points: [number, number][]): { slope: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
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
