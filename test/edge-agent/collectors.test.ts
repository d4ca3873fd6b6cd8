// The Linux sampler's collectors, end to end through createLinuxSampler. The fixture tree under
// test/fixtures/proc/ (a fake /proc and /sys of a 4-core Pi) stands in for the OS, and so do the
// clock and statfs: the fixture's mount points are not real filesystems. Every expected figure
// below is worked out from those files by hand.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isWholePhysicalDisk } from '../../edge-agent/collectors/diskio.ts';
import { MOUNT_TABLE_MS, type StatFsResult } from '../../edge-agent/collectors/filesystems.ts';
import { parsePidStat } from '../../edge-agent/collectors/processes.ts';
import { createLinuxSampler, type LinuxSamplerOptions } from '../../edge-agent/linux-sampler.ts';

const FIXTURE = new URL('../fixtures/proc/', import.meta.url).pathname;
const PROC = join(FIXTURE, 'proc');
const SYS = join(FIXTURE, 'sys');

/** statfs(2) of the fixture's mount points; /media/gone has vanished. */
const STATFS: Record<string, StatFsResult> = {
  '/': { bsize: 4096, blocks: 7_500_000, bfree: 5_000_000, bavail: 4_600_000 },
  '/boot/firmware': { bsize: 512, blocks: 1_048_576, bfree: 786_432, bavail: 786_432 },
  '/mnt/usb disk': { bsize: 4096, blocks: 1000, bfree: 1000, bavail: 950 },
  '/srv/data': { bsize: 16384, blocks: 100_000, bfree: 40_000, bavail: 40_000 },
};
const fakeStatfs = (path: string): StatFsResult => {
  const s = STATFS[path];
  if (!s) throw Object.assign(new Error(`ENOENT: no such file or directory, statfs '${path}'`), { code: 'ENOENT' });
  return s;
};

function sampler(extra: LinuxSamplerOptions & { logs?: string[] } = {}) {
  const logs = extra.logs ?? [];
  const clock = { ms: 1000 };
  const s = createLinuxSampler({
    procRoot: PROC,
    sysRoot: SYS,
    statfs: fakeStatfs,
    pageSizeBytes: 4096,
    now: () => clock.ms,
    log: (msg) => logs.push(msg),
    ...extra,
  });
  return { s, clock, logs };
}

const temps: string[] = [];
/** A writable copy of the fixture tree, for counters that move. */
function copyFixture(): { proc: string; sys: string; write: (rel: string, text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'remonitor-proc-'));
  temps.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  const proc = join(dir, 'proc');
  return {
    proc,
    sys: join(dir, 'sys'),
    write: (rel, text) => {
      mkdirSync(join(proc, rel, '..'), { recursive: true });
      writeFileSync(join(proc, rel), text);
    },
  };
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NET_HEADER =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

/** The fixture's counters one second later (see the comments for what moved). */
function advanceOneSecond(w: (rel: string, text: string) => void): void {
  // +400 ticks over 4 cores: user +100, system +20, idle +270, iowait +10 → busy 120/400 = 30 %.
  // guest +10 is already inside user, so counting it would give 130/410.
  w(
    'stat',
    'cpu  1100 0 520 8270 110 0 50 0 40 0\n' +
      'cpu0 320 0 135 2020 25 0 12 0 20 0\n' + // +70 +10 +20 idle → 80 %
      'cpu1 260 0 130 2080 30 0 13 0 10 0\n' + // +10 +5, idle +80 +5 → 15 %
      'cpu2 260 0 128 2085 27 0 12 0 5 0\n' + // +10 +3, idle +85 +2 → 13 %
      'cpu3 260 0 127 2085 28 0 13 0 5 0\n' + // +10 +2, idle +85 +3 → 12 %
      'intr 123999 0\nctxt 999999\nbtime 1700000000\n',
  );
  // Whole disks: mmcblk0 +2000 read / +1000 written sectors, sda +2000 read → 4000 × 512 B read,
  // 1000 × 512 B written. Partitions, loop, dm and zram move a lot and must not count.
  w(
    'diskstats',
    '   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n' +
      '   7       0 loop0 100 0 900000 10 0 0 0 0 0 10 10 0 0 0 0 0 0\n' +
      ' 179       0 mmcblk0 5010 100 402000 3000 2010 500 161000 4000 0 5000 7000 0 0 0 0 0 0\n' +
      ' 179       1 mmcblk0p1 100 0 8000 50 2 0 16 1 0 50 51 0 0 0 0 0 0\n' +
      ' 179       2 mmcblk0p2 4810 100 392000 2900 2008 500 160984 3999 0 4900 6900 0 0 0 0 0 0\n' +
      '   8       0 sda 1010 0 82000 500 500 0 40000 300 0 600 800 0 0 0 0 0 0\n' +
      '   8       1 sda1 1000 0 81000 495 500 0 40000 300 0 600 800 0 0 0 0 0 0\n' +
      ' 254       0 dm-0 10 0 900800 1 0 0 90000 0 0 1 1 0 0 0 0 0 0\n' +
      ' 252       0 zram0 300 0 802400 3 900 0 807200 9 0 12 12 0 0 0 0 0 0\n',
  );
  // eth0 +125000 rx, +25000 tx; wlan0 idle; lo busy but left out.
  w(
    'net/dev',
    NET_HEADER +
      '    lo: 9999000      10    0    0    0     0          0         0  9999000      10    0    0    0     0       0          0\n' +
      '  eth0: 5125000    4100    0    0    0     0          0         0  1025000    3050    0    0    0     0       0          0\n' +
      ' wlan0:0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
  );
  // pid 1: +5 utime +5 stime = 10 ticks → 10 %. pid 4242: +120 +30 = 150 ticks → 150 % (of one core).
  w('1/stat', '1 (systemd) S 0 1 1 0 -1 4194560 50000 600000 100 200 305 155 2000 1000 20 0 1 0 5 170000000 3000 0 0\n');
  w('4242/stat', '4242 (my (weird) name) R 1 4242 4242 0 -1 4194304 1000 0 0 0 1320 330 0 0 20 0 7 0 123456 900000000 50000 0 0\n');
  // pid 99 was reused (another start time): its 3 ticks are all new → 3 %, not 3 − 40.
  w('99/stat', '99 (kworker/1:2) I 2 0 0 0 -1 69238880 0 0 0 0 0 3 0 0 20 0 1 0 9999 0 0 0 0\n');
  // pid 555 started within the second: 25 ticks → 25 %.
  w('555/stat', '555 (python3) S 1 555 555 0 -1 4194304 10 0 0 0 20 5 0 0 20 0 2 0 20000 30000000 2500 0 0\n');
}

describe('linux sampler on the fixture tree', () => {
  it('reads every gauge exactly, and leaves rates out of a first read that has no earlier counters', async () => {
    const { s, logs } = sampler({ primeAtStart: false });
    const r = await s.read({ processes: true });
    expect(r).toEqual({
      load_1: 0.52,
      load_5: 0.58,
      load_15: 0.59,
      mem_total_bytes: 3_969_072 * 1024,
      mem_available_bytes: 3_000_000 * 1024,
      mem_used_bytes: 969_072 * 1024, // total − available
      mem_pct: 24.4, // 969072 / 3969072 = 24.42 %
      swap_total_bytes: 102_396 * 1024,
      swap_used_bytes: 51_198 * 1024,
      swap_pct: 50,
      filesystems: [
        // blocks × bsize; used = (blocks − bfree) × bsize; used % = used / (used + bavail), as df
        { mount: '/', size_bytes: 30_720_000_000, used_bytes: 10_240_000_000, used_pct: 35.2 },
        { mount: '/boot/firmware', size_bytes: 536_870_912, used_bytes: 134_217_728, used_pct: 25 },
        { mount: '/mnt/usb disk', size_bytes: 4_096_000, used_bytes: 0, used_pct: 0 }, // \040 unescaped
        { mount: '/srv/data', size_bytes: 1_638_400_000, used_bytes: 983_040_000, used_pct: 60 }, // shortest of two subvolume mounts
        // not: devtmpfs, proc, sysfs, tmpfs, squashfs snap, cgroup2, the /var/lib/docker bind of /dev/root,
        // docker's overlay, nfs4, nor /media/gone whose statfs fails
      ],
      temp_c: 48.3, // the cpu-thermal zone, not acpitz
      uptime_s: 12345,
      procs_total: 3, // pids 1, 99, 4242; 77 vanished (no stat file)
      // absent: cpu_pct, cpu_core_pct, disk_read_bps, disk_write_bps, net, top_cpu, top_mem
    });
    expect(logs).toEqual([]);
  });

  it('computes every rate exactly between two reads a second apart', async () => {
    const f = copyFixture();
    const { s, clock, logs } = sampler({ procRoot: f.proc, sysRoot: f.sys });
    // Primed at creation (t = 1000 ms); a read at the same instant has no elapsed time, so no rates.
    const same = await s.read({ processes: true });
    for (const key of ['cpu_pct', 'cpu_core_pct', 'disk_read_bps', 'disk_write_bps', 'net', 'top_cpu', 'top_mem'] as const) {
      expect(same[key], key).toBeUndefined();
    }

    advanceOneSecond(f.write);
    clock.ms = 2000;
    const r = await s.read({ processes: true });
    expect(r.cpu_pct).toBe(30);
    expect(r.cpu_core_pct).toEqual([80, 15, 13, 12]);
    expect(r.disk_read_bps).toBe(4000 * 512);
    expect(r.disk_write_bps).toBe(1000 * 512);
    expect(r.net).toEqual([
      { iface: 'eth0', rx_bps: 125_000, tx_bps: 25_000 },
      { iface: 'wlan0', rx_bps: 0, tx_bps: 0 },
    ]);
    expect(r.procs_total).toBe(4);
    const weird = { pid: 4242, name: 'my (weird) name', cpu_pct: 150, rss_bytes: 50_000 * 4096, threads: 7 };
    const python = { pid: 555, name: 'python3', cpu_pct: 25, rss_bytes: 2500 * 4096, threads: 2 };
    const systemd = { pid: 1, name: 'systemd', cpu_pct: 10, rss_bytes: 3000 * 4096, threads: 1 };
    const kworker = { pid: 99, name: 'kworker/1:2', cpu_pct: 3, rss_bytes: 0, threads: 1 };
    expect(r.top_cpu).toEqual([weird, python, systemd, kworker]);
    expect(r.top_mem).toEqual([weird, systemd, python, kworker]);
    expect(logs).toEqual([]);
  });

  it('leaves out a rate whose counters went back, and swap % without swap', async () => {
    const f = copyFixture();
    const { s, clock } = sampler({ procRoot: f.proc, sysRoot: f.sys });
    await s.read({ processes: false });
    advanceOneSecond(f.write);
    clock.ms = 2000;
    await s.read({ processes: false });

    // A second later: /proc/stat and diskstats back to the fixture's older figures (as after a
    // counter reset), eth0 re-created (counters near 0), swap switched off.
    cpSync(join(PROC, 'stat'), join(f.proc, 'stat'));
    cpSync(join(PROC, 'diskstats'), join(f.proc, 'diskstats'));
    f.write('net/dev', NET_HEADER + '  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n wlan0: 3000 3 0 0 0 0 0 0 1500 2 0 0 0 0 0 0\n');
    f.write('meminfo', 'MemTotal: 3969072 kB\nMemFree: 2000000 kB\nMemAvailable: 3000000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n');
    clock.ms = 3000;
    const r = await s.read({ processes: false });
    expect(r.cpu_pct).toBeUndefined();
    expect(r.cpu_core_pct).toBeUndefined();
    expect(r.disk_read_bps).toBeUndefined();
    expect(r.disk_write_bps).toBeUndefined();
    expect(r.net).toEqual([{ iface: 'wlan0', rx_bps: 3000, tx_bps: 1500 }]);
    expect(r.swap_total_bytes).toBe(0);
    expect(r.swap_used_bytes).toBe(0);
    expect('swap_pct' in r).toBe(false);
    expect(r.mem_pct).toBe(24.4);
  });

  it(`sees a disk unmounted within ${MOUNT_TABLE_MS / 1000} s, reading the mount table no more often than that`, async () => {
    const f = copyFixture();
    const { s, clock } = sampler({ procRoot: f.proc, sysRoot: f.sys });
    const mounts = async () => (await s.read({ processes: false })).filesystems?.map((u) => u.mount);
    expect(await mounts()).toEqual(['/', '/boot/firmware', '/mnt/usb disk', '/srv/data']);

    f.write('self/mounts', '/dev/root / ext4 rw,noatime 0 0\n/dev/mmcblk0p1 /boot/firmware vfat rw 0 2\n'); // the USB disks pulled
    clock.ms += MOUNT_TABLE_MS - 1;
    expect(await mounts()).toHaveLength(4); // the table as read last time
    clock.ms += 1;
    expect(await mounts()).toEqual(['/', '/boot/firmware']);
  });

  it("keeps a container's overlay root and drops bind-mounted files; falls back to a CPU hwmon chip", async () => {
    const f = copyFixture();
    const hostsFile = join(f.proc, '..', 'hosts');
    writeFileSync(hostsFile, '127.0.0.1 localhost\n');
    f.write(
      'self/mounts',
      'overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0\n' +
        'proc /proc proc rw 0 0\n' +
        'shm /dev/shm tmpfs rw 0 0\n' +
        `/dev/sda1 ${hostsFile} ext4 rw,relatime 0 0\n`,
    );
    const sys = join(f.sys, 'class');
    rmSync(join(sys, 'thermal', 'thermal_zone1'), { recursive: true }); // leaves only acpitz
    mkdirSync(join(sys, 'hwmon', 'hwmon0'), { recursive: true });
    mkdirSync(join(sys, 'hwmon', 'hwmon1'), { recursive: true });
    writeFileSync(join(sys, 'hwmon', 'hwmon0', 'name'), 'nvme\n');
    writeFileSync(join(sys, 'hwmon', 'hwmon0', 'temp1_input'), '38850\n');
    writeFileSync(join(sys, 'hwmon', 'hwmon1', 'name'), 'k10temp\n');
    writeFileSync(join(sys, 'hwmon', 'hwmon1', 'temp1_input'), '55125\n');

    const { s } = sampler({ procRoot: f.proc, sysRoot: f.sys });
    const r = await s.read({ processes: false });
    expect(r.filesystems).toEqual([{ mount: '/', size_bytes: 30_720_000_000, used_bytes: 10_240_000_000, used_pct: 35.2 }]);
    expect(r.temp_c).toBe(55.1);
  });

  it('has no temperature and no complaint on a machine without a sensor', async () => {
    const emptySys = mkdtempSync(join(tmpdir(), 'remonitor-sys-'));
    temps.push(emptySys);
    const { s, logs } = sampler({ sysRoot: emptySys });
    const r = await s.read({ processes: false });
    expect('temp_c' in r).toBe(false);
    expect(r.mem_total_bytes).toBe(3_969_072 * 1024);
    expect(logs).toEqual([]);
  });

  it('fails soft: a missing file costs its fields and one log line, once', async () => {
    const f = copyFixture();
    rmSync(join(f.proc, 'diskstats'));
    const { s, logs } = sampler({ procRoot: f.proc, sysRoot: f.sys });
    const first = await s.read({ processes: true });
    const second = await s.read({ processes: true });
    for (const r of [first, second]) {
      expect('disk_read_bps' in r).toBe(false);
      expect('disk_write_bps' in r).toBe(false);
      expect(r.mem_total_bytes).toBe(3_969_072 * 1024);
      expect(r.procs_total).toBe(3);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/diskio.*ENOENT.*diskstats/);
  });

  it('never throws without any /proc at all: an empty reading, one line per collector', async () => {
    const nowhere = join(tmpdir(), 'remonitor-no-such-proc');
    const { s, logs } = sampler({ procRoot: nowhere, sysRoot: nowhere });
    await expect(s.read({ processes: true })).resolves.toEqual({});
    await expect(s.read({ processes: true })).resolves.toEqual({});
    // temperature is optional hardware and stays quiet
    expect(logs.map((l) => /^linux sampler: (\w+) /.exec(l)?.[1]).sort()).toEqual([
      'cpu',
      'diskio',
      'filesystems',
      'load',
      'memory',
      'network',
      'processes',
      'uptime',
    ]);
  });
});

describe('parsing details', () => {
  it.each([
    ['sda', true],
    ['sdab', true],
    ['vda', true],
    ['xvdf', true],
    ['hda', true],
    ['nvme0n1', true],
    ['mmcblk0', true],
    ['sda1', false],
    ['nvme0n1p2', false],
    ['mmcblk0p1', false],
    ['mmcblk0boot0', false],
    ['loop3', false],
    ['ram0', false],
    ['zram0', false],
    ['dm-0', false],
    ['md0', false],
    ['sr0', false],
  ])('whole physical disk %s: %s', (name, want) => expect(isWholePhysicalDisk(name)).toBe(want));

  it.each([
    ['(my (weird) name)', 'my (weird) name'],
    ['() ) (x)', ') ) (x'],
    ['(a b)', 'a b'],
    ['()', ''],
  ])('process name %s is read up to the last ")"', (comm, name) => {
    const stat = parsePidStat(`12 ${comm} S 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 3 0 99 0 25 0 0\n`);
    expect(stat).toEqual({ pid: 12, name, ticks: 15, threads: 3, rssPages: 25, startTicks: 99 });
  });

  it('refuses a stat line cut short', () => {
    expect(parsePidStat('12 (x) S 1 1 1 0 -1 0 0 0 0 0 7 8')).toBeUndefined();
  });
});
