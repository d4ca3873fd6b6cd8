// What a set of processes holds in memory, three ways, for the benchmarks that set agents side by
// side: the sum of their RSS (each page once per process that maps it, as `ps` counts), the sum of
// their PSS (a page shared by n processes counts 1/n in each, users outside the set included), and
// the union of their resident pages (each physical page once, however many of the set map it: the
// memory the set occupies). The union needs the page frame numbers of /proc/PID/pagemap, which the
// kernel shows to root only (CAP_SYS_ADMIN); otherwise it is undefined.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const PAGE_KIB = 4;
const PAGE_BYTES = PAGE_KIB * 1024;

/** The kB fields of /proc/PID/smaps_rollup, in KiB. */
export interface Rollup {
  rss: number;
  pss: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anonymous: number;
}
const ROLLUP_FIELDS: [keyof Rollup, string][] = [
  ['rss', 'Rss'],
  ['pss', 'Pss'],
  ['sharedClean', 'Shared_Clean'],
  ['sharedDirty', 'Shared_Dirty'],
  ['privateClean', 'Private_Clean'],
  ['privateDirty', 'Private_Dirty'],
  ['anonymous', 'Anonymous'],
];
const emptyRollup = (): Rollup => ({ rss: 0, pss: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anonymous: 0 });

/** /proc/PID/smaps_rollup, or undefined when the process has gone. */
export function rollup(pid: number): Rollup | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const r = emptyRollup();
  for (const [key, field] of ROLLUP_FIELDS) r[key] = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0);
  return r;
}

/** Sums of the rollups of several processes (those gone meanwhile count nothing). */
export function sumRollups(pids: number[]): Rollup {
  const sum = emptyRollup();
  for (const pid of pids) {
    const r = rollup(pid);
    if (r) for (const [key] of ROLLUP_FIELDS) sum[key] += r[key];
  }
  return sum;
}

interface Mapping {
  start: number;
  end: number;
  /** The file mapped, or [heap], [stack], [anon] … */
  name: string;
  rss: number;
  privateDirty: number;
}

function mappings(pid: number): Mapping[] {
  const list: Mapping[] = [];
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return list;
  }
  let current: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = { start: Number.parseInt(head[1]!, 16), end: Number.parseInt(head[2]!, 16), name: head[3] || '[anon]', rss: 0, privateDirty: 0 };
      list.push(current);
    } else if (current && line.startsWith('Rss:')) current.rss = Number(line.split(/\s+/)[1]);
    else if (current && line.startsWith('Private_Dirty:')) current.privateDirty = Number(line.split(/\s+/)[1]);
  }
  return list;
}

/** Resident KiB of one process by what is mapped (a library, the binary, [heap], [anon]), largest first. */
export function residentByMapping(pid: number): { name: string; rss: number; privateDirty: number }[] {
  const byName = new Map<string, { name: string; rss: number; privateDirty: number }>();
  for (const m of mappings(pid)) {
    const entry = byName.get(m.name) ?? { name: m.name, rss: 0, privateDirty: 0 };
    entry.rss += m.rss;
    entry.privateDirty += m.privateDirty;
    byName.set(m.name, entry);
  }
  return [...byName.values()].filter((e) => e.rss > 0).sort((a, b) => b.rss - a.rss);
}

// pagemap(5): one 64-bit entry a virtual page; bit 63 present, bits 0–54 the page frame number.
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/**
 * The physical frames of a process's resident pages, added to `frames`. Returns false when the
 * kernel hides frame numbers (not root): every present page then reads as frame 0.
 */
function addResidentFrames(pid: number, frames: Set<number>): boolean {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/pagemap`, 'r');
  } catch {
    return true; // gone: nothing to add
  }
  let visible = true;
  try {
    for (const m of mappings(pid)) {
      // Only mappings with resident pages; [vsyscall] lies beyond what pagemap can be read at.
      if (m.rss === 0 || m.name === '[vsyscall]') continue;
      const pages = (m.end - m.start) / PAGE_BYTES;
      const buffer = Buffer.alloc(Math.min(pages, 65536) * 8);
      for (let done = 0; done < pages; ) {
        const count = Math.min(pages - done, buffer.length / 8);
        const read = readSync(fd, buffer, 0, count * 8, (m.start / PAGE_BYTES + done) * 8);
        if (read <= 0) break;
        for (let i = 0; i < read / 8; i++) {
          const entry = buffer.readBigUInt64LE(i * 8);
          if ((entry & PRESENT) === 0n) continue;
          const frame = Number(entry & PFN_MASK);
          if (frame === 0) visible = false;
          else frames.add(frame);
        }
        done += read / 8;
      }
    }
  } catch {
    // gone meanwhile: what was read counts
  } finally {
    closeSync(fd);
  }
  return visible;
}

/** KiB of the distinct physical pages resident in any of the processes; undefined when not root. */
export function unionKiB(pids: number[]): number | undefined {
  const frames = new Set<number>();
  for (const pid of pids) if (!addResidentFrames(pid, frames)) return undefined;
  return frames.size * PAGE_KIB;
}

/** The three figures for a set of processes, MiB. */
export interface MemoryFigures {
  rssMiB: number;
  pssMiB: number;
  unionMiB: number | undefined;
}
export function memoryFigures(pids: number[], withUnion = true): MemoryFigures {
  const sum = sumRollups(pids);
  const union = withUnion ? unionKiB(pids) : undefined;
  return { rssMiB: sum.rss / 1024, pssMiB: sum.pss / 1024, unionMiB: union === undefined ? undefined : union / 1024 };
}
