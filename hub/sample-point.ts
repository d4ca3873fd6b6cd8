// A sample flattened to the chartable metrics: what the store's typed columns hold and what the
// live stream sends.
import type { Sample } from '../protocol/index.ts';
import type { SamplePoint } from '../web/api-types.ts';

export function toPoint(sample: Sample): SamplePoint {
  const point: SamplePoint = { ts_ms: sample.ts_ms };
  const set = <K extends keyof SamplePoint>(key: K, value: SamplePoint[K] | undefined) => {
    if (value !== undefined) point[key] = value;
  };
  set('cpu_pct', sample.cpu_pct);
  set('mem_pct', sample.mem_pct);
  set('mem_used_bytes', sample.mem_used_bytes);
  set('swap_pct', sample.swap_pct);
  set('swap_used_bytes', sample.swap_used_bytes);
  set('disk_pct', sample.filesystems?.length ? Math.max(...sample.filesystems.map((f) => f.used_pct)) : undefined);
  set('disk_read_bps', sample.disk_read_bps);
  set('disk_write_bps', sample.disk_write_bps);
  set('net_rx_bps', sample.net?.reduce((sum, n) => sum + n.rx_bps, 0));
  set('net_tx_bps', sample.net?.reduce((sum, n) => sum + n.tx_bps, 0));
  set('temp_c', sample.temp_c);
  set('load_1', sample.load_1);
  set('load_5', sample.load_5);
  set('load_15', sample.load_15);
  set('procs_total', sample.procs_total);
  set('uptime_s', sample.uptime_s);
  return point;
}
