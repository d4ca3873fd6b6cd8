// The process list from /proc/<pid>/stat (proc(5)): count, top 5 by CPU and top 5 by resident
// memory. CPU % is of one core, from utime + stime between two process reads.
import { readdirSync } from 'node:fs';
import type { ProcessUsage } from '../../protocol/index.ts';
import { LINUX_TICKS_PER_SECOND, processCpuPct } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFiles, type Collector } from './collector.ts';

export const TOP_N = 5;

export interface PidStat {
  pid: number;
  /** comm: the executable's name, at most 15 bytes, and free to contain spaces and parentheses. */
  name: string;
  /** utime + stime in clock ticks; children's times are left out, as top does. */
  ticks: number;
  threads: number;
  rssPages: number;
  /** Clock ticks after boot at which the process started: tells a reused pid from the old one. */
  startTicks: number;
}

// Field numbers from proc(5), counted from 1; after the comm field, field 3 (state) is index 0.
const AFTER_COMM = 3;
const UTIME = 14 - AFTER_COMM;
const STIME = 15 - AFTER_COMM;
const THREADS = 20 - AFTER_COMM;
const STARTTIME = 22 - AFTER_COMM;
const RSS = 24 - AFTER_COMM;

/**
 * Parses one /proc/<pid>/stat line. The name sits between the first '(' and the LAST ')', since it
 * may itself hold both ("(my (weird) name)"); everything after it is space-separated numbers.
 * Splits the part after the name, up to the last field used: under --lite-mode, split and Number
 * run as native builtins where a scan of our own is interpreted (88 µs against 215 µs for the 92
 * processes of the dev VM).
 */
export function parsePidStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  const fields = text.slice(close + 2).split(' ', RSS + 1);
  // A field that is missing (a line cut short) is undefined, and Number(undefined) is NaN.
  const utime = Number(fields[UTIME]);
  const stime = Number(fields[STIME]);
  const threads = Number(fields[THREADS]);
  const startTicks = Number(fields[STARTTIME]);
  const rssPages = Number(fields[RSS]);
  if (!(pid >= 0) || Number.isNaN(utime + stime + threads + startTicks + rssPages)) return undefined;
  return { pid, name: text.slice(open + 1, close), ticks: utime + stime, threads, rssPages, startTicks };
}

/** Puts `p` into `top` (kept sorted best first, at most TOP_N long) if it belongs there. */
function offer(top: ProcessUsage[], p: ProcessUsage, better: (a: ProcessUsage, b: ProcessUsage) => boolean): void {
  if (top.length < TOP_N) top.push(p);
  else if (better(p, top[TOP_N - 1]!)) top[TOP_N - 1] = p;
  else return;
  for (let i = top.length - 1; i > 0 && better(top[i]!, top[i - 1]!); i--) {
    const t = top[i]!;
    top[i] = top[i - 1]!;
    top[i - 1] = t;
  }
}
// Ties go to the lower pid, so equal figures give the same order on every sample.
const moreCpu = (a: ProcessUsage, b: ProcessUsage): boolean => a.cpu_pct > b.cpu_pct || (a.cpu_pct === b.cpu_pct && a.pid < b.pid);
const moreRss = (a: ProcessUsage, b: ProcessUsage): boolean => a.rss_bytes > b.rss_bytes || (a.rss_bytes === b.rss_bytes && a.pid < b.pid);

export function createProcessesCollector(procRoot: string, pageSizeBytes: number, ticksPerSecond: number = LINUX_TICKS_PER_SECOND): Collector {
  // Two generations of per-pid counters, swapped on each read so no map is allocated per sample.
  let prevTicks = new Map<number, number>();
  let prevStart = new Map<number, number>();
  let curTicks = new Map<number, number>();
  let curStart = new Map<number, number>();
  let prevAtMs: number | undefined;
  const statFiles = new KeptOpenFiles(procRoot, (pid) => `${procRoot}/${pid}/stat`);
  return {
    name: 'processes',
    collect(out: Reading, nowMs: number) {
      const entries = readdirSync(procRoot);
      const elapsed = prevAtMs === undefined ? 0 : nowMs - prevAtMs;
      const haveRates = prevAtMs !== undefined && elapsed > 0;
      const topCpu: ProcessUsage[] = [];
      const topMem: ProcessUsage[] = [];
      let total = 0;
      curTicks.clear();
      curStart.clear();
      for (const entry of entries) {
        const c = entry.charCodeAt(0);
        if (c < 48 || c > 57) continue; // not a pid: self, net, sys, …
        let stat: PidStat | undefined;
        try {
          stat = parsePidStat(statFiles.read(entry));
        } catch {
          continue; // exited between readdir and read: not an error
        }
        if (!stat) continue;
        total++;
        curTicks.set(stat.pid, stat.ticks);
        curStart.set(stat.pid, stat.startTicks);
        if (!haveRates) continue;
        // A pid not seen last time (or reused since) started within the interval: all its ticks are new.
        const before = prevStart.get(stat.pid) === stat.startTicks ? (prevTicks.get(stat.pid) ?? 0) : 0;
        const cpu = processCpuPct(before, stat.ticks, elapsed, ticksPerSecond);
        if (cpu === undefined) continue;
        const usage: ProcessUsage = {
          pid: stat.pid,
          name: stat.name,
          cpu_pct: cpu,
          rss_bytes: stat.rssPages * pageSizeBytes,
          threads: stat.threads,
        };
        offer(topCpu, usage, moreCpu);
        offer(topMem, usage, moreRss);
      }
      statFiles.endRound();
      const ticks = prevTicks;
      prevTicks = curTicks;
      curTicks = ticks;
      const starts = prevStart;
      prevStart = curStart;
      curStart = starts;
      prevAtMs = nowMs;
      out.procs_total = total;
      // Without a previous read there is no CPU figure, and the process tuple has no way to say
      // "unknown", so both lists wait for the next read rather than carry invented zeros.
      if (haveRates) {
        out.top_cpu = topCpu;
        out.top_mem = topMem;
      }
    },
    close: () => statFiles.close(),
  };
}
