// The agent's sampler on Linux: reads /proc, /sys and statfs directly, under 1 ms of CPU a sample
// (the process list every 5 s included) where systeminformation spends tens (it spawns df and ps). One collector per source, each
// failing on its own: a missing file costs its fields and one log line, never the sample.
import { execFileSync } from 'node:child_process';
import { monotonicNowMs } from './rates.ts';
import type { Reading, SampleOptions, Sampler } from './sampler.ts';
import type { Collector } from './collectors/collector.ts';
import { createCpuCollector } from './collectors/cpu.ts';
import { createDiskIoCollector } from './collectors/diskio.ts';
import { createFilesystemsCollector, type StatFsResult } from './collectors/filesystems.ts';
import { createLoadCollector } from './collectors/load.ts';
import { createMemoryCollector } from './collectors/memory.ts';
import { createNetworkCollector } from './collectors/network.ts';
import { createProcessesCollector } from './collectors/processes.ts';
import { createTemperatureCollector } from './collectors/temperature.ts';
import { createThrottledCollector } from './collectors/throttled.ts';
import { createUptimeCollector } from './collectors/uptime.ts';

export interface LinuxSamplerOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. Default `/proc`. */
  procRoot?: string;
  /** Where sysfs is mounted; tests point it at a fixture tree. Default `/sys`. */
  sysRoot?: string;
  /** Gets one line the first time each collector fails. Default `console.warn`. */
  log?: (msg: string) => void;
  /** Monotonic clock in ms, for rates. Default monotonicNowMs (wall-clock jumps, common on a Pi without an RTC, must not skew rates). */
  now?: () => number;
  /** statfs(2) of a mount point. Tests replace it, since a fixture's mount points are not real filesystems. */
  statfs?: (path: string) => StatFsResult;
  /** Memory page size (RSS is counted in pages). Default `getconf PAGESIZE`, else 4096; a Pi 5 kernel uses 16 KiB. */
  pageSizeBytes?: number;
  /** Snapshot the counters at creation, so the first read already has rates. Default true. */
  primeAtStart?: boolean;
}

let systemPageSize: number | undefined;

/** The kernel's page size, asked once per process; 4096 (x86, most ARM kernels) if getconf fails. */
export function pageSize(): number {
  if (systemPageSize === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      systemPageSize = Number.isInteger(n) && n > 0 ? n : 4096;
    } catch {
      systemPageSize = 4096;
    }
  }
  return systemPageSize;
}

export function createLinuxSampler(options: LinuxSamplerOptions = {}): Sampler {
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  const log = options.log ?? ((msg: string) => console.warn(msg));
  const now = options.now ?? monotonicNowMs;

  const cpu = createCpuCollector(procRoot);
  const diskio = createDiskIoCollector(procRoot);
  const network = createNetworkCollector(procRoot);
  const processes = createProcessesCollector(procRoot, options.pageSizeBytes ?? pageSize());
  const always: Collector[] = [
    cpu,
    createLoadCollector(procRoot),
    createMemoryCollector(procRoot),
    createFilesystemsCollector(procRoot, options.statfs),
    diskio,
    network,
    createTemperatureCollector(sysRoot),
    createUptimeCollector(procRoot),
    createThrottledCollector(), // Raspberry Pi only: absent elsewhere
  ];

  const failed = new Set<string>();
  const report = (collector: Collector, err: unknown): void => {
    if (failed.has(collector.name)) return;
    failed.add(collector.name);
    log(`linux sampler: ${collector.name} unavailable (${(err as Error).message}); its fields are left out while it fails`);
  };
  /** Runs a collector, reporting its failure; a promise only when the collector is asynchronous. */
  const run = (collector: Collector, out: Reading, nowMs: number): Promise<void> | undefined => {
    try {
      return collector.collect(out, nowMs)?.catch((err: unknown) => report(collector, err));
    } catch (err) {
      report(collector, err);
      return undefined;
    }
  };

  // The counters that rates need, read once now (into a throwaway reading) so that a read about a
  // second from now has CPU %, bytes/s and process CPU. A failure here is reported by the first read.
  let last: Promise<unknown> = Promise.resolve();
  if (options.primeAtStart ?? true) {
    const t = now();
    const scratch: Reading = {};
    const quietly = (c: Collector): Promise<void> | undefined => {
      try {
        return c.collect(scratch, t)?.catch(() => undefined);
      } catch {
        return undefined;
      }
    };
    last = Promise.all([cpu, diskio, network, processes].map(quietly));
  }

  const readNow = async (sampleOptions: SampleOptions): Promise<Reading> => {
    const out: Reading = {};
    const t = now();
    const pending: Promise<void>[] = [];
    for (const collector of always) {
      const running = run(collector, out, t);
      if (running) pending.push(running);
    }
    if (pending.length > 0) await Promise.all(pending);
    if (sampleOptions.processes) await run(processes, out, t);
    return out;
  };

  return {
    read(sampleOptions: SampleOptions): Promise<Reading> {
      // Reads run one after another: each rate is against the read before it.
      const result = last.then(() => readNow(sampleOptions));
      last = result.catch(() => undefined);
      return result;
    },
    close(): void {
      for (const collector of [...always, processes]) collector.close?.();
    },
  };
}
