// Watches on real processes: one that exits (reported once, last values kept) and a name that
// appears only after the watch started.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isZombieStatus, parseStatLine, parseStatusMemory, ProcessWatch } from '../../edge-agent/process-watch.ts';
import type { ProcsSample } from '../../protocol/procs.ts';
import { runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

function watching(options: Omit<ConstructorParameters<typeof ProcessWatch>[0], 'publish'>): { watch: ProcessWatch; seen: ProcsSample[] } {
  const seen: ProcsSample[] = [];
  const watch = new ProcessWatch({ ...options, publish: (s) => seen.push(s) });
  return { watch, seen };
}

describe('process watch', () => {
  it('follows a process by command-line pattern and reports its exit once, with its last values', async () => {
    const tag = `rm-watch-exit-${process.pid}`;
    const p = spawnProcess(process.execPath, ['-e', `const keep = Buffer.alloc(8 << 20, 1); console.log('ready'); setTimeout(() => keep.length, 2500)`, tag]);
    const { watch, seen } = watching({ session: 'exit-1', target: { kind: 'cmdline', pattern: tag }, intervalMs: 250 });
    watch.start(0);
    try {
      // A sample from after its script ran: a node just exec'd on a loaded machine has not started its threads yet.
      await p.waitForLine(/ready/);
      const ready = seen.length;
      await waitFor('the process seen', () => seen.slice(ready).some((s) => s.procs.some((r) => r.pid === p.child.pid && !r.exited && r.cpu_pct !== null)));
      const live = seen
        .slice(ready)
        .flatMap((s) => s.procs)
        .filter((r) => r.pid === p.child.pid && !r.exited)
        .at(-1)!;
      expect(live.name).toBe('node');
      expect(live.rss_bytes).toBeGreaterThan(8 << 20);
      expect(live.rss_anon_bytes).toBeGreaterThan(0);
      expect(live.rss_file_bytes).toBeGreaterThan(0);
      expect(live.vsize_bytes).toBeGreaterThan(live.rss_bytes);
      expect(live.threads).toBeGreaterThan(1);
      await p.exited;
      const exit = await waitFor('the exit reported', () => seen.flatMap((s) => s.procs).find((r) => r.pid === p.child.pid && r.exited));
      expect(exit.rss_bytes).toBeGreaterThan(8 << 20); // last values kept
      const after = seen.length;
      await waitFor('two more samples', () => seen.length >= after + 2);
      expect(seen.flatMap((s) => s.procs).filter((r) => r.exited)).toHaveLength(1); // reported once
      expect(seen.at(-1)!.procs).toEqual([]);
    } finally {
      watch.stop(false);
    }
  });

  it('picks up a process whose name appears after the watch started', async () => {
    const dir = tempDir();
    const name = `rmlate${process.pid % 100000}`; // comm is the executable's file name, at most 15 bytes
    copyFileSync('/bin/sleep', join(dir, name));
    const { watch, seen } = watching({ session: 'late-1', target: { kind: 'name', name }, intervalMs: 250 });
    watch.start(0);
    try {
      await waitFor('two empty samples', () => seen.length >= 2);
      expect(seen.every((s) => s.procs.length === 0)).toBe(true);
      const p = spawnProcess(join(dir, name), ['3']);
      const row = await waitFor('the late process', () => seen.flatMap((s) => s.procs).find((r) => r.pid === p.child.pid));
      expect(row.name).toBe(name);
    } finally {
      watch.stop(false);
    }
  });

  it('ends with a last sample marked ended', () => {
    const { watch, seen } = watching({ session: 'end-1', target: { kind: 'pid', pid: process.pid }, intervalMs: 1000 });
    watch.stop(true);
    expect(seen).toHaveLength(0); // never started: nothing to end
    watch.start(60_000);
    watch.stop(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ session: 'end-1', ended: true, target: `pid:${process.pid}` });
    expect(seen[0]!.procs[0]!.pid).toBe(process.pid);
  });

  // A fake /proc: the race it stages (stat read before the exit, status after) cannot be timed with a real process.
  it("ends a process whose status was read after it exited with its last live memory, not a zombie's none", () => {
    for (const afterExit of ['Name:\tnode\nState:\tZ (zombie)\n', 'Name:\tnode\nState:\tR (running)\n']) {
      const root = tempDir();
      mkdirSync(join(root, '4242'));
      const stat = '4242 (node) R 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 12345 1000000 2000 18446744073709551615';
      writeFileSync(join(root, '4242', 'stat'), stat);
      writeFileSync(join(root, '4242', 'status'), 'Name:\tnode\nState:\tR (running)\nVmSize:\t  20480 kB\nVmRSS:\t  9216 kB\n');
      const watch = new ProcessWatch({ session: 'race-1', target: { kind: 'pid', pid: 4242 }, intervalMs: 1000, procRoot: root, publish: () => {} });
      expect(watch.sampleNow().procs).toMatchObject([{ pid: 4242, rss_bytes: 9216 * 1024, exited: false }]);
      writeFileSync(join(root, '4242', 'status'), afterExit);
      expect(watch.sampleNow().procs).toMatchObject([{ pid: 4242, rss_bytes: 9216 * 1024, exited: true }]);
      writeFileSync(join(root, '4242', 'stat'), stat.replace(') R ', ') Z ')); // what a later read shows
      expect(watch.sampleNow().procs).toEqual([]);
    }
    expect(isZombieStatus('Name:\tx\nState:\tX (dead)\n')).toBe(true);
    expect(isZombieStatus('Name:\tx\nState:\tS (sleeping)\n')).toBe(false);
  });

  it('parses stat and status lines, names with spaces and parentheses included', () => {
    const stat = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 12345 1000000 2000 18446744073709551615';
    expect(parseStatLine(stat)).toEqual({ pid: 4242, name: 'my (odd) name', ppid: 1, ticks: 300, threads: 7, startTicks: 12345, gone: false });
    // A zombie, and a process whose flags say it is exiting (PF_EXITING, 0x4): gone for a watch.
    expect(parseStatLine(stat.replace(') S ', ') Z '))?.gone).toBe(true);
    expect(parseStatLine(stat.replace(' 4194560 ', ' 4194564 '))?.gone).toBe(true);
    expect(parseStatusMemory('Name:\tx\nVmSize:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 600 kB\nRssFile:\t 424 kB\nVmSwap:\t 0 kB\n')).toEqual({
      vsize_bytes: 2048 * 1024,
      rss_bytes: 1024 * 1024,
      rss_anon_bytes: 600 * 1024,
      rss_file_bytes: 424 * 1024,
      swap_bytes: 0,
    });
    expect(parseStatusMemory('Name:\tkthreadd\n').rss_bytes).toBeNull(); // kernel threads have no memory lines
  });
});
