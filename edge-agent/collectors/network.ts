// Per-interface throughput from /proc/net/dev: two header lines, then "iface: rx_bytes rx_packets
// … (8 receive columns) tx_bytes …". Older kernels print no space after the colon.
import type { InterfaceRates } from '../../protocol/index.ts';
import { bytesPerSecond } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, type Collector } from './collector.ts';

export interface InterfaceCounters {
  rx: number;
  tx: number;
}

/** Byte counters per interface, loopback left out (its traffic never leaves the machine). */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const counters = new Map<string, InterfaceCounters>();
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (iface === 'lo' || iface === '') continue;
    const parts = line
      .slice(colon + 1)
      .split(' ')
      .filter((p) => p !== '');
    const rx = Number(parts[0]);
    const tx = Number(parts[8]);
    if (Number.isFinite(rx) && Number.isFinite(tx)) counters.set(iface, { rx, tx });
  }
  return counters;
}

export function createNetworkCollector(procRoot: string): Collector {
  const file = new KeptOpenFile(`${procRoot}/net/dev`);
  let prev: Map<string, InterfaceCounters> | undefined;
  let prevAtMs = 0;
  return {
    name: 'network',
    collect(out: Reading, nowMs: number) {
      const cur = parseNetDev(file.read());
      if (prev) {
        const elapsed = nowMs - prevAtMs;
        const net: InterfaceRates[] = [];
        for (const [iface, c] of cur) {
          const p = prev.get(iface);
          if (!p) continue; // new interface: it gets a rate next time
          const rx = bytesPerSecond(p.rx, c.rx, elapsed);
          const tx = bytesPerSecond(p.tx, c.tx, elapsed);
          if (rx !== undefined && tx !== undefined) net.push({ iface, rx_bps: rx, tx_bps: tx });
        }
        if (net.length > 0) out.net = net;
      }
      prev = cur;
      prevAtMs = nowMs;
    },
    close: () => file.close(),
  };
}
