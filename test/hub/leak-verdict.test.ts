// The leak verdict as a table of synthetic series with a known answer (hub/leak-verdict.ts).
import { describe, expect, it } from 'vitest';
import { analyzeLeak, linearFit, parseThresholds } from '../../hub/leak-verdict.ts';
import { syntheticSeries, type Shape } from '../../hub/synthetic-memory.ts';

const TABLE: [Shape, string, number | undefined, string][] = [
  ['steady-leak', '40 MB climb over 4 min', undefined, 'leak suspected'],
  ['slow-leak-noisy', '12 MB climb under ±1 MB noise', undefined, 'leak suspected'],
  ['leaky-sawtooth', 'GC sawtooth whose floor climbs 20 MB', undefined, 'leak suspected'],
  ['flat', 'flat', undefined, 'no leak'],
  ['noisy-flat', 'flat under ±3 MB noise', undefined, 'no leak'],
  ['sawtooth', 'GC sawtooth, 30 MB teeth, level floor', undefined, 'no leak'],
  ['warmup-plateau', 'fills 50 MB of caches, then stays', undefined, 'no leak'],
  ['step-then-flat', 'one 25 MB step mid-session, then flat', undefined, 'no leak'],
  ['shrinking', 'falls 40 MB', undefined, 'no leak'],
  ['steady-leak', 'a steady climb, but only 8 samples', 8, 'not enough data'],
];

describe('leak verdict', () => {
  it.each(TABLE)('%s (%s; samples %s) → %s', (shape, _what, samples, expected) => {
    const a = analyzeLeak(syntheticSeries({ shape, samples }));
    expect(a.verdict, a.reason).toBe(expected);
  });

  it('reports slope, r², growth and the fitted line of a steady climb', () => {
    const a = analyzeLeak(syntheticSeries({ shape: 'steady-leak' })); // 40 MB over 239 s
    expect(a.slope_mb_per_h).toBeGreaterThan(550); // 40 MB / 239 s ≈ 602 MB/h
    expect(a.slope_mb_per_h).toBeLessThan(650);
    expect(a.r2).toBeGreaterThan(0.99);
    expect(a.growth_bytes! / 1024 / 1024).toBeGreaterThan(30);
    expect(a.fit!.slope_bytes_per_ms).toBeGreaterThan(0);
  });

  it('calls too short a session not enough data, whatever its shape', () => {
    expect(analyzeLeak(syntheticSeries({ shape: 'steady-leak', samples: 30, intervalMs: 50 })).verdict).toBe('not enough data');
    expect(analyzeLeak([]).verdict).toBe('not enough data');
  });

  it('takes its thresholds as options', () => {
    const series = syntheticSeries({ shape: 'steady-leak' });
    expect(analyzeLeak(series, { minSlopeMbPerHour: 10_000 }).verdict).toBe('no leak');
    expect(parseThresholds({ minR2: 0.8 })).toEqual({ minR2: 0.8 });
    expect(parseThresholds({ minR3: 1 })).toMatchObject({ problem: expect.stringContaining('unknown leak threshold "minR3"') });
    expect(parseThresholds({ minR2: -1 })).toMatchObject({ problem: expect.stringContaining('"minR2" must be a number ≥ 0, got -1') });
  });

  it('fits a line by least squares', () => {
    const f = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(f.slope).toBeCloseTo(2);
    expect(f.intercept).toBeCloseTo(1);
    expect(f.r2).toBeCloseTo(1);
  });
});
