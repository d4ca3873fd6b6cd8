// Disk throughput from /proc/diskstats (Documentation/admin-guide/iostats.rst): field 3 is the
// device name, 6 sectors read, 10 sectors written. Sectors here are always 512 bytes, whatever
// the device's own sector size.
import { bytesPerSecond } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

const SECTOR_BYTES = 512;

// Whole physical disks only: SCSI/SATA/USB (sda), virtio (vda), Xen (xvda), IDE (hda), NVMe
// namespaces (nvme0n1), SD/eMMC (mmcblk0). Partitions (sda1, nvme0n1p1, mmcblk0p2) would count
// the same bytes twice, and so would device-mapper (dm-0), md RAID and loop devices stacked on
// them; ram and zram never touch a disk.
const WHOLE_DISK = /^(?:[shv]d[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

export function isWholePhysicalDisk(name: string): boolean {
  return WHOLE_DISK.test(name);
}

/** Bytes read and written since boot, summed over whole physical disks. */
export function parseDiskstats(text: string): { readBytes: number; writtenBytes: number; disks: number } {
  let readSectors = 0;
  let writtenSectors = 0;
  let disks = 0;
  for (const line of text.split('\n')) {
    const parts = line.split(' ').filter((p) => p !== '');
    const name = parts[2];
    if (name === undefined || parts.length < 10 || !isWholePhysicalDisk(name)) continue;
    const r = Number(parts[5]);
    const w = Number(parts[9]);
    if (!Number.isFinite(r) || !Number.isFinite(w)) continue;
    readSectors += r;
    writtenSectors += w;
    disks++;
  }
  return { readBytes: readSectors * SECTOR_BYTES, writtenBytes: writtenSectors * SECTOR_BYTES, disks };
}

export function createDiskIoCollector(procRoot: string): Collector {
  const file = new KeptOpenFile(`${procRoot}/diskstats`);
  let prev: { readBytes: number; writtenBytes: number; disks: number; atMs: number } | undefined;
  return {
    name: 'diskio',
    collect(out: Reading, nowMs: number) {
      const cur = { ...parseDiskstats(file.read()), atMs: nowMs };
      // A disk plugged in or pulled out changes the sum without any I/O: skip that one interval.
      if (prev && prev.disks === cur.disks && cur.disks > 0) {
        const elapsed = nowMs - prev.atMs;
        const read = bytesPerSecond(prev.readBytes, cur.readBytes, elapsed);
        const written = bytesPerSecond(prev.writtenBytes, cur.writtenBytes, elapsed);
        if (read !== undefined) out.disk_read_bps = read;
        if (written !== undefined) out.disk_write_bps = written;
      }
      prev = cur;
    },
    close: () => file.close(),
  };
}
