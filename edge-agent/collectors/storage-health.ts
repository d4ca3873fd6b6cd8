// Storage wear and health: eMMC wear levels from sysfs, filesystems that are read-only (a kernel
// remounts ext4 read-only on an I/O error: the first sign of a dying SD card), and S.M.A.R.T. health
// from smartctl where it is installed.
//
// storage_wear_pct{device}: the eMMC's life_time estimate (JEDEC EXT_CSD DEVICE_LIFE_TIME_EST_TYP_A
// and _B, 0x01–0x0B), the worse of the two as an upper bound: 10 means 0–10 % of its rated erase
// cycles used, 100 means 90–100 %, 110 means past its rated life. storage_pre_eol{device}:
// PRE_EOL_INFO, 1 normal, 2 warning (80 % of the reserved blocks used), 3 urgent. SD cards do not
// report these (only eMMC, and some industrial cards), so on most Pis they are absent.
import { readdirSync } from 'node:fs';
import type { LabelledValue } from '../../protocol/index.ts';
import type { Reading } from '../sampler.ts';
import { readText, type Collector } from './collector.ts';
import { REAL_FS_TYPES } from './filesystems.ts';
import { addAllSeries, addSeries, logOncePer, PeriodicJob } from './series.ts';
import { runForOutput } from './services.ts';

/** `0x01 0x02` (life_time: type A then type B) or `0x01` (pre_eol_info) → the numbers; bad words are skipped. */
export function parseHexLevels(text: string): number[] {
  return text
    .trim()
    .split(/\s+/)
    .map((w) => (/^0x[0-9a-f]+$/i.test(w) ? Number.parseInt(w, 16) : Number.NaN))
    .filter((n) => Number.isInteger(n));
}

/** The wear of each eMMC under sysRoot/block that reports it. */
export function readMmcWear(sysRoot: string): LabelledValue[] {
  const out: LabelledValue[] = [];
  let names: string[];
  try {
    names = readdirSync(`${sysRoot}/block`).filter((n) => /^mmcblk\d+$/.test(n));
  } catch {
    return out;
  }
  for (const device of names) {
    try {
      // 0 means "not defined" (the card does not estimate); levels above 0x0B are reserved.
      const levels = parseHexLevels(readText(`${sysRoot}/block/${device}/device/life_time`)).filter((l) => l >= 1 && l <= 0x0b);
      if (levels.length > 0) out.push({ name: 'storage_wear_pct', labels: { device }, value: Math.max(...levels) * 10 });
    } catch {
      // no life_time: an SD card
    }
    try {
      const [eol] = parseHexLevels(readText(`${sysRoot}/block/${device}/device/pre_eol_info`));
      if (eol !== undefined && eol >= 1 && eol <= 3) out.push({ name: 'storage_pre_eol', labels: { device }, value: eol });
    } catch {
      // none
    }
  }
  return out;
}

/** Each real filesystem's mount point, 1 when mounted read-only; one entry a mount point (the last mount wins, as the kernel shows it). */
export function readOnlyMounts(mountsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of mountsText.split('\n')) {
    const [, rawMount, type, opts] = line.split(' ', 4);
    if (rawMount === undefined || type === undefined || opts === undefined || !REAL_FS_TYPES.has(type)) continue;
    const mount = rawMount.includes('\\') ? rawMount.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))) : rawMount;
    out.set(mount, opts.split(',').includes('ro') ? 1 : 0);
  }
  return out;
}

/** smartctl's --json answer for one device → its values (those it reports). */
export function parseSmartJson(device: string, json: unknown): LabelledValue[] {
  if (json === null || typeof json !== 'object') throw new Error(`smartctl ${device}: not a JSON object`);
  const j = json as {
    smart_status?: { passed?: unknown };
    temperature?: { current?: unknown };
    power_on_time?: { hours?: unknown };
    nvme_smart_health_information_log?: { percentage_used?: unknown };
  };
  const labels = { device };
  const out: LabelledValue[] = [];
  const add = (name: string, value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ name, labels, value });
  };
  if (typeof j.smart_status?.passed === 'boolean') add('smart_healthy', j.smart_status.passed ? 1 : 0);
  add('smart_temp_c', j.temperature?.current);
  const hours = j.power_on_time?.hours;
  if (typeof hours === 'number') add('smart_power_on_seconds', hours * 3600);
  add('smart_used_pct', j.nvme_smart_health_information_log?.percentage_used);
  return out;
}

/** smartctl --scan's devices (`/dev/sda -d scsi # …` lines). */
export function parseSmartScan(text: string): { path: string; type: string | undefined }[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\/dev\/\S+)(?:\s+-d\s+(\S+))?/.exec(line.trim());
    return m ? [{ path: m[1]!, type: m[2] }] : [];
  });
}

export interface StorageHealthOptions {
  procRoot?: string;
  sysRoot?: string;
  /** smartctl to run (tests: a stand-in); null for none. Default `smartctl`. */
  smartctl?: string | null;
  /** How often smartctl runs, ms. Default 1 h: it wakes sleeping disks' controllers. */
  smartEveryMs?: number;
  /** How often the eMMC wear and the mount table are read, ms. Default 60 s. */
  everyMs?: number;
  log?: (msg: string) => void;
}

export function createStorageHealthCollector(options: StorageHealthOptions = {}): Collector {
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  const everyMs = options.everyMs ?? 60_000;
  const logOnce = logOncePer(options.log ?? ((msg) => console.warn(msg)));
  const smartctl = options.smartctl === undefined ? 'smartctl' : options.smartctl;
  let wear: LabelledValue[] = [];
  let readOnly = new Map<string, number>();
  let readAtMs = -Infinity;
  let smartGone = false;

  const smart = smartctl
    ? new PeriodicJob<LabelledValue[]>(
        options.smartEveryMs ?? 3_600_000,
        async () => {
          const devices = parseSmartScan(await runForOutput(smartctl, ['--scan'], 10_000));
          const values: LabelledValue[] = [];
          for (const d of devices) {
            const args = ['--json', '-H', '-A', ...(d.type ? ['-d', d.type] : []), d.path];
            // Exit status is a bit mask (smartctl(8)): a failing disk sets bits yet prints its JSON.
            values.push(...parseSmartJson(d.path.replace(/^\/dev\//, ''), JSON.parse(await runForOutput(smartctl, args, 20_000))));
          }
          return values;
        },
        (err) => {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT')
            smartGone = true; // not installed: quiet from now on
          else logOnce('smart', `storage: ${smartctl} failed (${(err as Error).message}); S.M.A.R.T. values are left out while it fails`);
        },
      )
    : undefined;

  return {
    name: 'storage',
    collect(out: Reading, nowMs: number) {
      if (!(nowMs - readAtMs < everyMs)) {
        readAtMs = nowMs;
        wear = readMmcWear(sysRoot);
        readOnly = readOnlyMounts(readText(`${procRoot}/self/mounts`));
      }
      addAllSeries(out, wear);
      for (const [mountpoint, ro] of readOnly) addSeries(out, 'fs_readonly', { mountpoint }, ro);
      if (smart && !smartGone) addAllSeries(out, smart.poll(nowMs) ?? []);
    },
  };
}
