// CPU busy %, overall and per core, from two snapshots of /proc/stat (proc(5): "cpu" lines, in
// USER_HZ ticks: user nice system idle iowait irq softirq steal guest guest_nice).
import { cpuBusyPct, cpuCoreBusyPct, type CpuJiffies } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

export interface CpuSnapshot {
  all: CpuJiffies;
  /** In file order, which is core order. */
  cores: CpuJiffies[];
}

/** Reads the `cpu` lines at the top of /proc/stat; undefined when there is no aggregate line. */
export function parseProcStat(text: string): CpuSnapshot | undefined {
  let all: CpuJiffies | undefined;
  const cores: CpuJiffies[] = [];
  let start = 0;
  // The cpu lines come first; stop at the first other line (intr alone can be kilobytes long).
  while (text.startsWith('cpu', start)) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const parts = text
      .slice(start, end)
      .split(' ')
      .filter((p) => p !== '');
    const jiffies = toJiffies(parts);
    if (jiffies) {
      if (parts[0] === 'cpu') all = jiffies;
      else cores.push(jiffies);
    }
    start = end + 1;
  }
  return all ? { all, cores } : undefined;
}

function toJiffies(parts: string[]): CpuJiffies | undefined {
  if (parts.length < 5) return undefined;
  // Fields 1–8; guest and guest_nice (9, 10) are already counted in user and nice.
  let total = 0;
  for (let i = 1; i <= 8 && i < parts.length; i++) total += Number(parts[i]);
  const idle = Number(parts[4]) + Number(parts[5] ?? 0);
  return Number.isFinite(total) && Number.isFinite(idle) ? { total, idle } : undefined;
}

export function createCpuCollector(procRoot: string): Collector {
  const path = `${procRoot}/stat`;
  const file = new KeptOpenFile(path, { singleRecord: true });
  let prev: CpuSnapshot | undefined;
  return {
    name: 'cpu',
    collect(out: Reading) {
      const cur = parseProcStat(file.read());
      if (!cur) throw new Error(`${path}: no "cpu" line`);
      if (prev) {
        const pct = cpuBusyPct(prev.all, cur.all);
        if (pct !== undefined) out.cpu_pct = pct;
        const cores = cpuCoreBusyPct(prev.cores, cur.cores);
        if (cores !== undefined) out.cpu_core_pct = cores;
      }
      prev = cur;
    },
    close: () => file.close(),
  };
}
