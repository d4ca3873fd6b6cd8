// The leak verdict as a table of synthetic series with a known answer (hub/sessions/leak-verdict.ts).
import { describe, expect, it } from 'vitest';
import { analyzeLeak, linearFit, parseThresholds, type Verdict } from '../../hub/sessions/leak-verdict.ts';
import { syntheticSeries, type Shape } from '../../hub/sessions/synthetic-memory.ts';

const MB = 1024 * 1024;

const TABLE: [Shape, string, number | undefined, Verdict, string][] = [
  ['steady-leak', '40 MB climb over 4 min', undefined, 'leak suspected', 'Leak suspected'],
  ['slow-leak-noisy', '12 MB climb under ±1 MB noise', undefined, 'leak suspected', 'Leak suspected'],
  ['leaky-sawtooth', 'GC sawtooth whose floor climbs 20 MB', undefined, 'leak suspected', 'Leak suspected'],
  ['flat', 'flat', undefined, 'no leak', 'No leak'],
  ['noisy-flat', 'flat under ±3 MB noise', undefined, 'no leak', 'No leak'],
  // Its slope, 38 MB/h over the teeth, rises 2 MB in all: less than the 6 MB that counts as growth.
  ['sawtooth', 'GC sawtooth, 30 MB teeth, level floor', undefined, 'no leak', 'No leak'],
  ['warmup-plateau', 'fills 50 MB of caches, then stays', undefined, 'no leak', 'No leak'],
  ['shrinking', 'falls 40 MB', undefined, 'no leak', 'No leak'],
  // 604 MB/h is no flat line: it grew 25 MB, once.
  ['step-then-flat', 'one 25 MB step mid-session, then flat', undefined, 'growing', 'Growing, not a steady leak (levelled off)'],
  // 1,240 MB/h over 2½ teeth: too few to tell a leak, and no reason to say "no leak".
  ['leaky-sawtooth', 'a leaky sawtooth, but only 30 s of it', 30, 'growing', 'Growing, not a steady leak (r² 0.06)'],
  ['steady-leak', 'a steady climb, but only 8 samples', 8, 'not enough data', 'Not enough data'],
];

describe('leak verdict', () => {
  it.each(TABLE)('%s (%s; samples %s) → %s', (shape, _what, samples, expected, headline) => {
    const a = analyzeLeak(syntheticSeries({ shape, samples }));
    expect(a.verdict, a.reason).toBe(expected);
    expect(a.headline).toBe(headline);
  });

  it('says "no leak" only beside a flat line: never beside a slope that rises by the growth that counts', () => {
    const shapes: Shape[] = [
      'steady-leak',
      'flat',
      'sawtooth',
      'leaky-sawtooth',
      'warmup-plateau',
      'step-then-flat',
      'shrinking',
      'noisy-flat',
      'slow-leak-noisy',
    ];
    const seen = new Map<Verdict, number>();
    for (const shape of shapes) {
      for (const samples of [12, 20, 30, 60, 240]) {
        for (const seed of [1, 2, 3]) {
          const series = syntheticSeries({ shape, samples, seed });
          const a = analyzeLeak(series);
          seen.set(a.verdict, (seen.get(a.verdict) ?? 0) + 1);
          const rise = a.fit ? a.fit.slope_bytes_per_ms * (a.fit.to_ms - a.fit.from_ms) : 0;
          // The growth that counts is at least 1 MB and at most 5 % of the highest RSS.
          const counts = Math.max(MB, (Math.max(...series.map((p) => p.rss_bytes)) * 5) / 100);
          const what = `${shape}, ${samples} samples, seed ${seed}: ${a.headline}; ${a.reason}`;
          if (a.verdict === 'no leak') expect(a.slope_mb_per_h! < 1 || rise < counts, what).toBe(true);
          if (a.verdict === 'growing') {
            expect(a.slope_mb_per_h!, what).toBeGreaterThanOrEqual(1);
            expect(rise, what).toBeGreaterThanOrEqual(MB);
            expect(a.headline, what).toMatch(/^Growing, not a steady leak \((r² [\d.]+|its floor does not keep rising|levelled off)\)$/);
          }
        }
      }
    }
    // The grid reaches every verdict but "not enough data" (12 samples at 1 s are enough).
    expect([...seen.keys()].sort()).toEqual(['growing', 'leak suspected', 'no leak']);
  });

  it('reads a short session whose memory stepped up as growing, not as "no leak"', () => {
    // A watch that counted a launcher beside its child: 40 MB, then 62 MB once the child started, 12 samples over 5.5 s.
    const points = Array.from({ length: 12 }, (_, i) => ({ ts_ms: 1_700_000_000_000 + i * 500, rss_bytes: (i < 4 ? 40 : 62) * MB + (i % 2) * 100_000 }));
    const a = analyzeLeak(points);
    expect(a.slope_mb_per_h!).toBeGreaterThan(10_000);
    expect(a.verdict, a.reason).toBe('growing');
    expect(a.headline).toBe('Growing, not a steady leak (levelled off)');
    expect(a.reason).toMatch(/^growing, not a steady leak: the fitted line rises [\d.]+ MB over 4\.0 s, but the last half climbs at /);
  });

  it('names the failing floor test in the headline when that is what fails first', () => {
    // A steady climb with one deep dip near the end: the line rises and explains it, the floor falls back.
    const points = Array.from({ length: 40 }, (_, i) => ({ ts_ms: 1_700_000_000_000 + i * 1000, rss_bytes: (100 + i * 2 - (i === 37 ? 60 : 0)) * MB }));
    const a = analyzeLeak(points);
    expect(a.verdict, a.reason).toBe('growing');
    expect(a.headline, a.reason).toBe('Growing, not a steady leak (its floor does not keep rising)');
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
