// The metric registry: every series the hub stores, once, with everything each part needs to know
// of it. The codec's wire table, the storage columns and rollups, the API's metric list, /metrics,
// Home Assistant discovery, alarm-rule validation and the default rules, the fleet page's columns
// and the node page's charts are all derived from this list; a metric's name appears here and in
// the code that measures it (the agent's collectors and the simulator), nowhere else
// (test/protocol/metric-name-files.test.ts counts the files). It sits in protocol/ because the
// codec derives from it and protocol/ is the one module every part imports.
//
// A metric only grows: a new one gets a new name (and, when it travels as a field of its own, the
// next free wire key); a name or key is never reused.

/** Units, as stored and sent: what the name's suffix says. */
export type MetricUnit = 'percent' | 'bytes' | 'bytes_per_second' | 'celsius' | 'seconds' | 'count' | 'load';

/**
 * `gauge`: a level (memory in use, temperature). `rate`: a per-second rate of a counter the agent
 * reads (bytes read from disk); /metrics integrates it back into a `_total` counter.
 */
export type MetricKind = 'gauge' | 'rate';

/** How a sample field of its own is checked on the wire (protocol/codec.ts). */
export type ScalarWireKind = 'uint' | 'number' | 'pct';

/** A metric read from the sample's structured fields rather than sent on its own. */
export interface DerivedFrom {
  /** The sample's list field. */
  list: 'filesystems' | 'net';
  /** The member of each element. */
  member: 'used_pct' | 'rx_bps' | 'tx_bps';
  /** How the elements combine. */
  reduce: 'max' | 'sum';
}

/**
 * Charts on the node page, in the order they are drawn; each metric with a `chart` names one.
 * `optional`: drawn only once the node has reported a value (no sensor, no chart).
 */
export const CHART_GROUPS = [
  { group: 'cpu', title: 'CPU' },
  { group: 'mem', title: 'Memory' },
  { group: 'swap', title: 'Swap' },
  { group: 'disk', title: 'Disk (fullest filesystem)' },
  { group: 'disk_io', title: 'Disk I/O' },
  { group: 'net', title: 'Network' },
  { group: 'temp', title: 'Temperature', optional: true },
  { group: 'load', title: 'Load average' },
] as const;
export type ChartGroupName = (typeof CHART_GROUPS)[number]['group'];

/**
 * The fleet page's metric columns (its table, and the figures on its cards), in order; each metric
 * with a `fleet` names one. A column of several metrics (network) shows each after its `mark` and
 * sorts by their sum. `title`: the header's tooltip.
 */
export const FLEET_COLUMNS = [
  { column: 'cpu', label: 'CPU' },
  { column: 'mem', label: 'Memory' },
  { column: 'disk', label: 'Disk' },
  { column: 'temp', label: 'Temp' },
  { column: 'load', label: 'Load', title: 'load average over 1 minute' },
  { column: 'net', label: 'Network', title: 'received ↓ and sent ↑, all interfaces' },
] as const;
export type FleetColumnName = (typeof FLEET_COLUMNS)[number]['column'];

/**
 * An alarm rule a fresh hub ships with on a metric (hub/alarms/rules.ts, defaultRules), in the rule's
 * own words (durations as "5m"). `eachFilesystem`: the rule watches every filesystem on its own
 * (`fs_pct`, one alarm per mount) rather than the fullest. Memory and disk use move slowly and RED
 * already judges a 1-minute mean, so a minute over is enough (5 minutes only kept the first alarm,
 * and the demo's, waiting); CPU is bursty and keeps its 5 minutes.
 */
export interface DefaultAlarm {
  readonly id: string;
  readonly eachFilesystem?: true;
  readonly threshold: number;
  readonly for?: string;
  readonly horizon?: string;
  readonly trend_window?: string;
  readonly description: string;
}

export interface MetricSpec {
  /** The series name: the store's column, the API's and the charts' key. Its suffix gives the unit. */
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: MetricUnit;
  /** One line for people: the API's metric list, /metrics HELP, PROTOCOL.md. */
  readonly description: string;
  /** Sent as a sample field of its own (key and check), or derived from the sample's lists. */
  readonly wire: { readonly key: number; readonly check: ScalarWireKind } | { readonly derived: DerivedFrom };
  /** Stored as an integer (counts, bytes) or a float. */
  readonly storage: 'integer' | 'real';
  /** Drawn on the node page: its chart, the series label and colour. */
  readonly chart: { readonly group: ChartGroupName; readonly label: string; readonly color: string } | null;
  /**
   * Exposition name following Prometheus' conventions (base units, ratios 0–1, `_total` only on
   * counters); `scale` turns the stored value into that unit (percent → ratio).
   */
  readonly prometheus: { readonly name: string; readonly scale?: number };
  /** A Home Assistant sensor, or none. */
  readonly homeAssistant: { readonly name: string; readonly unit?: string; readonly deviceClass?: string; readonly icon?: string } | null;
  /** Alarm rules may watch it. */
  readonly alarms: boolean;
  /** The rule a fresh hub watches it with, or none. */
  readonly defaultAlarm: DefaultAlarm | null;
  /** A column of the fleet page (`mark`: written before its value when the column shows several), or none. */
  readonly fleet: { readonly column: FleetColumnName; readonly mark?: string } | null;
  /**
   * Sent only in the samples that carry the process list (top_cpu, top_mem): the API gives it with
   * that list (NodeDetailResponse.processes, the stream's `processes`), the node page above it.
   */
  readonly withProcessList?: true;
  /** The time since the machine booted: the node page counts it on between samples. */
  readonly sinceBoot?: true;
}

export const METRICS = [
  {
    name: 'cpu_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'CPU busy, all cores together',
    wire: { key: 4, check: 'pct' },
    storage: 'real',
    chart: { group: 'cpu', label: 'CPU', color: '#2563eb' },
    prometheus: { name: 'remonitor_node_cpu_busy_ratio', scale: 0.01 },
    homeAssistant: { name: 'CPU', unit: '%', icon: 'mdi:cpu-64-bit' },
    alarms: true,
    defaultAlarm: {
      id: 'cpu',
      threshold: 80,
      for: '5m',
      horizon: '0',
      description: 'CPU busy over 80 % for 5 minutes (no prediction: CPU load is too bursty to extrapolate)',
    },
    fleet: { column: 'cpu' },
  },
  {
    name: 'mem_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'memory used (total − available) of total',
    wire: { key: 12, check: 'pct' },
    storage: 'real',
    chart: { group: 'mem', label: 'Memory', color: '#7c3aed' },
    prometheus: { name: 'remonitor_node_memory_used_ratio', scale: 0.01 },
    homeAssistant: { name: 'Memory', unit: '%', icon: 'mdi:memory' },
    alarms: true,
    defaultAlarm: { id: 'memory', threshold: 80, for: '1m', description: 'memory over 80 % for a minute, or predicted to be within 6 h' },
    fleet: { column: 'mem' },
  },
  {
    name: 'mem_used_bytes',
    kind: 'gauge',
    unit: 'bytes',
    description: 'memory used: total − available',
    wire: { key: 10, check: 'uint' },
    storage: 'integer',
    chart: null,
    prometheus: { name: 'remonitor_node_memory_used_bytes' },
    homeAssistant: { name: 'Memory used', unit: 'B', deviceClass: 'data_size' },
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'swap_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'swap used of total; absent without swap',
    wire: { key: 15, check: 'pct' },
    storage: 'real',
    chart: { group: 'swap', label: 'Swap', color: '#db2777' },
    prometheus: { name: 'remonitor_node_swap_used_ratio', scale: 0.01 },
    homeAssistant: { name: 'Swap', unit: '%', icon: 'mdi:swap-horizontal' },
    alarms: true,
    defaultAlarm: { id: 'swap', threshold: 80, description: 'swap over 80 %, or predicted to be within 6 h' },
    fleet: null,
  },
  {
    name: 'swap_used_bytes',
    kind: 'gauge',
    unit: 'bytes',
    description: 'swap in use',
    wire: { key: 14, check: 'uint' },
    storage: 'integer',
    chart: null,
    prometheus: { name: 'remonitor_node_swap_used_bytes' },
    homeAssistant: null,
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'disk_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'use of the fullest real filesystem',
    wire: { derived: { list: 'filesystems', member: 'used_pct', reduce: 'max' } },
    storage: 'real',
    chart: { group: 'disk', label: 'Disk', color: '#d97706' },
    prometheus: { name: 'remonitor_node_filesystem_fullest_used_ratio', scale: 0.01 },
    homeAssistant: { name: 'Disk (fullest)', unit: '%', icon: 'mdi:harddisk' },
    alarms: true,
    defaultAlarm: {
      id: 'disk',
      eachFilesystem: true,
      threshold: 80,
      for: '1m',
      horizon: '24h',
      trend_window: '6h',
      description: 'each filesystem over 80 % for a minute, or predicted to fill to 80 % within 24 h',
    },
    fleet: { column: 'disk' },
  },
  {
    name: 'disk_read_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'read from all physical disks',
    wire: { key: 17, check: 'uint' },
    storage: 'integer',
    chart: { group: 'disk_io', label: 'read', color: '#0d9488' },
    prometheus: { name: 'remonitor_node_disk_read_bytes_total' },
    homeAssistant: { name: 'Disk read', unit: 'B/s', deviceClass: 'data_rate' },
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'disk_write_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'written to all physical disks',
    wire: { key: 18, check: 'uint' },
    storage: 'integer',
    chart: { group: 'disk_io', label: 'write', color: '#ea580c' },
    prometheus: { name: 'remonitor_node_disk_written_bytes_total' },
    homeAssistant: { name: 'Disk write', unit: 'B/s', deviceClass: 'data_rate' },
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'net_rx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'received on all interfaces',
    wire: { derived: { list: 'net', member: 'rx_bps', reduce: 'sum' } },
    storage: 'integer',
    chart: { group: 'net', label: 'rx', color: '#059669' },
    prometheus: { name: 'remonitor_node_network_receive_bytes_total' },
    homeAssistant: { name: 'Network in', unit: 'B/s', deviceClass: 'data_rate' },
    alarms: true,
    defaultAlarm: null,
    fleet: { column: 'net', mark: '↓' },
  },
  {
    name: 'net_tx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'sent on all interfaces',
    wire: { derived: { list: 'net', member: 'tx_bps', reduce: 'sum' } },
    storage: 'integer',
    chart: { group: 'net', label: 'tx', color: '#0284c7' },
    prometheus: { name: 'remonitor_node_network_transmit_bytes_total' },
    homeAssistant: { name: 'Network out', unit: 'B/s', deviceClass: 'data_rate' },
    alarms: true,
    defaultAlarm: null,
    fleet: { column: 'net', mark: '↑' },
  },
  {
    name: 'temp_c',
    kind: 'gauge',
    unit: 'celsius',
    description: 'CPU temperature; absent without a sensor',
    wire: { key: 20, check: 'number' },
    storage: 'real',
    chart: { group: 'temp', label: 'Temperature', color: '#dc2626' },
    prometheus: { name: 'remonitor_node_cpu_temperature_celsius' },
    homeAssistant: { name: 'CPU temperature', unit: '°C', deviceClass: 'temperature' },
    alarms: true,
    defaultAlarm: {
      id: 'temperature',
      threshold: 80,
      for: '2m',
      horizon: '30m',
      trend_window: '10m',
      description: 'CPU over 80 °C (a Pi throttles from 80 °C)',
    },
    fleet: { column: 'temp' },
  },
  {
    name: 'load_1',
    kind: 'gauge',
    unit: 'load',
    description: 'load average, 1 min',
    wire: { key: 6, check: 'number' },
    storage: 'real',
    chart: { group: 'load', label: '1 min', color: '#4f46e5' },
    prometheus: { name: 'remonitor_node_load1' },
    homeAssistant: { name: 'Load (1 min)', icon: 'mdi:gauge' },
    alarms: true,
    defaultAlarm: null,
    fleet: { column: 'load' },
  },
  {
    name: 'load_5',
    kind: 'gauge',
    unit: 'load',
    description: 'load average, 5 min',
    wire: { key: 7, check: 'number' },
    storage: 'real',
    chart: { group: 'load', label: '5 min', color: '#0891b2' },
    prometheus: { name: 'remonitor_node_load5' },
    homeAssistant: null,
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'load_15',
    kind: 'gauge',
    unit: 'load',
    description: 'load average, 15 min',
    wire: { key: 8, check: 'number' },
    storage: 'real',
    chart: { group: 'load', label: '15 min', color: '#65a30d' },
    prometheus: { name: 'remonitor_node_load15' },
    homeAssistant: null,
    alarms: true,
    defaultAlarm: null,
    fleet: null,
  },
  {
    name: 'procs_total',
    kind: 'gauge',
    unit: 'count',
    description: 'number of processes',
    wire: { key: 22, check: 'uint' },
    storage: 'integer',
    chart: null,
    prometheus: { name: 'remonitor_node_processes' },
    homeAssistant: { name: 'Processes', icon: 'mdi:format-list-numbered' },
    alarms: true,
    defaultAlarm: null,
    fleet: null,
    withProcessList: true,
  },
  {
    name: 'uptime_s',
    kind: 'gauge',
    unit: 'seconds',
    description: 'time since the machine booted',
    wire: { key: 21, check: 'uint' },
    storage: 'integer',
    chart: null,
    prometheus: { name: 'remonitor_node_uptime_seconds' },
    homeAssistant: { name: 'Uptime', unit: 's', deviceClass: 'duration' },
    alarms: false,
    defaultAlarm: null,
    fleet: null,
    sinceBoot: true,
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof METRICS)[number]['name'];

/** The metrics sent as sample fields of their own. */
export type WireMetricName = Extract<(typeof METRICS)[number], { wire: { key: number } }>['name'];

/** The registry with each entry's type widened to MetricSpec, for code that reads any field of any metric. */
export const METRIC_SPECS: readonly MetricSpec[] = METRICS;

/** Every metric name, in registry order (the order of the store's columns). */
export const METRIC_NAMES: readonly MetricName[] = METRICS.map((m) => m.name);

const BY_NAME = new Map<string, MetricSpec>(METRICS.map((m) => [m.name, m]));

/** The registry's entry for a name; undefined for a name it does not hold. */
export const metricSpec = (name: string): MetricSpec | undefined => BY_NAME.get(name);

export const isMetricName = (name: string): name is MetricName => BY_NAME.has(name);

/**
 * A labelled metric: one series per label set (a core, a mount, an interface, a container). It
 * comes from a list field of the sample (one value per element, labelled by the element's index or
 * name) or from the sample's `series` field under its name. Names the registry does not hold may
 * still arrive in `series`: they are a node's own metrics, stored and shown as plain numbers.
 */
export interface LabelledMetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: MetricUnit;
  readonly description: string;
  /** The label that tells the series apart. */
  readonly label: string;
  /** Labels its values may carry besides `label` (a container's image). */
  readonly otherLabels?: readonly string[];
  /** A list field of the sample (with the element's member, and the member naming the element), or the `series` field. */
  readonly source:
    | { readonly list: 'cpu_core_pct' }
    | { readonly list: 'filesystems'; readonly member: 'used_pct' | 'used_bytes' | 'size_bytes' }
    | { readonly list: 'net'; readonly member: 'rx_bps' | 'tx_bps' }
    | 'series';
  /** Exposition name; the label becomes a Prometheus label of the same name. */
  readonly prometheus: { readonly name: string; readonly scale?: number };
}

export const LABELLED_METRICS: readonly LabelledMetricSpec[] = [
  {
    name: 'cpu_core_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'CPU busy, per core',
    label: 'cpu',
    source: { list: 'cpu_core_pct' },
    prometheus: { name: 'remonitor_node_cpu_core_busy_ratio', scale: 0.01 },
  },
  {
    name: 'fs_used_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'use of each real filesystem',
    label: 'mountpoint',
    source: { list: 'filesystems', member: 'used_pct' },
    prometheus: { name: 'remonitor_node_filesystem_used_ratio', scale: 0.01 },
  },
  {
    name: 'fs_used_bytes',
    kind: 'gauge',
    unit: 'bytes',
    description: 'bytes used on each real filesystem',
    label: 'mountpoint',
    source: { list: 'filesystems', member: 'used_bytes' },
    prometheus: { name: 'remonitor_node_filesystem_used_bytes' },
  },
  {
    name: 'fs_size_bytes',
    kind: 'gauge',
    unit: 'bytes',
    description: 'size of each real filesystem',
    label: 'mountpoint',
    source: { list: 'filesystems', member: 'size_bytes' },
    prometheus: { name: 'remonitor_node_filesystem_size_bytes' },
  },
  {
    name: 'iface_rx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'received on each interface',
    label: 'interface',
    source: { list: 'net', member: 'rx_bps' },
    prometheus: { name: 'remonitor_node_network_interface_receive_bytes_total' },
  },
  {
    name: 'iface_tx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'sent on each interface',
    label: 'interface',
    source: { list: 'net', member: 'tx_bps' },
    prometheus: { name: 'remonitor_node_network_interface_transmit_bytes_total' },
  },
  // The agent's collectors of labelled values (edge-agent/collectors/): sent in the series field.
  {
    name: 'container_cpu_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'CPU of each container, % of one core (may pass 100)',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_cpu_used_cores', scale: 0.01 },
  },
  {
    name: 'container_mem_bytes',
    kind: 'gauge',
    unit: 'bytes',
    description: 'memory of each container (cgroup memory.current)',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_memory_bytes' },
  },
  {
    name: 'container_mem_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'memory of each container with a limit, % of its limit',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_memory_limit_used_ratio', scale: 0.01 },
  },
  {
    name: 'container_net_rx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'received by each container with a network namespace of its own',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_network_receive_bytes_total' },
  },
  {
    name: 'container_net_tx_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'sent by each container with a network namespace of its own',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_network_transmit_bytes_total' },
  },
  {
    name: 'container_read_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'read from block devices by each container',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_disk_read_bytes_total' },
  },
  {
    name: 'container_write_bps',
    kind: 'rate',
    unit: 'bytes_per_second',
    description: 'written to block devices by each container',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_disk_written_bytes_total' },
  },
  {
    name: 'container_running',
    kind: 'gauge',
    unit: 'count',
    description: '1 while a container runs, 0 once it restarts, pauses or exits (containers seen running)',
    label: 'container',
    otherLabels: ['image'],
    source: 'series',
    prometheus: { name: 'remonitor_node_container_running' },
  },
  {
    name: 'service_failed',
    kind: 'gauge',
    unit: 'count',
    description: '1 for each failed systemd unit, 0 once a unit seen failed recovers',
    label: 'unit',
    source: 'series',
    prometheus: { name: 'remonitor_node_service_failed' },
  },
  {
    name: 'service_active',
    kind: 'gauge',
    unit: 'count',
    description: '1 while a watched systemd unit (--services) is active, else 0',
    label: 'unit',
    source: 'series',
    prometheus: { name: 'remonitor_node_service_active' },
  },
  {
    name: 'storage_wear_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'eMMC wear, upper bound of its life_time level (10: up to 10 % of rated life used; 110: past it)',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_storage_wear_ratio', scale: 0.01 },
  },
  {
    name: 'storage_pre_eol',
    kind: 'gauge',
    unit: 'count',
    description: 'eMMC reserved blocks: 1 normal, 2 warning (80 % used), 3 urgent',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_storage_pre_eol_level' },
  },
  {
    name: 'fs_readonly',
    kind: 'gauge',
    unit: 'count',
    description: '1 when a real filesystem is mounted read-only (the kernel remounts so on I/O errors)',
    label: 'mountpoint',
    source: 'series',
    prometheus: { name: 'remonitor_node_filesystem_readonly' },
  },
  {
    name: 'smart_healthy',
    kind: 'gauge',
    unit: 'count',
    description: 'S.M.A.R.T. overall health: 1 passed, 0 failed',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_smart_healthy' },
  },
  {
    name: 'smart_temp_c',
    kind: 'gauge',
    unit: 'celsius',
    description: 'drive temperature (S.M.A.R.T.)',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_smart_temperature_celsius' },
  },
  {
    name: 'smart_power_on_seconds',
    kind: 'gauge',
    unit: 'seconds',
    description: 'drive power-on time (S.M.A.R.T., counted in hours)',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_smart_power_on_seconds' },
  },
  {
    name: 'smart_used_pct',
    kind: 'gauge',
    unit: 'percent',
    description: 'NVMe percentage used of its rated endurance (may pass 100)',
    label: 'device',
    source: 'series',
    prometheus: { name: 'remonitor_node_smart_used_ratio', scale: 0.01 },
  },
  {
    name: 'cpu_freq_hz',
    kind: 'gauge',
    unit: 'count',
    description: 'clock of each core, Hz',
    label: 'cpu',
    source: 'series',
    prometheus: { name: 'remonitor_node_cpu_frequency_hertz' },
  },
  {
    name: 'wifi_link_quality',
    kind: 'gauge',
    unit: 'count',
    description: 'Wi-Fi link quality as the driver reports it (most 0-70)',
    label: 'interface',
    source: 'series',
    prometheus: { name: 'remonitor_node_wifi_link_quality' },
  },
  {
    name: 'wifi_signal_dbm',
    kind: 'gauge',
    unit: 'count',
    description: 'Wi-Fi signal level, dBm',
    label: 'interface',
    source: 'series',
    prometheus: { name: 'remonitor_node_wifi_signal_dbm' },
  },
  // The clock's two have no label: '' (a node has one clock).
  {
    name: 'clock_synchronized',
    kind: 'gauge',
    unit: 'count',
    description: '1 when the clock is synchronised (NTP), else 0',
    label: '',
    source: 'series',
    prometheus: { name: 'remonitor_node_clock_synchronized' },
  },
  {
    name: 'clock_offset_seconds',
    kind: 'gauge',
    unit: 'seconds',
    description: 'clock offset from NTP time (chrony), positive when ahead',
    label: '',
    source: 'series',
    prometheus: { name: 'remonitor_node_clock_offset_seconds' },
  },
];

export const labelledMetricSpec = (name: string): LabelledMetricSpec | undefined => LABELLED_METRICS.find((m) => m.name === name);
