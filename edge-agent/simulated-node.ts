// A made-up node that produces realistic, varied samples: a diurnal CPU load with noise, memory
// that some nodes leak, disks that some nodes fill, links that sometimes flap. Its values move as a
// real machine's do (bench/chunk-codec.ts compares them with this machine's): gradually, each a
// mean-reverting walk or a lagging average, in the units the sources count (kB, 4 KiB blocks and
// pages, 512-byte sectors, clock ticks), disk I/O mostly idle with bursts. Used by
// `remonitor simulate`, the benchmarks, load tests and the demo; deterministic for a given seed.
// A node may also be put through a scenario (simulated-scenarios.ts) that trips the alarm rules.
import { PROTOCOL_VERSION, type NodeInfo, type ProcessUsage, type Sample } from '../protocol/index.ts';
import {
  CLOCK_OFFSET_MS,
  DIES_AFTER_MS,
  diskFillPct,
  diskFillWriteBps,
  HOT_LEAD_MS,
  hotTempC,
  LEAK_BASE_SHARE,
  leakedShare,
  throttledBits,
  warmingTempC,
  type ScenarioName,
} from './simulated-scenarios.ts';
import { random } from '../shared/random.ts';

export { random };

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const clampPct = (x: number) => round1(Math.min(100, Math.max(0, x)));
const DAY_MS = 86_400_000;
const PROCESS_NAMES = ['node', 'python3', 'mosquitto', 'dockerd', 'influxd', 'grafana', 'nginx', 'sshd', 'systemd', 'containerd'];
const PAGE_BYTES = 4096;
/** What the units of the sources allow: /proc/meminfo counts kB, statfs 4 KiB blocks. */
const kib = (bytes: number) => Math.round(bytes / 1024) * 1024;
const blocks = (bytes: number) => Math.round(bytes / 4096) * 4096;
/** A Pi's SoC sensor reads in steps of about half a degree. */
const sensorC = (c: number) => Math.round(c / 0.487) * 0.487;

// The step assumed before the first sample, and the least one (two samples at one time).
const DEFAULT_STEP_MS = 1000;
const MIN_STEP_MS = 100;
// How long each quantity takes to forget where it was (see drift()).
const CPU_WANDER_MS = 60_000;
const CORE_WANDER_MS = 20_000;
const MEM_WANDER_MS = 20 * 60_000;
const NET_WANDER_MS = 5 * 60_000;
const PROCS_WANDER_MS = 30 * 60_000;
const PROCESS_WANDER_MS = 2 * 60_000;
const TEMP_LAG_MS = 90_000;
// A busy spell of the CPU about every half hour, lasting about half a minute.
const BURST_EVERY_MS = 30 * 60_000;
const BURST_MS = 30_000;
// Load averages: the kernel updates them every 5 s, damped over 1, 5 and 15 minutes.
const LOAD_TICK_MS = 5000;
const LOAD_PERIODS_MS = [60_000, 300_000, 900_000];
const LOAD_WARM_STEPS = 1000;
// How often things happen, on average: the journal's commits, reads that miss the page cache,
// a burst of I/O (an update, a backup), a log line's block, a packet of LAN chatter, a thread.
const COMMIT_EVERY_MS = 5000;
const READ_EVERY_MS = 60_000;
const IO_BURST_EVERY_MS = 2 * 3_600_000;
const LOG_WRITE_EVERY_MS = 60_000;
const CHATTER_EVERY_MS = 2000;
const WLAN_CHATTER_EVERY_MS = 30_000;
const THREAD_CHANGE_MS = 30 * 60_000;

/** A standard normal draw (Box-Muller). */
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** How many of events that come `mean` times on average happen (Poisson; normal past 30). */
function events(r: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(r)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = r(); p > limit; p *= r()) k++;
  return k;
}

interface SimulatedProcess {
  /** Its usual share of the node's CPU. */
  cpuShare: number;
  cpuWander: number;
  rssPages: number;
  /** How often its RSS moves, on average. */
  rssChangeMs: number;
  threads: number;
  baseThreads: number;
}

/** What carries over from one sample to the next: a real machine's quantities change gradually. */
interface SimulatedState {
  cpuBase: number;
  cpuWander: number;
  coreWander: number[];
  burstLeftMs: number;
  load: number[];
  loadTick: number | null;
  memWander: number;
  diskWritten: number;
  netBaseBps: number;
  netWander: number;
  tempC: number;
  procsBase: number;
  procsWander: number;
  processesTs: number | null;
  processes: SimulatedProcess[];
}

export interface SimulatedNodeTraits {
  cores: number;
  memTotalBytes: number;
  diskBytes: number;
  /** Memory growth of a leaking process, bytes per hour (0 for most nodes). */
  leakBytesPerHour: number;
  /** Disk fill rate, bytes per hour (0 for most nodes). */
  diskFillBytesPerHour: number;
  hasTemperature: boolean;
  hasSwap: boolean;
  /** Share of time the uplink is down (the simulator skips those samples). */
  flakiness: number;
}

export interface SimulatedNodeOptions {
  /** What the node goes through from `startMs` on; none by default. */
  scenario?: ScenarioName | undefined;
  /** When the machine booted, for uptime_s (default a day before `startMs`). */
  bootMs?: number;
}

export class SimulatedNode {
  readonly boot: string;
  readonly traits: SimulatedNodeTraits;
  readonly scenario: ScenarioName | null;
  readonly bootMs: number;
  private seq = 0;
  private throttled = 0;
  private readonly rand: () => number;
  private readonly phase: number;
  private startMs: number;
  private lastTs: number | null = null;
  private readonly state: SimulatedState;

  /** `startMs`: when growth (leaks, filling disks) and any scenario start; samples before it show none yet. */
  constructor(
    readonly name: string,
    seed: number,
    startMs = Date.now(),
    options: SimulatedNodeOptions = {},
  ) {
    this.scenario = options.scenario ?? null;
    this.bootMs = options.bootMs ?? startMs - DAY_MS;
    this.rand = random(seed);
    const r = this.rand;
    this.boot = Math.floor(r() * 2 ** 52)
      .toString(16)
      .padStart(13, '0');
    this.phase = r() * DAY_MS;
    this.startMs = startMs;
    const pi = r() < 0.7;
    this.traits = {
      cores: pi ? 4 : [2, 8, 16][Math.floor(r() * 3)]!,
      memTotalBytes: pi ? [1, 2, 4, 8][Math.floor(r() * 4)]! * 2 ** 30 : 16 * 2 ** 30,
      diskBytes: pi ? 32e9 : 512e9,
      leakBytesPerHour: r() < 0.1 ? 20e6 + r() * 80e6 : 0,
      diskFillBytesPerHour: r() < 0.1 ? 0.5e9 + r() * 2e9 : 0,
      hasTemperature: pi,
      hasSwap: r() < 0.6,
      flakiness: r() < 0.05 ? 0.2 : 0,
    };
    // A scenario's node is the machine it needs, with none of the random trouble on top.
    if (this.scenario) this.traits.flakiness = 0;
    if (this.scenario === 'hot' || this.scenario === 'warming') Object.assign(this.traits, { cores: 4, hasTemperature: true });
    if (this.scenario === 'leak') Object.assign(this.traits, { memTotalBytes: 2 * 2 ** 30, leakBytesPerHour: 0 });
    if (this.scenario === 'disk-fill') Object.assign(this.traits, { diskBytes: 32e9, diskFillBytesPerHour: 0 });
    this.state = {
      cpuBase: 3 + r() * 10,
      cpuWander: 0,
      coreWander: Array.from({ length: this.traits.cores }, () => 0),
      burstLeftMs: 0,
      load: [0, 0, 0],
      loadTick: null,
      memWander: 0,
      diskWritten: 0,
      netBaseBps: 5_000 + r() * 60_000,
      netWander: 0,
      tempC: 45,
      procsBase: 110 + Math.floor(r() * 80),
      procsWander: 0,
      processesTs: null,
      processes: PROCESS_NAMES.map((_, i) => {
        const threads = 1 + Math.floor(r() * r() * 16);
        return {
          cpuShare: (0.3 * r() * r()) / (i + 1),
          cpuWander: 0,
          rssPages: Math.round((5e6 + r() * r() * 200e6) / PAGE_BYTES),
          // The first five (runtimes with a garbage collector, a broker's buffers) move at most reads; the rest seldom.
          rssChangeMs: i < 5 ? 5_000 + r() * 30_000 : 60_000 * (1 + r() * 30),
          threads,
          baseThreads: threads,
        };
      }),
    };
  }

  /** Its birth record, as an agent sampling every `intervalMs` would send it. */
  info(intervalMs: number): NodeInfo {
    return {
      v: 1,
      agent_version: 'simulated',
      hostname: this.name,
      os: 'Simulated Linux',
      kernel: '6.6',
      arch: 'arm64',
      cpu_model: 'Cortex-A72 (simulated)',
      cpu_cores: this.traits.cores,
      mem_total_bytes: this.traits.memTotalBytes,
      disks: [{ mount: '/', fs_type: 'ext4', size_bytes: this.traits.diskBytes }],
      boot_time_ms: this.bootMs,
      interval_ms: intervalMs,
    };
  }

  /**
   * Moves the start of growth and of the scenario to `ms`: a backfilled history led up to the start
   * it was made for, and the live part takes over from there however late it begins.
   */
  startAt(ms: number): void {
    this.startMs = ms;
  }

  /** False while the node's link is down (a real agent would spool, the simulator skips), or once it has died. */
  online(tsMs = Date.now()): boolean {
    if (this.scenario === 'dies' && tsMs - this.startMs >= DIES_AFTER_MS) return false;
    return this.traits.flakiness === 0 || this.rand() > this.traits.flakiness;
  }

  /** The next sample, taken at `tsMs`; the process list when `processes` is set. */
  next(tsMs: number, processes = this.seq % 5 === 0): Sample {
    const { traits, scenario } = this;
    const r = this.rand;
    const t = tsMs - this.startMs;
    // The time since the last sample: what a real agent's rates and averages span (a backfill's
    // history is sampled minutes apart, the live part a second apart).
    const first = this.lastTs === null;
    const dtMs = first ? DEFAULT_STEP_MS : Math.max(MIN_STEP_MS, tsMs - this.lastTs!);
    this.lastTs = tsMs;
    const s = this.state;
    const hours = Math.max(0, t / 3_600_000); // samples before the start show no growth yet
    const diurnal = 0.5 - 0.5 * Math.cos((2 * Math.PI * (tsMs + this.phase)) / DAY_MS);
    const busy = scenario === 'hot' && t >= -HOT_LEAD_MS;
    // A sample averages the CPU over its interval: minutes apart, the wander of seconds evens out.
    const spread = Math.min(1, Math.sqrt((2 * CPU_WANDER_MS) / dtMs));
    s.cpuWander = this.drift(s.cpuWander, dtMs, CPU_WANDER_MS, 8);
    if (s.burstLeftMs <= 0 && r() < 1 - Math.exp(-dtMs / BURST_EVERY_MS)) s.burstLeftMs = BURST_MS * (0.2 + 1.6 * r());
    const burst = s.burstLeftMs > 0 ? 40 * Math.min(1, s.burstLeftMs / dtMs) : 0;
    s.burstLeftMs -= dtMs;
    const cpu = busy ? clampPct(92 + r() * 8) : clampPct(s.cpuBase + 45 * diurnal + s.cpuWander * spread + burst);
    const coreSpread = Math.min(1, Math.sqrt((2 * CORE_WANDER_MS) / dtMs));
    const cores = s.coreWander.map((w, i) => {
      s.coreWander[i] = this.drift(w, dtMs, CORE_WANDER_MS, 6);
      return clampPct(cpu + s.coreWander[i]! * coreSpread);
    });
    // The kernel's load averages: exponentially damped every 5 s, so at 1 Hz a value holds for 5 samples.
    const tick = Math.floor(tsMs / LOAD_TICK_MS);
    if (tick !== s.loadTick) {
      const steps = s.loadTick === null ? LOAD_WARM_STEPS : Math.min(LOAD_WARM_STEPS, Math.max(1, tick - s.loadTick));
      const running = (cpu / 100) * traits.cores + r() * 0.3;
      s.load = s.load.map((l, i) => {
        const keep = Math.exp((-steps * LOAD_TICK_MS) / LOAD_PERIODS_MS[i]!);
        return l * keep + running * (1 - keep);
      });
      s.loadTick = tick;
    }
    const leaking = scenario === 'leak';
    const leaked = leaking ? leakedShare(t) * traits.memTotalBytes : traits.leakBytesPerHour * hours;
    const memBase = traits.memTotalBytes * (leaking ? LEAK_BASE_SHARE : 0.3 + 0.1 * diurnal);
    // A leak's node keeps the rest of its memory nearly flat: the leak alone decides when it crosses.
    s.memWander = this.drift(s.memWander, dtMs, MEM_WANDER_MS, traits.memTotalBytes * (leaking ? 0.001 : 0.004));
    // /proc/meminfo counts kB.
    const memUsed = kib(Math.min(traits.memTotalBytes * 0.97, Math.max(traits.memTotalBytes * 0.05, memBase + leaked + s.memWander)));
    // statfs counts 4 KiB blocks; logs grow the root filesystem a little, logrotate takes some back.
    s.diskWritten += events(r, dtMs / LOG_WRITE_EVERY_MS) * 4096 * (1 + Math.floor(r() * 8));
    if (s.diskWritten > 200e6 && r() < dtMs / DAY_MS) s.diskWritten *= 0.2;
    const diskUsed = blocks(
      scenario === 'disk-fill'
        ? (traits.diskBytes * diskFillPct(t)) / 100
        : Math.min(traits.diskBytes, traits.diskBytes * 0.35 + traits.diskFillBytesPerHour * hours + s.diskWritten),
    );
    const swapTotal = traits.hasSwap ? 512 * 2 ** 20 : 0;
    const swapUsed = traits.hasSwap ? kib(swapTotal * Math.max(0, (memUsed / traits.memTotalBytes - 0.7) * 2)) : 0;
    // Disk I/O in 512-byte sectors over the interval, divided by the interval as the agent measured it
    // (its clock a little off the nominal one): mostly nothing to read on an idle node, the journal's
    // commits every few seconds to write, and now and then a burst.
    const measuredS = (dtMs / 1000) * (1 + (r() - 0.5) * 0.004);
    const readSectors = events(r, dtMs / READ_EVERY_MS) * (8 + Math.floor(r() * r() * 512)) + (r() < dtMs / IO_BURST_EVERY_MS ? Math.floor(r() * 40_000) : 0);
    const writeSectors =
      events(r, dtMs / COMMIT_EVERY_MS) * (8 + Math.floor(r() * r() * 120)) + (r() < dtMs / IO_BURST_EVERY_MS ? Math.floor(r() * 60_000) : 0);
    const fillBytes = (traits.diskFillBytesPerHour * dtMs) / 3_600_000;
    // Traffic: the workload's, which follows the day and wanders on a log scale, plus the agent's own
    // publishing and the background chatter of a LAN (ARP, mDNS), in whole packets.
    s.netWander = this.drift(s.netWander, dtMs, NET_WANDER_MS, 0.8);
    const workBps = s.netBaseBps * (0.1 + diurnal) * Math.exp(s.netWander);
    const chatter = () => events(r, dtMs / CHATTER_EVERY_MS) * (60 + Math.floor(r() * 240));
    const rxBytes = workBps * (dtMs / 1000) * (0.7 + 0.6 * r()) + chatter() + 66 * Math.ceil(dtMs / 1000);
    const txBytes = workBps * 0.25 * (dtMs / 1000) * (0.7 + 0.6 * r()) + 420 * Math.ceil(dtMs / 1000) + chatter();
    if (traits.hasTemperature && !busy && scenario !== 'warming') {
      const keep = first ? 0 : Math.exp(-dtMs / TEMP_LAG_MS);
      s.tempC = s.tempC * keep + (42 + 20 * (cpu / 100)) * (1 - keep);
    }
    const sample: Sample = {
      v: PROTOCOL_VERSION,
      boot: this.boot,
      seq: this.seq++,
      ts_ms: scenario === 'clock' ? tsMs + CLOCK_OFFSET_MS : tsMs,
      cpu_pct: cpu,
      cpu_core_pct: cores,
      load_1: round2(s.load[0]!),
      load_5: round2(s.load[1]!),
      load_15: round2(s.load[2]!),
      mem_total_bytes: traits.memTotalBytes,
      mem_used_bytes: memUsed,
      mem_available_bytes: traits.memTotalBytes - memUsed,
      mem_pct: clampPct((memUsed / traits.memTotalBytes) * 100),
      swap_total_bytes: swapTotal,
      swap_used_bytes: swapUsed,
      ...(traits.hasSwap ? { swap_pct: clampPct((swapUsed / swapTotal) * 100) } : {}),
      filesystems: [
        { mount: '/', size_bytes: traits.diskBytes, used_bytes: diskUsed, used_pct: clampPct((diskUsed / traits.diskBytes) * 100) },
        { mount: '/boot/firmware', size_bytes: 534_749_184, used_bytes: 63_897_600, used_pct: 11.9 },
      ],
      disk_read_bps: Math.round((readSectors * 512) / measuredS),
      disk_write_bps: Math.round((writeSectors * 512 + fillBytes) / measuredS) + (scenario === 'disk-fill' ? diskFillWriteBps(t, traits.diskBytes) : 0),
      net: [
        { iface: 'eth0', rx_bps: Math.round(rxBytes / measuredS), tx_bps: Math.round(txBytes / measuredS) },
        // Up but unused: a beacon or a probe now and then.
        { iface: 'wlan0', rx_bps: Math.round((events(r, dtMs / WLAN_CHATTER_EVERY_MS) * 120) / measuredS), tx_bps: 0 },
      ],
      ...(traits.hasTemperature
        ? { temp_c: round1(busy ? hotTempC(t, r()) : scenario === 'warming' ? warmingTempC(t, r()) : sensorC(s.tempC + gaussian(r) * 0.25)) }
        : {}),
      uptime_s: Math.max(0, Math.round((tsMs - this.bootMs) / 1000)),
    };
    if (scenario === 'hot' || scenario === 'warming') sample.throttled = this.throttled = throttledBits(sample.temp_c!, this.throttled);
    if (processes) this.addProcesses(sample, tsMs, cpu, leaked);
    return sample;
  }

  /** The process count and lists, as the agent reads them every few samples: CPU in ticks since the last read, RSS in pages. */
  private addProcesses(sample: Sample, tsMs: number, cpu: number, leaked: number): void {
    const r = this.rand;
    const s = this.state;
    const sinceMs = s.processesTs === null ? 5 * DEFAULT_STEP_MS : Math.max(MIN_STEP_MS, tsMs - s.processesTs);
    s.processesTs = tsMs;
    s.procsWander = this.drift(s.procsWander, sinceMs, PROCS_WANDER_MS, 4);
    sample.procs_total = Math.max(40, Math.round(s.procsBase + s.procsWander));
    const seconds = sinceMs / 1000;
    const procs = s.processes.map((p, i): ProcessUsage => {
      // Most processes sleep: their share of the CPU wanders on a log scale, around their own habit.
      p.cpuWander = this.drift(p.cpuWander, sinceMs, PROCESS_WANDER_MS, 1);
      const share = (cpu / 100) * p.cpuShare * Math.exp(p.cpuWander);
      const ticks = Math.max(0, Math.round(share * seconds * 100 + (r() - 0.5)));
      // Memory moves in pages now and then; threads come and go rarely.
      if (r() < 1 - Math.exp(-sinceMs / p.rssChangeMs)) p.rssPages = Math.max(100, p.rssPages + Math.round(gaussian(r) * p.rssPages * 0.01));
      if (r() < 1 - Math.exp(-sinceMs / THREAD_CHANGE_MS)) p.threads = Math.max(1, p.threads + (r() < 0.5 || p.threads > p.baseThreads ? -1 : 1));
      return {
        pid: 400 + i * 37,
        name: PROCESS_NAMES[i]!,
        cpu_pct: round1(ticks / seconds),
        rss_bytes: (p.rssPages + (i === 0 ? Math.round(leaked / PAGE_BYTES) : 0)) * PAGE_BYTES,
        threads: p.threads,
      };
    });
    sample.top_cpu = [...procs].sort((a, b) => b.cpu_pct - a.cpu_pct || a.pid - b.pid).slice(0, 5);
    sample.top_mem = [...procs].sort((a, b) => b.rss_bytes - a.rss_bytes || a.pid - b.pid).slice(0, 5);
  }

  /**
   * One step of a mean-reverting random walk (Ornstein-Uhlenbeck) `dtMs` on: it forgets its value
   * over about `periodMs` and wanders `sd` either side of 0; exact for any step, so a history
   * sampled minutes apart has the statistics of the live part sampled every second.
   */
  private drift(x: number, dtMs: number, periodMs: number, sd: number): number {
    const keep = Math.exp(-dtMs / periodMs);
    return x * keep + sd * Math.sqrt(1 - keep * keep) * gaussian(this.rand);
  }
}
