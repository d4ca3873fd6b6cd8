// The fleet in the Prometheus text exposition format (version 0.0.4): every online node's latest
// values labelled by node, named and scaled as the registry says (protocol/metrics.ts, following
// Prometheus' naming conventions), and the hub's own health. A pure function of its inputs, so tests
// can compare the output with the store without a scrape loop.
import { labelledMetricSpec, METRIC_SPECS, type MetricUnit } from '../../protocol/index.ts';
import type { NodeSummary, SeriesMetric } from '../../shared/api-types.ts';
import type { LatestLabelled } from './latest-labelled.ts';
import type { RateTotals } from './rate-totals.ts';

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

/**
 * The newest labelled values of online nodes, a family per metric: the registry's under their names
 * (rates as counters), a node's own metrics as `remonitor_custom_<name>` gauges. The value's labels
 * follow `node`; one of its own called `node` becomes `exported_node`, as Prometheus renames a clash.
 */
function renderLabelled(
  online: readonly NodeSummary[],
  labelled: LatestLabelled,
  family: (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]) => void,
): void {
  const families = new Map<string, { type: 'gauge' | 'counter'; help: string; samples: [string, number][] }>();
  for (const n of online) {
    for (const v of labelled.of(n.name)) {
      const spec = labelledMetricSpec(v.name);
      const name = spec ? spec.prometheus.name : `remonitor_custom_${v.name}`;
      let f = families.get(name);
      if (!f) {
        const type = spec?.kind === 'rate' ? 'counter' : 'gauge';
        const help = spec
          ? `${spec.description}, ${UNIT_TEXT[spec.unit]}${type === 'counter' ? ', counted by this hub since it started' : ''}`
          : `the node's own metric ${v.name}`;
        families.set(name, (f = { type, help, samples: [] }));
      }
      const labels = [
        `node="${escapeLabel(n.name)}"`,
        ...Object.entries(v.labels).map(([k, val]) => `${k === 'node' ? 'exported_node' : k}="${escapeLabel(val)}"`),
      ];
      const scale = spec?.prometheus.scale ?? 1;
      f.samples.push([`{${labels.join(',')}}`, scale === 1 ? v.value : Math.round(v.value * scale * 1e6) / 1e6]);
    }
  }
  for (const [name, f] of families) family(name, f.type, f.help, f.samples);
}

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

/** How a registry unit reads in HELP text once scaled to the exposition's base unit. */
const UNIT_TEXT: Record<MetricUnit, string> = {
  percent: 'ratio 0-1',
  bytes: 'bytes',
  bytes_per_second: 'bytes',
  celsius: 'degrees Celsius',
  seconds: 'seconds',
  count: 'count',
  load: 'load average',
};

/**
 * Renders the fleet and the hub. A node that is not online exports only `up` and `last_seen`: its
 * last values are not current, and Prometheus marks series that stop as stale. A rate metric is a
 * counter from `totals`, and absent without it.
 */
export function renderPrometheus(nodes: readonly NodeSummary[], health: HubHealth | null, totals?: RateTotals, labelled?: LatestLabelled): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: [labels: string, value: number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${num(value)}`);
  };
  const node = (n: NodeSummary) => `{node="${escapeLabel(n.name)}"}`;
  const online = nodes.filter((n) => n.status === 'online');

  family(
    'remonitor_node_up',
    'gauge',
    '1 when the node says it is online, 0 when offline or unknown',
    nodes.map((n) => [node(n), n.status === 'online' ? 1 : 0]),
  );
  family(
    'remonitor_node_last_seen_seconds',
    'gauge',
    'time of the newest stored sample, seconds since 1970',
    nodes.filter((n) => n.last_seen_ms !== null).map((n) => [node(n), n.last_seen_ms! / 1000]),
  );
  for (const m of METRIC_SPECS) {
    const metric = m.name as SeriesMetric;
    const { name, scale = 1 } = m.prometheus;
    if (m.kind === 'rate') {
      if (!totals) continue;
      const samples = online.flatMap((n): [string, number][] => {
        const total = totals.total(n.name, metric);
        return total === undefined ? [] : [[node(n), total]];
      });
      family(name, 'counter', `${m.description}, ${UNIT_TEXT[m.unit]}, counted by this hub since it started`, samples);
      continue;
    }
    // A metric a node does not report (no swap, no sensor) is absent, never zero.
    const samples = online.flatMap((n): [string, number][] => {
      const value = n.latest?.[metric];
      return value === undefined ? [] : [[node(n), scale === 1 ? value : Math.round(value * scale * 1e6) / 1e6]];
    });
    family(name, 'gauge', `latest sample: ${m.description}, ${UNIT_TEXT[m.unit]}`, samples);
  }
  if (labelled) renderLabelled(online, labelled, family);

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
