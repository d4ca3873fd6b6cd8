// Memory and swap from /proc/meminfo (values in kB, which the kernel means as KiB).
import { percentOf } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

export interface MemInfo {
  MemTotal?: number;
  MemAvailable?: number;
  SwapTotal?: number;
  SwapFree?: number;
}

const WANTED = new Set<string>(['MemTotal', 'MemAvailable', 'SwapTotal', 'SwapFree']);

/** The four lines we use, in bytes; a line that is missing stays undefined. */
export function parseMeminfo(text: string): MemInfo {
  const info: Record<string, number> = {};
  let start = 0;
  let found = 0;
  while (start < text.length && found < WANTED.size) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) {
      const key = text.slice(start, colon);
      if (WANTED.has(key)) {
        const kib = Number.parseInt(text.slice(colon + 1, end), 10);
        if (Number.isFinite(kib)) {
          info[key] = kib * 1024;
          found++;
        }
      }
    }
    start = end + 1;
  }
  return info as MemInfo;
}

export function createMemoryCollector(procRoot: string): Collector {
  const path = `${procRoot}/meminfo`;
  const file = new KeptOpenFile(path);
  return {
    name: 'memory',
    async collect(out: Reading) {
      const m = parseMeminfo(file.read());
      if (m.MemTotal === undefined) throw new Error(`${path}: no MemTotal line`);
      out.mem_total_bytes = m.MemTotal;
      // MemAvailable (Linux ≥ 3.14) is the kernel's own estimate of what new work can use without
      // swapping; used = total − available is what `free` calls "used" in spirit and what matters.
      if (m.MemAvailable !== undefined) {
        const available = Math.min(m.MemAvailable, m.MemTotal);
        out.mem_available_bytes = available;
        out.mem_used_bytes = m.MemTotal - available;
        const pct = percentOf(out.mem_used_bytes, m.MemTotal);
        if (pct !== undefined) out.mem_pct = pct;
      }
      if (m.SwapTotal !== undefined && m.SwapFree !== undefined) {
        out.swap_total_bytes = m.SwapTotal;
        out.swap_used_bytes = Math.max(0, m.SwapTotal - m.SwapFree);
        // Absent, not 0 %, without swap: "0 % of nothing" would read as "swap is fine".
        const pct = percentOf(out.swap_used_bytes, m.SwapTotal);
        if (pct !== undefined) out.swap_pct = pct;
      }
    },
    close: () => file.close(),
  };
}
