// The Linux sampler against systeminformation on THIS machine (the real /proc, /sys and statfs;
// nothing stubbed): on every figure both report, the cheap reader must tell the same story.
// CI runs Linux, so this never skips.
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as si from 'systeminformation';
import { describe, expect, it } from 'vitest';
import { createLinuxSampler } from '../../edge-agent/linux-sampler.ts';
import type { Reading } from '../../edge-agent/sampler.ts';
import { createSystemInformationSampler } from '../../edge-agent/si-sampler.ts';
import { decodeSample, encodeSample } from '../../protocol/index.ts';

/** A reading as it comes out of the wire codec (which refuses what breaks the contract). */
const throughWire = (r: Reading): Reading => {
  const { v: _v, boot: _b, seq: _s, ts_ms: _t, ...rest } = decodeSample(encodeSample({ v: 1, boot: 'test', seq: 0, ts_ms: 0, ...r }));
  return rest;
};

describe('linux sampler agrees with systeminformation on this machine', () => {
  it('on memory, swap, the root filesystem, load, processes and CPU', async () => {
    const ours = createLinuxSampler({ log: (msg) => expect.fail(msg) });
    await si.currentLoad(); // systeminformation's CPU baseline, taken with ours (at creation)
    await sleep(1000);
    const [reading, cpu, mem, fsSize, procs] = await Promise.all([ours.read({ processes: true }), si.currentLoad(), si.mem(), si.fsSize(), si.processes()]);
    const [load1, load5, load15] = loadavg();

    // Memory total: both read MemTotal. Exact.
    expect(reading.mem_total_bytes).toBe(mem.total);
    // Used = total − MemAvailable on both sides, read a few ms apart: within 5 % of total.
    expect(Math.abs(reading.mem_used_bytes! - (mem.total - mem.available))).toBeLessThanOrEqual(0.05 * mem.total);
    // Swap total: both SwapTotal. Exact (0 here is a valid answer: no swap configured).
    expect(reading.swap_total_bytes).toBe(mem.swaptotal);

    // Root filesystem: statfs against df. Size exact; used within 1 % of size (files change meanwhile).
    const rootOurs = reading.filesystems?.find((f) => f.mount === '/');
    const rootSi = fsSize.find((f) => f.mount === '/');
    expect(rootOurs, 'our root filesystem').toBeDefined();
    expect(rootSi, "systeminformation's root filesystem").toBeDefined();
    expect(rootOurs!.size_bytes).toBe(rootSi!.size);
    expect(Math.abs(rootOurs!.used_bytes - rootSi!.used)).toBeLessThanOrEqual(0.01 * rootSi!.size);

    // Load: systeminformation reports only max(1, 5, 15 min) / cores, so the reference is
    // os.loadavg(), which it derives that from. Within 0.5 or 20 %, whichever is larger.
    const closeLoad = (a: number | undefined, b: number | undefined) => expect(Math.abs(a! - b!)).toBeLessThanOrEqual(Math.max(0.5, 0.2 * b!));
    closeLoad(reading.load_1, load1);
    closeLoad(reading.load_5, load5);
    closeLoad(reading.load_15, load15);

    // Processes: /proc/<pid> directories against ps's lines, taken while both spawn and reap
    // helpers. Within 10 %.
    expect(Math.abs(reading.procs_total! - procs.all)).toBeLessThanOrEqual(Math.max(1, 0.1 * procs.all));
    expect(reading.top_cpu?.length).toBeGreaterThan(0);
    expect(reading.top_mem?.length).toBeGreaterThan(0);

    // Cores: the same count.
    expect(reading.cpu_core_pct?.length).toBe(cpu.cpus.length);
    // CPU %: both over roughly the same second but not the same instants, and systeminformation
    // leaves iowait and softirq out of its total. Within 25 points.
    expect(reading.cpu_pct).toBeDefined();
    expect(Math.abs(reading.cpu_pct! - cpu.currentLoad)).toBeLessThanOrEqual(25);
  });
});

describe('both samplers', () => {
  it('give readings the wire contract accepts, and ours has every field systeminformation finds', async () => {
    const linux = createLinuxSampler({ log: (msg) => expect.fail(msg) });
    const siSampler = createSystemInformationSampler({ log: (msg) => expect.fail(msg) });
    await sleep(1000);
    const ours = await linux.read({ processes: true });
    const theirs = await siSampler.read({ processes: true });
    expect(throughWire(ours)).toEqual(ours);
    expect(throughWire(theirs)).toEqual(theirs);
    // temp_c aside: systeminformation also asks `sensors` and ACPI, which the Linux sampler does not.
    const missing = Object.keys(theirs).filter((k) => k !== 'temp_c' && !(k in ours));
    expect(missing).toEqual([]);
  });
});
