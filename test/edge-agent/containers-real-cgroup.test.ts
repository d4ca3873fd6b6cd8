// The containers collector on this machine's own cgroup v2 hierarchy, not a fixture: the test makes
// a cgroup where Docker's cgroupfs driver puts a container's (docker/<64 hex>), moves a busy child
// into it, and compares the CPU the collector reports with the child's own CPU time from /proc over
// the same interval. Where the kernel offers no cgroup v2 hierarchy or refuses a new cgroup (not
// root), it checks what the agent does on such a machine instead: the collector says why it has
// no values.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createContainersCollector } from '../../edge-agent/collectors/containers.ts';
import type { Reading } from '../../edge-agent/sampler.ts';
import { cleanup, runCleanups } from '../helpers/parts.ts';

afterEach(runCleanups);

const ID = `${'e'.repeat(56)}${process.pid.toString(16).padStart(8, '0')}`.slice(-64);
const TICK_S = 0.01; // /proc/<pid>/stat counts CPU in clock ticks (USER_HZ 100)

/** The mount point of the cgroup v2 hierarchy (pure v2 or the hybrid "unified" one), if any. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2' && mountPoint) return mountPoint;
  }
  return undefined;
}

/** Makes docker/<ID> under `root` (and docker/ if absent), removed after the test; undefined if refused. */
function makeContainerCgroup(root: string): string | undefined {
  const parent = join(root, 'docker');
  try {
    if (!existsSync(parent)) {
      mkdirSync(parent);
      cleanup(() => rmdirSync(parent));
    }
    const dir = join(parent, ID);
    mkdirSync(dir);
    cleanup(() => rmdirSync(dir)); // runs before the parent's: cleanups run last first
    return dir;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_S;
}

async function collect(c: ReturnType<typeof createContainersCollector>, nowMs: number): Promise<Map<string, number>> {
  const out: Reading = {};
  await c.collect(out, nowMs);
  return new Map((out.series ?? []).map((v) => [`${v.name}{${v.labels['container']}}`, v.value]));
}

describe('containers on a real cgroup v2 hierarchy', () => {
  it("reports a container cgroup's CPU as its processes used it, or says why it cannot", async () => {
    const root = cgroup2Root();
    const dir = root ? makeContainerCgroup(root) : undefined;
    if (!root || !dir) {
      const c = createContainersCollector({ cgroupRoot: root ?? '/sys/fs/cgroup/none', sockets: [] });
      await expect(collect(c, 0)).rejects.toThrow(/cgroup/);
      return;
    }
    // A busy child, bounded: it spins for at most 20 s, and is ended by its PID after the test.
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end);'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanup(async () => {
      child.kill('SIGKILL');
      await exited; // an empty cgroup can be removed
    });
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));

    const c = createContainersCollector({ cgroupRoot: root, sockets: [] });
    const name = `container_cpu_pct{${ID.slice(0, 12)}}`;
    const t0 = performance.now();
    const cpu0 = cpuSeconds(child.pid!);
    await collect(c, t0);
    await sleep(2000);
    const t1 = performance.now();
    const cpu1 = cpuSeconds(child.pid!);
    const values = await collect(c, t1);

    const seconds = (t1 - t0) / 1000;
    const expectedPct = ((cpu1 - cpu0) / seconds) * 100;
    expect(values.get(name)).toBeDefined();
    // The cgroup counts in µs, /proc in ticks: they agree within a few ticks over the interval.
    expect(Math.abs(values.get(name)! - expectedPct)).toBeLessThan(((4 * TICK_S) / seconds) * 100);
    expect(values.get(name)!).toBeGreaterThan(0);
    // Memory only where the memory controller is enabled in this hierarchy (a hybrid machine keeps it in v1).
    const mem = values.get(`container_mem_bytes{${ID.slice(0, 12)}}`);
    if (existsSync(join(dir, 'memory.current'))) expect(mem).toBeGreaterThan(1 << 20);
    else expect(mem).toBeUndefined();
    // The child shares the host's network namespace: no per-container traffic.
    expect([...values.keys()].some((k) => k.startsWith('container_net_'))).toBe(false);
  });
});
