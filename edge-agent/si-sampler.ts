// The sampler for platforms without /proc (macOS, Windows, the BSDs), on systeminformation. It
// spawns df, ps and friends, so a sample costs tens of ms of CPU; Linux uses linux-sampler.ts.
// Field semantics match the Linux sampler: absent means unknown, rates are against the previous
// read, percentages rounded to 0.1 and bytes/s to integers.
//
// systeminformation keeps its rate baselines (CPU ticks, byte counters, per-process times) in
// module state, so two of these samplers in one process disturb each other's rates.
import { loadavg } from 'node:os';
import * as si from './systeminformation.ts';
import type { FilesystemUsage, InterfaceRates, ProcessUsage } from '../protocol/index.ts';
import { percentOf, round1 } from './rates.ts';
import type { Reading, SampleOptions, Sampler } from './sampler.ts';
import { selectSiFilesystems } from './si-filesystems.ts';

const TOP_N = 5;

/** A percentage from systeminformation, rounded and kept inside 0–100; undefined when it is not a number. */
function pct(x: number | null | undefined): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? Math.min(100, Math.max(0, round1(x))) : undefined;
}

/** A byte rate from systeminformation (null until it has two readings), rounded to an integer. */
function bps(x: number | null | undefined): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? Math.round(x) : undefined;
}

export interface SystemInformationSamplerOptions {
  /** Gets one line the first time each part fails. Default `console.warn`. */
  log?: (msg: string) => void;
}

export function createSystemInformationSampler(options: SystemInformationSamplerOptions = {}): Sampler {
  const log = options.log ?? ((msg: string) => console.warn(msg));
  const failed = new Set<string>();
  const soft = <T>(name: string, promise: Promise<T>): Promise<T | undefined> =>
    promise.then(
      (v) => v,
      (err: unknown) => {
        if (!failed.has(name)) {
          failed.add(name);
          log(`systeminformation sampler: ${name} unavailable (${(err as Error).message}); its fields are left out while it fails`);
        }
        return undefined;
      },
    );

  // systeminformation answers its first rate call with averages since boot (CPU, processes) or
  // nulls (bytes/s); calling once now makes the first read's rates cover the time since creation.
  let last: Promise<unknown> = Promise.all([si.currentLoad(), si.fsStats(), si.networkStats('*'), si.processes()]).catch(() => undefined);

  const readNow = async (sampleOptions: SampleOptions): Promise<Reading> => {
    const [load, mem, fsSize, fsStats, net, temp, procs] = await Promise.all([
      soft('currentLoad', si.currentLoad()),
      soft('mem', si.mem()),
      soft('fsSize', si.fsSize()),
      soft('fsStats', si.fsStats()),
      soft('networkStats', si.networkStats('*')),
      soft('cpuTemperature', si.cpuTemperature()),
      sampleOptions.processes ? soft('processes', si.processes()) : Promise.resolve(undefined),
    ]);
    const out: Reading = {};

    if (load) {
      const all = pct(load.currentLoad);
      if (all !== undefined) out.cpu_pct = all;
      const cores = load.cpus.map((c) => pct(c.load));
      if (cores.length > 0 && cores.every((c) => c !== undefined)) out.cpu_core_pct = cores as number[];
    }
    // systeminformation has no raw load averages (its avgLoad is max(1, 5, 15 min) / cores);
    // Windows has none at all and Node reports zeros there.
    if (process.platform !== 'win32') {
      const [one, five, fifteen] = loadavg();
      if (one !== undefined && five !== undefined && fifteen !== undefined) {
        // Rounded to 0.01, as /proc/loadavg prints them.
        out.load_1 = Math.round(one * 100) / 100;
        out.load_5 = Math.round(five * 100) / 100;
        out.load_15 = Math.round(fifteen * 100) / 100;
      }
    }
    if (mem && mem.total > 0) {
      out.mem_total_bytes = mem.total;
      out.mem_available_bytes = Math.min(mem.available, mem.total);
      out.mem_used_bytes = mem.total - out.mem_available_bytes;
      const memPct = percentOf(out.mem_used_bytes, mem.total);
      if (memPct !== undefined) out.mem_pct = memPct;
      out.swap_total_bytes = mem.swaptotal;
      out.swap_used_bytes = Math.max(0, mem.swapused);
      const swapPct = percentOf(out.swap_used_bytes, mem.swaptotal);
      if (swapPct !== undefined) out.swap_pct = swapPct;
    }
    if (fsSize) {
      out.filesystems = selectSiFilesystems(fsSize).map(
        (f): FilesystemUsage => ({ mount: f.mount, size_bytes: f.size, used_bytes: f.used, used_pct: percentOf(f.used, f.used + f.available) ?? 0 }),
      );
    }
    // fsStats gives bytes; disksIO, despite its name, gives I/O operations.
    if (fsStats) {
      const read = bps(fsStats.rx_sec);
      const written = bps(fsStats.wx_sec);
      if (read !== undefined) out.disk_read_bps = read;
      if (written !== undefined) out.disk_write_bps = written;
    }
    if (net) {
      const rates: InterfaceRates[] = [];
      for (const n of net) {
        if (n.iface === 'lo' || n.iface === 'lo0') continue;
        const rx = bps(n.rx_sec);
        const tx = bps(n.tx_sec);
        if (rx !== undefined && tx !== undefined) rates.push({ iface: n.iface, rx_bps: rx, tx_bps: tx });
      }
      if (rates.length > 0) out.net = rates;
    }
    // It reports null (or -1 on Windows) without a sensor.
    if (temp && typeof temp.main === 'number' && temp.main > 0) out.temp_c = round1(temp.main);
    try {
      out.uptime_s = Math.floor(si.time().uptime);
    } catch {
      // no uptime: the field stays out
    }

    if (procs) {
      out.procs_total = procs.all;
      // Its per-process cpu is a share of ALL cores on Linux and Windows, of one core elsewhere
      // (from ps); the wire wants one core. memRss is in KiB everywhere.
      const cores = process.platform === 'linux' || process.platform === 'win32' ? Math.max(1, load?.cpus.length ?? 1) : 1;
      const list: ProcessUsage[] = [];
      for (const p of procs.list) {
        // A process it could not measure is left out rather than listed with made-up figures.
        if (!Number.isSafeInteger(p.pid) || p.pid < 0 || !Number.isFinite(p.cpu) || !Number.isFinite(p.memRss)) continue;
        list.push({
          pid: p.pid,
          name: p.name,
          cpu_pct: round1(Math.max(0, p.cpu) * cores),
          rss_bytes: Math.max(0, Math.round(p.memRss * 1024)),
          threads: 0, // unknown: systeminformation reports no thread counts, and the tuple has no "absent"
        });
      }
      out.top_cpu = [...list].sort((a, b) => b.cpu_pct - a.cpu_pct || a.pid - b.pid).slice(0, TOP_N);
      out.top_mem = list.sort((a, b) => b.rss_bytes - a.rss_bytes || a.pid - b.pid).slice(0, TOP_N);
    }
    return out;
  };

  return {
    read(sampleOptions: SampleOptions): Promise<Reading> {
      const result = last.then(() => readNow(sampleOptions));
      last = result.catch(() => undefined);
      return result;
    },
  };
}
