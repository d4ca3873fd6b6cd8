// Shapes of the REST API and the live stream, shared by the Hono routes and the browser code.
import { FLEET_COLUMNS, METRIC_NAMES, METRICS, type MetricName } from '../protocol/metrics.ts';
import type { NodeInfo, NodeStatus, ProcessUsage, Sample } from '../protocol/index.ts';

/** Series that a chart can ask for: the registry's metrics (protocol/metrics.ts), one stored column each. */
export const SERIES_METRICS: readonly MetricName[] = METRIC_NAMES;
export type SeriesMetric = MetricName;

/** What the series API returns when the request names no metrics: every metric the node page draws. */
export const DEFAULT_SERIES: readonly SeriesMetric[] = METRICS.filter((m) => m.chart !== null).map((m) => m.name);

/** One sample flattened to the chartable metrics; absent fields are unknown. */
export type SamplePoint = { ts_ms: number } & Partial<Record<SeriesMetric, number>>;

export interface NodeSummary {
  name: string;
  /** `unknown` until the node's retained status has been seen. */
  status: NodeStatus | 'unknown';
  /** The stored time of its newest sample, never past when the hub received it. */
  last_seen_ms: number | null;
  /**
   * How far the node's clock is off, s (its ts_ms minus the hub's clock when its newest live sample
   * arrived; a few ms of that are the network): null until a live sample has been seen. Beyond
   * CLOCK_TOLERANCE_MS its samples are stored at the hub's time (PROTOCOL.md, "Time").
   */
  clock_skew_s: number | null;
  latest: SamplePoint | null;
  info: NodeInfo | null;
  /**
   * Its tags, sorted: the agent's (`info.tags`) and those given on the hub (`hub_tags`) together
   * (protocol/info.ts, combineTags).
   */
  tags: string[];
  /** The tags given on the hub, at enrolment or with PUT /api/nodes/:node/tags; what that PUT replaces. */
  hub_tags: string[];
  /** In GET /api/nodes: its newest sample is older than the hub's --stale-after (default 24 h). */
  stale?: boolean;
  /** Its running containers in its newest sample; absent when that sample has none. */
  containers?: ContainersSummary;
  /** Whether its newest sample says the clock is synchronised (clock_synchronized); absent when it does not say. */
  clock_synchronized?: boolean;
}

/** A node's running containers (the registry's container_* labelled metrics): how many, the busiest first. */
export interface ContainersSummary {
  running: number;
  /** At most CONTAINERS_LISTED of them by CPU, highest first (null: no CPU figure yet). */
  top: { name: string; cpu_pct: number | null }[];
}

/** Containers a summary names: enough to show the busiest and to find a node by a container's name. */
export const CONTAINERS_LISTED = 16;

/** GET /api/nodes */
export interface NodesResponse {
  nodes: NodeSummary[];
  /** How many of them are stale. */
  stale?: number;
}

type RegistryMetric = (typeof METRICS)[number];

/** A metric the fleet page shows (the registry's `fleet`). */
export type FleetPointMetric = Extract<RegistryMetric, { fleet: object }>['name'];
/** The sample values the fleet page shows (its table columns and cards), in the order of its columns. */
export const FLEET_POINT_METRICS: readonly FleetPointMetric[] = FLEET_COLUMNS.flatMap(({ column }) =>
  METRICS.filter((m): m is Extract<RegistryMetric, { fleet: object }> => m.fleet?.column === column).map((m) => m.name),
);
/** The system info the fleet page shows and filters on. */
export const FLEET_INFO_FIELDS = ['agent_version', 'hostname', 'os', 'arch', 'interval_ms', 'ip_addresses'] as const satisfies readonly (keyof NodeInfo)[];

/** A node as GET /api/nodes?fields=fleet gives it: what the fleet page needs of NodeSummary, about half its size. */
export interface FleetNodeSummary
  extends Pick<NodeSummary, 'name' | 'status' | 'last_seen_ms' | 'clock_skew_s' | 'tags' | 'stale' | 'containers' | 'clock_synchronized'> {
  latest: ({ ts_ms: number } & Partial<Record<FleetPointMetric, number>>) | null;
  info: Pick<NodeInfo, (typeof FLEET_INFO_FIELDS)[number]> | null;
}

/** GET /api/nodes?fields=fleet */
export interface FleetNodesResponse {
  nodes: FleetNodeSummary[];
  stale: number;
}

/** The metric sent with the process list (the registry's `withProcessList`): the number of processes. */
export type ProcessCountMetric = Extract<RegistryMetric, { withProcessList: true }>['name'];
export const PROCESS_COUNT_METRIC: ProcessCountMetric = onlyMetric(
  METRICS.filter((m): m is Extract<RegistryMetric, { withProcessList: true }> => 'withProcessList' in m),
);

/** The time since boot (the registry's `sinceBoot`). */
export type UptimeMetric = Extract<RegistryMetric, { sinceBoot: true }>['name'];
export const UPTIME_METRIC: UptimeMetric = onlyMetric(METRICS.filter((m): m is Extract<RegistryMetric, { sinceBoot: true }> => 'sinceBoot' in m));

function onlyMetric<M extends { name: string }>(found: readonly M[]): M['name'] {
  if (found.length !== 1) throw new Error(`the metric registry has ${found.length} metrics in a role that one metric plays`);
  return found[0]!.name;
}

/** A sample's process lists, and the process count sent with them. */
export type ProcessLists = { top_cpu: ProcessUsage[]; top_mem: ProcessUsage[] } & Record<ProcessCountMetric, number | null>;

/** GET /api/nodes/:node: the summary plus the latest full sample and the latest process list. */
export interface NodeDetailResponse extends NodeSummary {
  sample: Sample | null;
  processes: ({ ts_ms: number } & ProcessLists) | null;
}

/**
 * GET /api/nodes/:node/series?metrics=a,b&from=-1h&to=now&points=N
 * `data` is uPlot's aligned shape: [times in seconds, ...one array per metric], null where unknown.
 * `step_s` is the averaging bucket when the range held more samples than `points`, else null (raw).
 */
export interface SeriesResponse {
  node: string;
  metrics: SeriesMetric[];
  from_ms: number;
  to_ms: number;
  step_s: number | null;
  /** Where the points come from: raw samples, or the 1 min / 15 min / 1 h rollups (means). */
  resolution: 'raw' | '1m' | '15m' | '1h';
  data: [number[], ...(number | null)[][]];
}

/** Events of GET /api/stream (server-sent events; the SSE event name is the `type`). */
export type StreamEvent =
  | {
      type: 'sample';
      node: string;
      point: SamplePoint;
      processes?: ProcessLists;
      /** A live sample's clock skew, as NodeSummary.clock_skew_s; absent on replayed samples. */
      clock_skew_s?: number;
      /** As NodeSummary.containers, when the sample has containers. */
      containers?: ContainersSummary;
      /** As NodeSummary.clock_synchronized, when the sample says it. */
      clock_synchronized?: boolean;
    }
  | { type: 'status'; node: string; status: NodeStatus };

/** Every 4xx/5xx answer of the API. */
export interface ApiError {
  error: string;
}

/** PUT /api/nodes/:node/tags: the node's tags (the agent's and the hub's together) and the hub's part. */
export interface NodeTagsResponse {
  node: string;
  tags: string[];
  hub_tags: string[];
}

/** POST /api/enrolments: the enrolled node and its token. */
export interface EnrolmentResponse {
  node: string;
  /** Shown once: only its hash is kept. */
  token: string;
  /** The tags given with it (the body's `tags`), stored as the node's hub tags. */
  tags: string[];
}

/** GET /api/nodes/:node/labelled: the labelled metrics of the node's newest sample, with their label sets. */
export interface LabelledListResponse {
  node: string;
  metrics: { name: string; unit: string | null; description: string | null; labels: Record<string, string>[] }[];
}

/**
 * GET /api/nodes/:node/labelled/:metric?from=&to=&points=: `data` is uPlot's aligned shape, one
 * column per entry of `labels`; raw values for ranges up to an hour, else means of minute buckets.
 */
export interface LabelledSeriesResponse {
  node: string;
  metric: string;
  from_ms: number;
  to_ms: number;
  labels: Record<string, string>[];
  data: [number[], ...(number | null)[][]];
  resolution: 'raw' | '1m';
  step_s: number | null;
}
