// Usage of the real filesystems: the mount table from /proc/self/mounts (fstab(5) format), sizes
// from statfs(2) as `df` computes them.
import { statfsSync, statSync, type StatsFs } from 'node:fs';
import { percentOf } from '../rates.ts';
import type { FilesystemUsage } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

/**
 * Filesystem types that sit on a disk the user cares about. Everything else is virtual (proc,
 * sysfs, tmpfs, devtmpfs, cgroup, …), read-only images (squashfs snaps, iso9660) or network
 * filesystems, whose statfs can hang for minutes when the server is gone.
 * `fuseblk` is ntfs-3g / exfat-fuse on a USB disk.
 */
export const REAL_FS_TYPES: ReadonlySet<string> = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'bcachefs',
  'vfat',
  'exfat',
  'f2fs',
  'zfs',
  'ntfs',
  'ntfs3',
  'fuseblk',
  'jfs',
  'reiserfs',
  'hfsplus',
]);

export interface MountEntry {
  device: string;
  mount: string;
  type: string;
}

/** The part of statfs(2) a usage figure needs; counts in blocks of `bsize` bytes. */
export type StatFsResult = Pick<StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail'>;

/** Mount tables escape space, tab, newline and backslash as octal (`\040`). */
function unescapeMount(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))) : field;
}

/** The mounts of real filesystem types, plus `overlay` when it is `/` (a container's root), in table order. */
export function realMounts(mountsText: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of mountsText.split('\n')) {
    const [device, rawMount, type] = line.split(' ', 3);
    if (device === undefined || rawMount === undefined || type === undefined) continue;
    const mount = unescapeMount(rawMount);
    if (REAL_FS_TYPES.has(type) || (type === 'overlay' && mount === '/')) entries.push({ device, mount, type });
  }
  return entries;
}

/**
 * A device mounted more than once (bind mounts, btrfs subvolumes) is reported once, at its
 * shortest mount point: every one of its mounts shows the same space. Order: first appearance.
 */
export function onePerDevice(entries: readonly MountEntry[]): MountEntry[] {
  const byDevice = new Map<string, MountEntry>();
  for (const e of entries) {
    const seen = byDevice.get(e.device);
    if (seen === undefined || e.mount.length < seen.mount.length) byDevice.set(e.device, e);
  }
  return [...byDevice.values()];
}

/** One filesystem's usage the way `df` shows it; undefined for an empty (size 0) filesystem. */
export function usageFromStatfs(mount: string, s: StatFsResult): FilesystemUsage | undefined {
  const size = s.blocks * s.bsize;
  if (!(size > 0)) return undefined;
  const usedBlocks = Math.max(0, s.blocks - s.bfree);
  // df's Use%: used / (used + available to unprivileged users); the root-reserved blocks
  // (bfree − bavail) count as neither, which is why ext4 reads 100 % before it is quite full.
  const usedPct = percentOf(usedBlocks, usedBlocks + s.bavail) ?? 0;
  return { mount, size_bytes: size, used_bytes: usedBlocks * s.bsize, used_pct: usedPct };
}

/**
 * The mount table is read again at most this often: the kernel formats every line of it on each
 * read (20 µs for 20 mounts, more under Docker), and mounts change far less often than samples.
 * A disk mounted or unmounted shows in the figures within this time.
 */
export const MOUNT_TABLE_MS = 5_000;

/** Whether a mount point is a file, not a directory; one that cannot be stat'ed counts as a directory (statfs decides). */
function isFileMount(mount: string): boolean {
  try {
    return !statSync(mount).isDirectory();
  } catch {
    return false;
  }
}

/**
 * statfs(2) is called synchronously: every type in REAL_FS_TYPES is answered from the superblock's
 * counters in memory, a few µs, where a thread-pool round trip cost 30–40 µs a mount. Network
 * filesystems, which can block for minutes, are never asked. FUSE (`fuseblk`) is answered by a
 * user-space daemon: a hung one blocks the agent, whose broker connection then drops and the hub
 * shows the node offline; through the pool, the sample waited for it all the same.
 */
export function createFilesystemsCollector(procRoot: string, statfs: (path: string) => StatFsResult = statfsSync): Collector {
  const mountTable = new KeptOpenFile(`${procRoot}/self/mounts`);
  let lastText = '';
  let readAtMs = -Infinity;
  let mounts: MountEntry[] = [];
  return {
    name: 'filesystems',
    collect(out: Reading, nowMs: number) {
      if (!(nowMs - readAtMs < MOUNT_TABLE_MS)) {
        const text = mountTable.read();
        readAtMs = nowMs;
        if (text !== lastText) {
          // The table changed (or this is the first read): select again. Mount points that are files
          // go first: that is how Docker and Kubernetes bind /etc/hosts, /etc/resolv.conf and
          // /dev/termination-log from the host's disk into a container.
          mounts = onePerDevice(realMounts(text).filter((m) => !isFileMount(m.mount)));
          lastText = text;
        }
      }
      const usage: FilesystemUsage[] = [];
      for (const m of mounts) {
        let s: StatFsResult;
        try {
          s = statfs(m.mount);
        } catch {
          continue; // gone or forbidden: skip it
        }
        const u = usageFromStatfs(m.mount, s);
        if (u) usage.push(u);
      }
      out.filesystems = usage;
    },
    close: () => mountTable.close(),
  };
}
