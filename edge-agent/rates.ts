// Pure counter→rate arithmetic for the samplers. Every function returns `undefined` rather than a
// made-up figure when the counters cannot give one (reset, wrap, no time elapsed): an absent field
// means "unknown", a zero would be a lie.
//
// Rounding: percentages to 0.1, bytes/s to whole numbers. The codec sends a non-integer as float32
// when that keeps its decimals, and an integer in as few bytes as it fits, so rounding keeps
// samples small as well as readable.

/** One `cpu` line of /proc/stat reduced to what a busy percentage needs, in jiffies (USER_HZ ticks). */
export interface CpuJiffies {
  /** user + nice + system + idle + iowait + irq + softirq + steal (guest is already inside user). */
  total: number;
  /** idle + iowait: time the CPU had nothing to run. */
  idle: number;
}

/** Linux reports /proc times in USER_HZ ticks, 100 per second on every architecture it ships on. */
export const LINUX_TICKS_PER_SECOND = 100;

/**
 * The monotonic clock in ms, for the time between two counter reads: no wall-clock step moves it.
 * Not performance.now(): the first read of the global `performance` loads node:perf_hooks, about
 * 0.5 MiB of the agent's resident memory for one clock.
 */
export function monotonicNowMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}

/** Rounds to one decimal: 12.34 → 12.3. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** `part / whole` as a percentage rounded to 0.1, clamped to 0–100; undefined when whole is not positive. */
export function percentOf(part: number, whole: number): number | undefined {
  if (!(whole > 0) || !(part >= 0)) return undefined;
  return Math.min(100, round1((part / whole) * 100));
}

/**
 * CPU busy % between two snapshots: busy = Δtotal − Δ(idle + iowait). Undefined when the counters
 * went backwards (a reset, a wrap, a CPU taken offline and back) or did not move at all, which is
 * what keeps the result inside 0–100.
 */
export function cpuBusyPct(prev: CpuJiffies, cur: CpuJiffies): number | undefined {
  const total = cur.total - prev.total;
  const idle = cur.idle - prev.idle;
  if (!(total > 0) || idle < 0 || idle > total) return undefined;
  return round1(((total - idle) / total) * 100);
}

/**
 * Per-core busy %, in core order. Undefined as a whole when the number of cores changed or any
 * core's counters are unusable: the array is positional, so a hole would shift every later core.
 */
export function cpuCoreBusyPct(prev: readonly CpuJiffies[], cur: readonly CpuJiffies[]): number[] | undefined {
  if (prev.length !== cur.length || cur.length === 0) return undefined;
  const out = new Array<number>(cur.length);
  for (let i = 0; i < cur.length; i++) {
    const pct = cpuBusyPct(prev[i]!, cur[i]!);
    if (pct === undefined) return undefined;
    out[i] = pct;
  }
  return out;
}

/**
 * Bytes per second, rounded to an integer, from two readings of a byte counter `elapsedMs` apart.
 * Undefined when no time passed or the counter went backwards (an interface re-created, a 32-bit
 * counter wrapped on a 32-bit kernel, a device re-attached): one missing sample beats a spike.
 */
export function bytesPerSecond(prev: number, cur: number, elapsedMs: number): number | undefined {
  if (!(elapsedMs > 0) || !(cur >= prev)) return undefined;
  return Math.round(((cur - prev) * 1000) / elapsedMs);
}

/**
 * A process's CPU % of ONE core (so a busy 4-thread process may show 400) from its utime + stime
 * in clock ticks at two moments `elapsedMs` apart. Undefined when no time passed or the ticks went
 * backwards (the pid was reused by a younger process).
 */
export function processCpuPct(prevTicks: number, curTicks: number, elapsedMs: number, ticksPerSecond: number = LINUX_TICKS_PER_SECOND): number | undefined {
  if (!(elapsedMs > 0) || !(ticksPerSecond > 0) || !(curTicks >= prevTicks)) return undefined;
  // (Δticks / ticksPerSecond) seconds of CPU over (elapsedMs / 1000) seconds, as a percentage.
  return round1(((curTicks - prevTicks) * 100_000) / (ticksPerSecond * elapsedMs));
}
