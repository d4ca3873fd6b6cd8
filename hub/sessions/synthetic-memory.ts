// Synthetic memory series with a known answer: the leak-verdict table tests and the dashboard's
// demo session are built from these. Deterministic (seeded), so a test reads the same numbers each run.
import { random } from '../../shared/random.ts';
import type { MemoryPoint } from './leak-verdict.ts';

const MB = 1024 * 1024;

export type Shape =
  | 'steady-leak'
  | 'flat'
  | 'sawtooth'
  | 'leaky-sawtooth'
  | 'warmup-plateau'
  | 'step-then-flat'
  | 'shrinking'
  | 'noisy-flat'
  | 'slow-leak-noisy';

export interface SeriesOptions {
  shape: Shape;
  samples?: number;
  intervalMs?: number;
  startMs?: number;
  baseMb?: number;
  seed?: number;
}

/** A small seeded PRNG: noise that is the same on every run (the simulator's). */
export const prng = random;

/** RSS in MB at step i of n for each shape (before noise). */
function shapeMb(shape: Shape, i: number, n: number, base: number, rnd: () => number): number {
  const x = i / (n - 1); // 0 … 1 over the session
  switch (shape) {
    case 'steady-leak':
      return base + 40 * x;
    case 'flat':
      return base;
    case 'noisy-flat':
      return base + (rnd() - 0.5) * 6;
    case 'sawtooth':
      return base + 30 * ((i % 12) / 11); // fills 30 MB, collected back to the floor every 12 samples
    case 'leaky-sawtooth':
      return base + 20 * x + 30 * ((i % 12) / 11);
    case 'warmup-plateau':
      return base + 50 * (1 - Math.exp(-x / 0.08)); // fills its caches, then stays
    case 'step-then-flat':
      return base + (x < 0.45 ? 0 : 25);
    case 'shrinking':
      return base + 40 * (1 - x);
    case 'slow-leak-noisy':
      return base + 12 * x + (rnd() - 0.5) * 2;
  }
}

export function syntheticSeries({
  shape,
  samples = 240,
  intervalMs = 1000,
  startMs = 1_700_000_000_000,
  baseMb = 120,
  seed = 7,
}: SeriesOptions): MemoryPoint[] {
  const rnd = prng(seed);
  return Array.from({ length: samples }, (_, i) => ({
    ts_ms: startMs + i * intervalMs,
    // ±0.25 MB of jitter on every shape: real RSS never sits still.
    rss_bytes: Math.round((shapeMb(shape, i, samples, baseMb, rnd) + (rnd() - 0.5) * 0.5) * MB),
  }));
}
