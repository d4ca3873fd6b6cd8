// The variable parts of a stored sample (cores, filesystems, interfaces, top processes, labelled
// series) as one compact CBOR array beside the typed columns: [cores, fs tuples, net tuples,
// top_cpu, top_mem, series tuples], each null when the sample had none; details stored before the
// series field end after top_mem. Tuples as on the wire (PROTOCOL.md), so nothing is renamed. The
// raw record of the labelled series (hub/storage/sqlite/labelled-rollups.ts reads it).
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import type { FilesystemUsage, InterfaceRates, LabelledValue, ProcessUsage, Sample } from '../../protocol/index.ts';

const encoder = new Encoder({ useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });
const decoder = new Decoder({ useRecords: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT, mapsAsObjects: false });

type Detail = Pick<Sample, 'cpu_core_pct' | 'filesystems' | 'net' | 'top_cpu' | 'top_mem' | 'series'>;

const procTuples = (list: ProcessUsage[] | undefined) => list?.map((p) => [p.pid, p.name, p.cpu_pct, p.rss_bytes, p.threads]) ?? null;

export function encodeDetail(s: Detail): Uint8Array {
  return encoder.encode([
    s.cpu_core_pct ?? null,
    s.filesystems?.map((f) => [f.mount, f.size_bytes, f.used_bytes, f.used_pct]) ?? null,
    s.net?.map((n) => [n.iface, n.rx_bps, n.tx_bps]) ?? null,
    procTuples(s.top_cpu),
    procTuples(s.top_mem),
    s.series?.map((v) => [v.name, v.labels, v.value]) ?? null,
  ]);
}

/** Reads what encodeDetail wrote (trusted: only the hub writes it). */
export function decodeDetail(bytes: Uint8Array): Detail {
  const [cores, fs, net, topCpu, topMem, series] = decoder.decode(bytes) as [
    number[] | null,
    any[][] | null,
    any[][] | null,
    any[][] | null,
    any[][] | null,
    any[][] | null | undefined,
  ];
  const procs = (rows: any[][] | null): ProcessUsage[] | undefined =>
    rows?.map(([pid, name, cpu_pct, rss_bytes, threads]) => ({ pid, name, cpu_pct, rss_bytes, threads }));
  const detail: Detail = {};
  if (cores) detail.cpu_core_pct = cores;
  if (fs) detail.filesystems = fs.map(([mount, size_bytes, used_bytes, used_pct]): FilesystemUsage => ({ mount, size_bytes, used_bytes, used_pct }));
  if (net) detail.net = net.map(([iface, rx_bps, tx_bps]): InterfaceRates => ({ iface, rx_bps, tx_bps }));
  if (topCpu) detail.top_cpu = procs(topCpu);
  if (topMem) detail.top_mem = procs(topMem);
  if (series)
    detail.series = series.map(([name, labels, value]): LabelledValue => ({ name, labels: Object.fromEntries(labels as Map<string, string>), value }));
  return detail;
}
