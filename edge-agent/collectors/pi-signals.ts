// CPU clock per core and Wi-Fi link, signals a Pi shows before it fails: a core held at its lowest
// clock (throttled, under-voltage) and a weak Wi-Fi link (the usual cause of a node that drops out).
//
// cpu_freq_hz{cpu}: scaling_cur_freq (cpufreq, kHz) × 1000. wifi_link_quality{interface}: the link
// column of /proc/net/wireless as the driver gives it (most report 0–70); wifi_signal_dbm{interface}:
// its level column, dBm. The firmware's throttling bits stay in the sample's own `throttled` field.
import { readdirSync } from 'node:fs';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';
import { addSeries } from './series.ts';

/** /proc/net/wireless: two header lines, then `wlan0: 0000   70.  -40.  -256  …`. */
export function parseWireless(text: string): { iface: string; link: number; level: number }[] {
  const out: { iface: string; link: number; level: number }[] = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const [, link, level] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    // Values end with '.' when the driver updated them since the last read, else they are stale copies.
    const l = Number.parseFloat(link ?? '');
    const s = Number.parseFloat(level ?? '');
    if (Number.isFinite(l) && Number.isFinite(s)) out.push({ iface: line.slice(0, colon).trim(), link: l, level: s });
  }
  return out;
}

export interface PiSignalsOptions {
  procRoot?: string;
  sysRoot?: string;
}

export function createPiSignalsCollector(options: PiSignalsOptions = {}): Collector {
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  const wireless = new KeptOpenFile(`${procRoot}/net/wireless`);
  let freqFiles: { cpu: string; file: KeptOpenFile }[] | undefined;
  let wirelessMissing = false;

  const cpuDir = `${sysRoot}/devices/system/cpu`;
  const listFreqFiles = (): { cpu: string; file: KeptOpenFile }[] => {
    let names: string[];
    try {
      names = readdirSync(cpuDir);
    } catch {
      return [];
    }
    return names
      .flatMap((n) => (/^cpu(\d+)$/.exec(n)?.[1] ?? []) as string[])
      .sort((a, b) => Number(a) - Number(b))
      .map((cpu) => ({ cpu, file: new KeptOpenFile(`${cpuDir}/cpu${cpu}/cpufreq/scaling_cur_freq`, { singleRecord: true }) }));
  };

  return {
    name: 'pi-signals',
    collect(out: Reading) {
      freqFiles ??= listFreqFiles();
      for (const f of freqFiles) {
        try {
          const khz = Number(f.file.read().trim());
          if (Number.isFinite(khz) && khz > 0) addSeries(out, 'cpu_freq_hz', { cpu: f.cpu }, khz * 1000);
        } catch {
          // no cpufreq for this core (a VM, an offline core)
        }
      }
      if (wirelessMissing) return;
      let text: string;
      try {
        text = wireless.read();
      } catch {
        wirelessMissing = true; // no wireless extensions in this kernel: never ask again
        return;
      }
      for (const w of parseWireless(text)) {
        addSeries(out, 'wifi_link_quality', { interface: w.iface }, w.link);
        addSeries(out, 'wifi_signal_dbm', { interface: w.iface }, w.level);
      }
    },
    close() {
      wireless.close();
      for (const f of freqFiles ?? []) f.file.close();
    },
  };
}
