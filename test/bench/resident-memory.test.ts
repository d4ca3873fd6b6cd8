// The memory figures the side-by-side benchmarks print (bench/resident-memory.ts), on real
// processes: two busybox `sleep`s, which share busybox's and libc's pages and hold a few of their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFigures, residentByMapping, rollup, unionKiB } from '../../bench/resident-memory.ts';
import { waitFor } from '../helpers/parts.ts';

let sleepers: ChildProcess[] = [];
beforeAll(async () => {
  sleepers = [0, 1].map(() => spawn('/usr/bin/busybox', ['sleep', '60'], { stdio: 'ignore' }));
  // Started, and busybox's applet running (its pages mapped), not a half-made process.
  await waitFor('both sleepers running', () => sleepers.every((s) => (rollup(s.pid!)?.rss ?? 0) > 0));
});
afterAll(() => {
  for (const s of sleepers) s.kill('SIGKILL');
});
const pids = () => sleepers.map((s) => s.pid!);

describe('resident memory of a set of processes', () => {
  it('reads smaps_rollup: RSS is its shared and private parts, PSS at most RSS', () => {
    for (const pid of pids()) {
      const r = rollup(pid)!;
      expect(r.rss).toBeGreaterThan(0);
      expect(r.sharedClean + r.sharedDirty + r.privateClean + r.privateDirty).toBe(r.rss);
      expect(r.pss).toBeLessThanOrEqual(r.rss);
      // By mapping: the same pages, the binary among them.
      const byMapping = residentByMapping(pid);
      expect(byMapping.reduce((sum, m) => sum + m.rss, 0)).toBe(r.rss);
      expect(byMapping.some((m) => m.name.endsWith('/busybox'))).toBe(true);
    }
    expect(rollup(2 ** 22 + 1)).toBeUndefined(); // above any pid_max: no such process
  });

  it('counts a page two processes share once in the union, twice in the RSS sum (as root; without root there is no union)', () => {
    const [a, b] = pids();
    const [ra, rb] = [rollup(a!)!.rss, rollup(b!)!.rss];
    const both = unionKiB([a!, b!]);
    if (process.getuid?.() !== 0) {
      expect(both).toBeUndefined();
      expect(memoryFigures([a!, b!]).unionMiB).toBeUndefined();
      return;
    }
    // One process alone: its resident pages, as smaps counts them (a sleeping process touches nothing new).
    expect(Math.abs(unionKiB([a!])! - ra)).toBeLessThanOrEqual(16);
    expect(both!).toBeGreaterThanOrEqual(Math.max(ra, rb) - 16);
    // The second sleeper adds about its private pages only: far less than its RSS.
    expect(both!).toBeLessThan(ra + rb - ra / 2);
    const figures = memoryFigures([a!, b!]);
    expect(figures.rssMiB * 1024).toBeCloseTo(ra + rb, -2);
    expect(figures.unionMiB! * 1024).toBeLessThan(figures.rssMiB * 1024);
  });
});
