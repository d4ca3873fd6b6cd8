// A sample flattened to the chartable metrics: what the store's typed columns hold and what the
// live stream sends.
import type { Sample } from '../protocol/index.ts';
import type { SamplePoint } from '../shared/api-types.ts';

export function toPoint(sample: Sample): SamplePoint {
  const { filesystems, net } = sample;
  let diskPct: number | undefined;
  if (filesystems?.length) {
    diskPct = -Infinity;
    for (const f of filesystems) diskPct = Math.max(diskPct, f.used_pct);
  }
  let rx: number | undefined;
  let tx: number | undefined;
  if (net) {
    rx = tx = 0;
    for (const n of net) {
      rx += n.rx_bps;
      tx += n.tx_bps;
    }
  }
  // One literal, the same shape for every sample (a field the sample lacks is undefined: unknown, and
  // left out of JSON). Built field by field it cost ingest ten times the time and six times the memory.
  return {
    ts_ms: sample.ts_ms,
    cpu_pct: sample.cpu_pct,
    mem_pct: sample.mem_pct,
    mem_used_bytes: sample.mem_used_bytes,
    swap_pct: sample.swap_pct,
    swap_used_bytes: sample.swap_used_bytes,
    disk_pct: diskPct,
    disk_read_bps: sample.disk_read_bps,
    disk_write_bps: sample.disk_write_bps,
    net_rx_bps: rx,
    net_tx_bps: tx,
    temp_c: sample.temp_c,
    load_1: sample.load_1,
    load_5: sample.load_5,
    load_15: sample.load_15,
    procs_total: sample.procs_total,
    uptime_s: sample.uptime_s,
  };
}
