// A made-up node that produces realistic, varied samples: a diurnal CPU load with noise, memory
// that some nodes leak, disks that some nodes fill, links that sometimes flap. Used by
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
const clampPct = (x: number) => round1(Math.min(100, Math.max(0, x)));
const DAY_MS = 86_400_000;
const PROCESS_NAMES = ['node', 'python3', 'mosquitto', 'dockerd', 'influxd', 'grafana', 'nginx', 'sshd', 'systemd', 'containerd'];

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
    const hours = Math.max(0, t / 3_600_000); // samples before the start show no growth yet
    const diurnal = 0.5 - 0.5 * Math.cos((2 * Math.PI * (tsMs + this.phase)) / DAY_MS);
    const busy = scenario === 'hot' && t >= -HOT_LEAD_MS;
    const cpu = busy ? clampPct(92 + r() * 8) : clampPct(8 + 45 * diurnal + (r() - 0.5) * 20 + (r() < 0.02 ? 40 : 0));
    const leaking = scenario === 'leak';
    const leaked = leaking ? leakedShare(t) * traits.memTotalBytes : traits.leakBytesPerHour * hours;
    const memBase = traits.memTotalBytes * (leaking ? LEAK_BASE_SHARE : 0.3 + 0.1 * diurnal);
    const memUsed = Math.min(traits.memTotalBytes * 0.97, memBase + leaked + r() * 20e6);
    const diskUsed =
      scenario === 'disk-fill'
        ? (traits.diskBytes * diskFillPct(t)) / 100
        : Math.min(traits.diskBytes, traits.diskBytes * 0.35 + traits.diskFillBytesPerHour * hours);
    const swapTotal = traits.hasSwap ? 512 * 2 ** 20 : 0;
    const swapUsed = traits.hasSwap ? Math.round(swapTotal * Math.max(0, (memUsed / traits.memTotalBytes - 0.7) * 2)) : 0;
    const sample: Sample = {
      v: PROTOCOL_VERSION,
      boot: this.boot,
      seq: this.seq++,
      ts_ms: scenario === 'clock' ? tsMs + CLOCK_OFFSET_MS : tsMs,
      cpu_pct: cpu,
      cpu_core_pct: Array.from({ length: traits.cores }, () => clampPct(cpu + (r() - 0.5) * 30)),
      load_1: Math.round(((cpu / 100) * traits.cores + r() * 0.3) * 100) / 100,
      load_5: Math.round((cpu / 100) * traits.cores * 0.9 * 100) / 100,
      load_15: Math.round((cpu / 100) * traits.cores * 0.8 * 100) / 100,
      mem_total_bytes: traits.memTotalBytes,
      mem_used_bytes: Math.round(memUsed),
      mem_available_bytes: Math.round(traits.memTotalBytes - memUsed),
      mem_pct: clampPct((memUsed / traits.memTotalBytes) * 100),
      swap_total_bytes: swapTotal,
      swap_used_bytes: swapUsed,
      ...(traits.hasSwap ? { swap_pct: clampPct((swapUsed / swapTotal) * 100) } : {}),
      filesystems: [
        { mount: '/', size_bytes: traits.diskBytes, used_bytes: Math.round(diskUsed), used_pct: clampPct((diskUsed / traits.diskBytes) * 100) },
        { mount: '/boot/firmware', size_bytes: 534_749_184, used_bytes: 63_897_600, used_pct: 11.9 },
      ],
      disk_read_bps: Math.round(r() * 200_000),
      disk_write_bps: Math.round(r() * 400_000 + traits.diskFillBytesPerHour / 3600) + (scenario === 'disk-fill' ? diskFillWriteBps(t, traits.diskBytes) : 0),
      net: [
        { iface: 'eth0', rx_bps: Math.round(20_000 + r() * 80_000 * diurnal), tx_bps: Math.round(5_000 + r() * 20_000) },
        { iface: 'wlan0', rx_bps: Math.round(r() * 500), tx_bps: Math.round(r() * 200) },
      ],
      ...(traits.hasTemperature
        ? { temp_c: round1(busy ? hotTempC(t, r()) : scenario === 'warming' ? warmingTempC(t, r()) : 42 + 20 * (cpu / 100) + r() * 2) }
        : {}),
      uptime_s: Math.max(0, Math.round((tsMs - this.bootMs) / 1000)),
      procs_total: 120 + Math.floor(r() * 80),
    };
    if (scenario === 'hot' || scenario === 'warming') sample.throttled = this.throttled = throttledBits(sample.temp_c!, this.throttled);
    if (processes) {
      const procs = PROCESS_NAMES.map(
        (name, i): ProcessUsage => ({
          pid: 400 + i * 37,
          name,
          cpu_pct: round1(r() * cpu * 0.5),
          rss_bytes: Math.round(20e6 + r() * 200e6 + (i === 0 ? leaked : 0)),
          threads: 1 + Math.floor(r() * 16),
        }),
      );
      sample.top_cpu = [...procs].sort((a, b) => b.cpu_pct - a.cpu_pct).slice(0, 5);
      sample.top_mem = [...procs].sort((a, b) => b.rss_bytes - a.rss_bytes).slice(0, 5);
    }
    return sample;
  }
}
