// The birth record: what the hub shows about a node, read once per connection through
// systeminformation (its CPU cost does not matter here). Every part fails soft to '' / 0 / [].
// systeminformation is imported when the record is first read, not when the agent starts: its
// modules' start-up code and state would otherwise sit in the Linux agent's memory for nothing.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { PROTOCOL_VERSION, type NodeInfo } from '../protocol/index.ts';
import { selectSiFilesystems } from './si-filesystems.ts';

type SystemInformation = typeof import('./systeminformation.ts');

const orUndefined = <T>(promise: Promise<T>): Promise<T | undefined> => promise.catch(() => undefined);

/**
 * Boot time in ms since the epoch. On Linux, /proc/stat's `btime` (whole seconds, fixed for the
 * boot), so every birth record of one boot carries the same figure; elsewhere now − uptime, which
 * wobbles by a fraction of a second and is therefore rounded to the second.
 */
function bootTimeMs(si: SystemInformation): number {
  if (process.platform === 'linux') {
    try {
      const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      if (match?.[1]) return Number(match[1]) * 1000;
    } catch {
      // fall through to systeminformation
    }
  }
  try {
    const t = si.time();
    return Math.round((t.current - t.uptime * 1000) / 1000) * 1000;
  } catch {
    return 0;
  }
}

export async function readBirthRecord(intervalMs: number, agentVersion: string): Promise<NodeInfo> {
  const si = await import('./systeminformation.ts');
  const [os, cpu, mem, fsSize] = await Promise.all([orUndefined(si.osInfo()), orUndefined(si.cpu()), orUndefined(si.mem()), orUndefined(si.fsSize())]);
  return {
    v: PROTOCOL_VERSION,
    agent_version: agentVersion,
    hostname: os?.hostname ?? '',
    os: [os?.distro, os?.release].filter((s) => s).join(' '),
    kernel: os?.kernel ?? '',
    arch: os?.arch ?? '',
    cpu_model: [cpu?.manufacturer, cpu?.brand].filter((s) => s).join(' '),
    cpu_cores: cpu?.cores ?? 0,
    mem_total_bytes: mem?.total ?? 0,
    disks: fsSize ? selectSiFilesystems(fsSize).map((f) => ({ mount: f.mount, fs_type: f.type, size_bytes: f.size })) : [],
    boot_time_ms: bootTimeMs(si),
    interval_ms: intervalMs,
    ip_addresses: ipAddresses(),
  };
}

/** Non-loopback addresses of every interface, IPv4 first, so the hub can find a node by address. */
function ipAddresses(): string[] {
  try {
    const all = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((a) => !a.internal);
    return [...all.filter((a) => a.family === 'IPv4'), ...all.filter((a) => a.family !== 'IPv4')].map((a) => a.address).slice(0, 16);
  } catch {
    return [];
  }
}
