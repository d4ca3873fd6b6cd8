// The metrics sample: its decoded shape and its wire layout (CBOR map with small integer keys).
// The wire format only grows: new fields get new keys, a key is never reused or renumbered.
import { METRICS, type MetricUnit, type WireMetricName } from './metrics.ts';

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
 * One labelled value: a labelled metric of the registry (a container's CPU, a disk's reads) or a
 * node's own metric (a textfile or exec collector's). Wire: `[name, {label: value, …}, value]`.
 */
export interface LabelledValue {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A labelled value's name, and each label's name: Prometheus' rules, without its reserved `__` prefix. */
export const SERIES_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
/** Labels one value may carry. */
export const MAX_SERIES_LABELS = 8;

/** The sample fields that are not metrics of the registry: identity, lists, totals and bookkeeping. */
interface SampleBase {
  v: number;
  boot: string;
  seq: number;
  ts_ms: number;
  cpu_core_pct?: number[];
  mem_total_bytes?: number;
  mem_available_bytes?: number;
  swap_total_bytes?: number;
  filesystems?: FilesystemUsage[];
  net?: InterfaceRates[];
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
  /** Labelled values: containers, disks, a node's own metrics. */
  series?: LabelledValue[];
}

/**
 * One sample as the hub and outside clients see it once decoded: the fields above and each metric
 * of the registry (protocol/metrics.ts) sent on its own. Every field but the identity (v, boot, seq,
 * ts_ms) is optional: absent means unknown, never zero.
 */
export type Sample = SampleBase & { [M in WireMetricName]?: number };

/**
 * How far a node's clock may be off before the hub stores its samples at corrected times, flags the
 * node (`clock_skew_s`) and raises its clock alarm: well above network and batching delays, well
 * below the hours or decades of a clock that booted without a real-time clock (PROTOCOL.md, "Time").
 */
export const CLOCK_TOLERANCE_MS = 120_000;

/** No sample is taken before this (2020-01-01 UTC): an earlier ts_ms is a clock that was never set. */
export const EARLIEST_TS_MS = Date.UTC(2020, 0, 1);

export type FieldKind = 'uint' | 'number' | 'pct' | 'text' | 'pct[]' | 'fs[]' | 'net[]' | 'proc[]' | 'series[]';

export interface FieldSpec {
  key: number;
  name: keyof Sample;
  kind: FieldKind;
  unit: string;
  required?: boolean;
  doc: string;
}

/** How each registry unit is written in the wire table (and PROTOCOL.md's). */
const WIRE_UNIT: Record<MetricUnit, string> = { percent: '%', bytes: 'bytes', bytes_per_second: 'bytes/s', celsius: '°C', seconds: 's', count: '', load: '' };

/** The fields that are not metrics of the registry. */
const OTHER_FIELDS: readonly FieldSpec[] = [
  { key: 0, name: 'v', kind: 'uint', unit: '', required: true, doc: 'protocol version, 1' },
  { key: 1, name: 'boot', kind: 'text', unit: '', required: true, doc: 'boot id: random, fixed while the agent runs' },
  { key: 2, name: 'seq', kind: 'uint', unit: '', required: true, doc: 'sequence number, +1 per sample within a boot id' },
  { key: 3, name: 'ts_ms', kind: 'uint', unit: 'ms since 1970-01-01 UTC', required: true, doc: 'when the sample was taken' },
  { key: 5, name: 'cpu_core_pct', kind: 'pct[]', unit: '%', doc: 'CPU busy per core, in core order' },
  { key: 9, name: 'mem_total_bytes', kind: 'uint', unit: 'bytes', doc: 'physical memory' },
  { key: 11, name: 'mem_available_bytes', kind: 'uint', unit: 'bytes', doc: 'MemAvailable: what new work can use' },
  { key: 13, name: 'swap_total_bytes', kind: 'uint', unit: 'bytes', doc: 'swap size' },
  { key: 16, name: 'filesystems', kind: 'fs[]', unit: '', doc: 'real filesystems: [mount, size_bytes, used_bytes, used_pct]' },
  { key: 19, name: 'net', kind: 'net[]', unit: '', doc: 'per interface: [iface, rx_bps, tx_bps] in bytes/s' },
  {
    key: 23,
    name: 'top_cpu',
    kind: 'proc[]',
    unit: '',
    doc: 'top 5 by CPU: [pid, name, cpu_pct, rss_bytes, threads]; only in samples that carry the process list',
  },
  { key: 24, name: 'top_mem', kind: 'proc[]', unit: '', doc: 'top 5 by RSS, same shape as top_cpu' },
  {
    key: 25,
    name: 'throttled',
    kind: 'uint',
    unit: '',
    doc: 'Raspberry Pi firmware throttled bits (vcgencmd get_throttled): 0 under-voltage, 1 frequency capped, 2 throttled, 3 soft temperature limit; +16 for "has occurred since boot"',
  },
  { key: 26, name: 'historical', kind: 'uint', unit: '', doc: '1 when replayed from the agent spool after an outage; absent for live samples' },
  {
    key: 27,
    name: 'mono_ms',
    kind: 'uint',
    unit: 'ms',
    doc: "the node's monotonic clock when the sample was taken (Linux: since the machine booted); no clock step moves it",
  },
  {
    key: 28,
    name: 'age_ms',
    kind: 'uint',
    unit: 'ms',
    doc: 'replayed samples: how long before this send the sample was taken, by the monotonic clock; absent when the agent cannot tell',
  },
  { key: 29, name: 'series', kind: 'series[]', unit: '', doc: 'labelled values: [name, {label: value, …}, value]' },
];

/** The wire layout, in key order: the fields above and the registry's metrics that travel on their own. PROTOCOL.md is checked against it. */
export const SAMPLE_FIELDS: readonly FieldSpec[] = [
  ...OTHER_FIELDS,
  ...METRICS.flatMap((m): FieldSpec[] =>
    'key' in m.wire ? [{ key: m.wire.key, name: m.name as WireMetricName, kind: m.wire.check, unit: WIRE_UNIT[m.unit], doc: m.description }] : [],
  ),
].sort((a, b) => a.key - b.key);
