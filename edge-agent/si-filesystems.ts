// Which of systeminformation's filesystems the agent reports, shared by the systeminformation
// sampler and the birth record. Types only from systeminformation: importing this loads none of it.
import type { Systeminformation } from 'systeminformation';
import { REAL_FS_TYPES } from './collectors/filesystems.ts';

/**
 * The filesystems worth reporting from `si.fsSize()`, with the Linux sampler's rules where they
 * apply: on Linux the same real types (overlay only as `/`); on macOS the system's own APFS
 * volumes (/System/Volumes/VM, Preboot, …) are left out, keeping Data where user files live. A
 * device listed twice counts once, at its shortest mount point.
 */
export function selectSiFilesystems(
  list: readonly Systeminformation.FsSizeData[],
  platform: NodeJS.Platform = process.platform,
): Systeminformation.FsSizeData[] {
  const byDevice = new Map<string, Systeminformation.FsSizeData>();
  for (const f of list) {
    if (!(f.size > 0) || !Number.isSafeInteger(f.used) || !Number.isSafeInteger(f.available)) continue;
    if (platform === 'linux' && !(REAL_FS_TYPES.has(f.type) || (f.type === 'overlay' && f.mount === '/'))) continue;
    if (platform === 'darwin' && f.mount.startsWith('/System/Volumes/') && f.mount !== '/System/Volumes/Data') continue;
    const seen = byDevice.get(f.fs);
    if (!seen || f.mount.length < seen.mount.length) byDevice.set(f.fs, f);
  }
  return [...byDevice.values()];
}
