// The metrics sample: its decoded shape and its wire layout (CBOR map with small integer keys).
// The wire format only grows: new fields get new keys, a key is never reused or renumbered.

export const PROTOCOL_VERSION = 1;

/** One mounted filesystem. Wire: `[mount, size_bytes, used_bytes, used_pct]`. */
export interface FilesystemUsage {
  mount: string;
  size_bytes: number;
  used_bytes: number;
  used_pct: number;
}

/** One network interface. Wire: `[iface, rx_bps, tx_bps]` (bytes per second). */
export interface InterfaceRates {
  iface: string;
  rx_bps: number;
  tx_bps: number;
}

/** One process. Wire: `[pid, name, cpu_pct, rss_bytes, threads]`; cpu_pct is of one core, so may pass 100. */
export interface ProcessUsage {
  pid: number;
  name: string;
  cpu_pct: number;
  rss_bytes: number;
  threads: number;
}

/**
 * One sample as the hub and outside clients see it once decoded. Every field but the identity
 * (v, boot, seq, ts_ms) is optional: absent means unknown, never zero.
 */
export interface Sample {
  v: number;
  boot: string;
  seq: number;
  ts_ms: number;
  cpu_pct?: number;
  cpu_core_pct?: number[];
  load_1?: number;
  load_5?: number;
  load_15?: number;
  mem_total_bytes?: number;
  mem_used_bytes?: number;
  mem_available_bytes?: number;
  mem_pct?: number;
  swap_total_bytes?: number;
  swap_used_bytes?: number;
  swap_pct?: number;
  filesystems?: FilesystemUsage[];
  disk_read_bps?: number;
  disk_write_bps?: number;
  net?: InterfaceRates[];
  temp_c?: number;
  uptime_s?: number;
  procs_total?: number;
  top_cpu?: ProcessUsage[];
  top_mem?: ProcessUsage[];
  /** Raspberry Pi firmware throttling bits (`vcgencmd get_throttled`); absent where the command is missing. */
  throttled?: number;
  /** 1 when the agent sends this sample again from its spool after an outage (old data: no alarms). */
  historical?: number;
  /** The node's monotonic clock when the sample was taken, ms: unlike ts_ms, no clock step moves it. */
  mono_ms?: number;
  /** Replayed samples: how long before this send the sample was taken, ms by the monotonic clock. */
  age_ms?: number;
}

/**
 * How far a node's clock may be off before the hub stores its samples at corrected times, flags the
 * node (`clock_skew_s`) and raises its clock alarm: well above network and batching delays, well
 * below the hours or decades of a clock that booted without a real-time clock (PROTOCOL.md, "Time").
 */
export const CLOCK_TOLERANCE_MS = 120_000;

/** No sample is taken before this (2020-01-01 UTC): an earlier ts_ms is a clock that was never set. */
export const EARLIEST_TS_MS = Date.UTC(2020, 0, 1);

export type FieldKind = 'uint' | 'number' | 'pct' | 'text' | 'pct[]' | 'fs[]' | 'net[]' | 'proc[]';

export interface FieldSpec {
  key: number;
  name: keyof Sample;
  kind: FieldKind;
  unit: string;
  required?: boolean;
  doc: string;
}

/** The wire layout, in key order. PROTOCOL.md is generated from the same facts. */
export const SAMPLE_FIELDS: readonly FieldSpec[] = [
  { key: 0, name: 'v', kind: 'uint', unit: '', required: true, doc: 'protocol version, 1' },
  { key: 1, name: 'boot', kind: 'text', unit: '', required: true, doc: 'boot id: random, fixed while the agent runs' },
  { key: 2, name: 'seq', kind: 'uint', unit: '', required: true, doc: 'sequence number, +1 per sample within a boot id' },
  { key: 3, name: 'ts_ms', kind: 'uint', unit: 'ms since 1970-01-01 UTC', required: true, doc: 'when the sample was taken' },
  { key: 4, name: 'cpu_pct', kind: 'pct', unit: '%', doc: 'CPU busy, all cores' },
  { key: 5, name: 'cpu_core_pct', kind: 'pct[]', unit: '%', doc: 'CPU busy per core, in core order' },
  { key: 6, name: 'load_1', kind: 'number', unit: '', doc: 'load average, 1 min' },
  { key: 7, name: 'load_5', kind: 'number', unit: '', doc: 'load average, 5 min' },
  { key: 8, name: 'load_15', kind: 'number', unit: '', doc: 'load average, 15 min' },
  { key: 9, name: 'mem_total_bytes', kind: 'uint', unit: 'bytes', doc: 'physical memory' },
  { key: 10, name: 'mem_used_bytes', kind: 'uint', unit: 'bytes', doc: 'total − available' },
  { key: 11, name: 'mem_available_bytes', kind: 'uint', unit: 'bytes', doc: 'MemAvailable: what new work can use' },
  { key: 12, name: 'mem_pct', kind: 'pct', unit: '%', doc: 'used / total' },
  { key: 13, name: 'swap_total_bytes', kind: 'uint', unit: 'bytes', doc: 'swap size' },
  { key: 14, name: 'swap_used_bytes', kind: 'uint', unit: 'bytes', doc: 'swap in use' },
  { key: 15, name: 'swap_pct', kind: 'pct', unit: '%', doc: 'swap used / total; absent without swap' },
  { key: 16, name: 'filesystems', kind: 'fs[]', unit: '', doc: 'real filesystems: [mount, size_bytes, used_bytes, used_pct]' },
  { key: 17, name: 'disk_read_bps', kind: 'uint', unit: 'bytes/s', doc: 'read from all physical disks' },
  { key: 18, name: 'disk_write_bps', kind: 'uint', unit: 'bytes/s', doc: 'written to all physical disks' },
  { key: 19, name: 'net', kind: 'net[]', unit: '', doc: 'per interface: [iface, rx_bps, tx_bps] in bytes/s' },
  { key: 20, name: 'temp_c', kind: 'number', unit: '°C', doc: 'CPU temperature; absent without a sensor' },
  { key: 21, name: 'uptime_s', kind: 'uint', unit: 's', doc: 'time since the machine booted' },
  { key: 22, name: 'procs_total', kind: 'uint', unit: '', doc: 'number of processes' },
  { key: 23, name: 'top_cpu', kind: 'proc[]', unit: '', doc: 'top 5 by CPU: [pid, name, cpu_pct, rss_bytes, threads]; only in samples that carry the process list' },
  { key: 24, name: 'top_mem', kind: 'proc[]', unit: '', doc: 'top 5 by RSS, same shape as top_cpu' },
  { key: 25, name: 'throttled', kind: 'uint', unit: '', doc: 'Raspberry Pi firmware throttled bits (vcgencmd get_throttled): 0 under-voltage, 1 frequency capped, 2 throttled, 3 soft temperature limit; +16 for "has occurred since boot"' },
  { key: 26, name: 'historical', kind: 'uint', unit: '', doc: '1 when replayed from the agent spool after an outage; absent for live samples' },
  { key: 27, name: 'mono_ms', kind: 'uint', unit: 'ms', doc: "the node's monotonic clock when the sample was taken (Linux: since the machine booted); no clock step moves it" },
  { key: 28, name: 'age_ms', kind: 'uint', unit: 'ms', doc: 'replayed samples: how long before this send the sample was taken, by the monotonic clock; absent when the agent cannot tell' },
];
