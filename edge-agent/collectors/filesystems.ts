// Usage of the real filesystems: the mount table from /proc/self/mounts (fstab(5) format), sizes
// from statfs(2) as `df` computes them.
import { promises as fsp, type StatsFs } from 'node:fs';
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
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'bcachefs', 'vfat', 'exfat', 'f2fs', 'zfs',
  'ntfs', 'ntfs3', 'fuseblk', 'jfs', 'reiserfs', 'hfsplus',
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

const statfsDefault = (path: string): Promise<StatFsResult> => fsp.statfs(path);

export function createFilesystemsCollector(
  procRoot: string,
  statfs: (path: string) => Promise<StatFsResult> = statfsDefault,
): Collector {
  const mountTable = new KeptOpenFile(`${procRoot}/self/mounts`);
  let lastText = '';
  let mounts: MountEntry[] = [];
  return {
    name: 'filesystems',
    async collect(out: Reading) {
      const text = mountTable.read();
      if (text !== lastText) {
        // The table changed (or this is the first read): select again. Mount points that are files
        // go first: that is how Docker and Kubernetes bind /etc/hosts, /etc/resolv.conf and
        // /dev/termination-log from the host's disk into a container.
        const candidates = realMounts(text);
        const isFile = await Promise.all(candidates.map((m) => fsp.stat(m.mount).then((st) => !st.isDirectory(), () => false)));
        mounts = onePerDevice(candidates.filter((_, i) => !isFile[i]));
        lastText = text;
      }
      const usage = await Promise.all(
        mounts.map((m) => statfs(m.mount).then((s) => usageFromStatfs(m.mount, s), () => undefined)), // gone or forbidden: skip it
      );
      out.filesystems = usage.filter((u): u is FilesystemUsage => u !== undefined);
    },
    close: () => mountTable.close(),
  };
}
