// A process group's CPU from /proc, for the benchmarks that run an agent and collectd side by side:
// the live members' own time and what the group's leader reaped of children that exited.
import { readdirSync, readFileSync } from 'node:fs';

/** /proc times are in USER_HZ ticks, 100 per second. */
export const TICK_MS = 10;

export interface ProcStat {
  pid: number;
  pgrp: number;
  ownTicks: number;
  reapedTicks: number;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // fields 5 (pgrp) and 14–17 (utime stime cutime cstime) of proc(5); index 0 here is field 3
    return { pid, pgrp: f[2]!, ownTicks: f[11]! + f[12]!, reapedTicks: f[13]! + f[14]! };
  } catch {
    return undefined; // exited meanwhile
  }
}

export function groupMembers(pgrp: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = procStat(Number(entry));
    if (s?.pgrp === pgrp) members.push(s);
  }
  return members;
}

/** CPU of a group so far, ms: its live processes' own time and what its leader reaped. */
export function groupCpuMs(pgrp: number): number {
  let ticks = 0;
  for (const m of groupMembers(pgrp)) ticks += m.ownTicks + (m.pid === pgrp ? m.reapedTicks : 0);
  return ticks * TICK_MS;
}
