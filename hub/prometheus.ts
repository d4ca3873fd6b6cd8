// The fleet in the Prometheus text exposition format (version 0.0.4): every node's latest values
// as gauges labelled by node, and the hub's own health. A pure function of its inputs, so tests
// can compare the output with the store without a scrape loop.
import { SERIES_METRICS, type NodeSummary, type SeriesMetric } from '../shared/api-types.ts';

/** The hub's own figures at the moment of a scrape; null fields are unknown (e.g. `remonitor web`). */
export interface HubHealth {
  received: number;
  stored: number;
  duplicates: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Samples received per second over the last few seconds. */
  ingestRatePerS: number;
  /** Samples decoded and waiting for the next batch write. */
  queueDepth: number;
  /** The database file plus its write-ahead log, in bytes; null when unknown. */
  dbBytes: number | null;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Help text per metric; units in the name follow the wire names (`_pct`, `_bps`, `_bytes`, `_c`, `_s`). */
const HELP: Record<SeriesMetric, string> = {
  cpu_pct: 'CPU busy, all cores, percent',
  mem_pct: 'memory used, percent',
  mem_used_bytes: 'memory used (total - available), bytes',
  swap_pct: 'swap used, percent',
  swap_used_bytes: 'swap used, bytes',
  disk_pct: 'fullest real filesystem, percent used',
  disk_read_bps: 'read from all physical disks, bytes per second',
  disk_write_bps: 'written to all physical disks, bytes per second',
  net_rx_bps: 'received on all interfaces, bytes per second',
  net_tx_bps: 'sent on all interfaces, bytes per second',
  temp_c: 'CPU temperature, degrees Celsius',
  load_1: 'load average over 1 minute',
  load_5: 'load average over 5 minutes',
  load_15: 'load average over 15 minutes',
  procs_total: 'number of processes',
  uptime_s: 'time since the machine booted, seconds',
};

/** `remonitor_node_<metric>` for each series metric. */
export const nodeMetricName = (metric: SeriesMetric) => `remonitor_node_${metric}`;

/** Label value escaping of the text format: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function renderPrometheus(nodes: readonly NodeSummary[], health: HubHealth | null): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: [labels: string, value: number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${num(value)}`);
  };
  const node = (n: NodeSummary) => `{node="${escapeLabel(n.name)}"}`;

  family('remonitor_node_up', 'gauge', '1 when the node says it is online, 0 when offline or unknown', nodes.map((n) => [node(n), n.status === 'online' ? 1 : 0]));
  family(
    'remonitor_node_last_seen_seconds',
    'gauge',
    'time of the newest stored sample, seconds since 1970',
    nodes.filter((n) => n.last_seen_ms !== null).map((n) => [node(n), n.last_seen_ms! / 1000]),
  );
  for (const metric of SERIES_METRICS) {
    // A metric a node does not report (no swap, no sensor) is absent, never zero.
    const samples = nodes.flatMap((n): [string, number][] => {
      const value = n.latest?.[metric];
      return value === undefined ? [] : [[node(n), value]];
    });
    family(nodeMetricName(metric), 'gauge', `latest sample: ${HELP[metric]}`, samples);
  }

  family('remonitor_hub_nodes', 'gauge', 'nodes the hub has seen', [['', nodes.length]]);
  if (health) {
    family('remonitor_hub_samples_received_total', 'counter', 'samples received from the broker', [['', health.received]]);
    family('remonitor_hub_samples_stored_total', 'counter', 'samples written to the database', [['', health.stored]]);
    family('remonitor_hub_samples_duplicate_total', 'counter', 'samples already stored (re-sent), not written again', [['', health.duplicates]]);
    family('remonitor_hub_messages_rejected_total', 'counter', 'malformed messages dropped (decode or validation errors)', [['', health.rejected]]);
    family(
      'remonitor_hub_messages_rejected_by_reason_total',
      'counter',
      'malformed messages dropped, by reason',
      Object.entries(health.rejectedByReason).map(([reason, n]) => [`{reason="${escapeLabel(reason)}"}`, n]),
    );
    family('remonitor_hub_ingest_rate', 'gauge', 'samples received per second, over the last seconds', [['', health.ingestRatePerS]]);
    family('remonitor_hub_queue_depth', 'gauge', 'samples waiting for the next batch write', [['', health.queueDepth]]);
  }
  if (health?.dbBytes != null) family('remonitor_hub_db_size_bytes', 'gauge', 'database file and write-ahead log, bytes', [['', health.dbBytes]]);
  return `${out.join('\n')}\n`;
}
