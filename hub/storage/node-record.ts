// A stored node row (status, birth record, latest payloads as received) turned into the API's
// NodeSummary and NodeDetailResponse, the same for every store.
import { combineTags, decodeInfo, decodeSample, type NodeInfo, type Sample } from '../../protocol/index.ts';
import {
  CONTAINERS_LISTED,
  FLEET_INFO_FIELDS,
  FLEET_POINT_METRICS,
  PROCESS_COUNT_METRIC,
  type ContainersSummary,
  type FleetNodeSummary,
  type NodeDetailResponse,
  type NodeSummary,
  type SamplePoint,
} from '../../shared/api-types.ts';
import { toPoint } from './sample-point.ts';

export interface NodeRecord {
  name: string;
  status: string;
  last_seen_ms: number | null;
  /** Its newest live sample's ts_ms minus the hub's clock, ms (hub/ingest/sample-time.ts); null until one came. */
  clock_skew_ms?: number | null;
  info: Uint8Array | null;
  latest: Uint8Array | null;
  latest_processes?: Uint8Array | null;
  /** The tags given on the hub, a JSON list (hubTagsColumn); null when none were. */
  hub_tags?: string | null;
}

/** The `hub_tags` column's value for a list: null for none. */
export function hubTagsColumn(tags: readonly string[]): string | null {
  return tags.length ? JSON.stringify([...new Set(tags)].sort()) : null;
}

export function summarizeNode(row: NodeRecord): NodeSummary {
  const sample = row.latest ? decodeSample(row.latest) : null;
  return summaryOf(
    row,
    row.info ? decodeInfo(row.info) : null,
    sample ? toPoint(sample) : null,
    sample ? containersOf(sample) : undefined,
    sample ? clockSynchronizedOf(sample) : undefined,
  );
}

function summaryOf(
  row: NodeRecord,
  info: NodeInfo | null,
  latest: SamplePoint | null,
  containers: ContainersSummary | undefined,
  clockSynchronized: boolean | undefined,
): NodeSummary {
  const hubTags = row.hub_tags ? (JSON.parse(row.hub_tags) as string[]) : [];
  const summary: NodeSummary = {
    name: row.name,
    status: row.status === 'online' || row.status === 'offline' ? row.status : 'unknown',
    last_seen_ms: row.last_seen_ms,
    clock_skew_s: row.clock_skew_ms == null ? null : row.clock_skew_ms / 1000,
    latest,
    info,
    tags: combineTags(info?.tags, hubTags),
    hub_tags: hubTags,
  };
  if (containers) summary.containers = containers;
  if (clockSynchronized !== undefined) summary.clock_synchronized = clockSynchronized;
  return summary;
}

/** Whether the node says its clock is synchronised (NTP), from its sample's clock_synchronized; undefined when it does not say. */
export function clockSynchronizedOf(sample: Pick<Sample, 'series'>): boolean | undefined {
  const v = sample.series?.find((x) => x.name === 'clock_synchronized');
  return v === undefined ? undefined : v.value === 1;
}

/**
 * The running containers of a sample: those whose container_running is 1, and those it has values
 * of but no container_running for (named without the API); busiest first. Undefined when none.
 */
export function containersOf(sample: Pick<Sample, 'series'>): ContainersSummary | undefined {
  if (!sample.series) return undefined;
  const byName = new Map<string, { cpu: number | null; running: boolean | null }>();
  for (const v of sample.series) {
    if (!v.name.startsWith('container_')) continue;
    const name = v.labels['container'];
    if (name === undefined) continue;
    let c = byName.get(name);
    if (!c) byName.set(name, (c = { cpu: null, running: null }));
    if (v.name === 'container_cpu_pct') c.cpu = v.value;
    else if (v.name === 'container_running') c.running = v.value === 1;
  }
  const running = [...byName].filter(([, c]) => c.running !== false);
  if (running.length === 0) return undefined;
  running.sort(([a, ca], [b, cb]) => (cb.cpu ?? -1) - (ca.cpu ?? -1) || (a < b ? -1 : a > b ? 1 : 0));
  return { running: running.length, top: running.slice(0, CONTAINERS_LISTED).map(([name, c]) => ({ name, cpu_pct: c.cpu })) };
}

interface Decoded {
  latestBytes: Uint8Array | null;
  latest: SamplePoint | null;
  containers: ContainersSummary | undefined;
  clockSynchronized: boolean | undefined;
  infoBytes: Uint8Array | null;
  info: NodeInfo | null;
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean => a === b || (a !== null && b !== null && Buffer.compare(a, b) === 0);

/**
 * summarizeNode for a whole list, again and again: each node's stored blobs are decoded only when
 * their bytes changed since the last list (a byte compare costs a small part of a CBOR decode), so
 * a list of 10,000 nodes decodes only what arrived since. The decoded parts are shared between the
 * lists it returns: callers read them and never change them.
 */
export class NodeSummaries {
  private byNode = new Map<string, Decoded>();

  list(rows: readonly NodeRecord[]): NodeSummary[] {
    const next = new Map<string, Decoded>(); // nodes no longer listed are forgotten
    const out: NodeSummary[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let d = this.byNode.get(row.name);
      if (!d) d = { latestBytes: null, latest: null, containers: undefined, clockSynchronized: undefined, infoBytes: null, info: null };
      if (!sameBytes(d.latestBytes, row.latest)) {
        const sample = row.latest ? decodeSample(row.latest) : null;
        d = {
          ...d,
          latestBytes: row.latest,
          latest: sample ? toPoint(sample) : null,
          containers: sample ? containersOf(sample) : undefined,
          clockSynchronized: sample ? clockSynchronizedOf(sample) : undefined,
        };
      }
      if (!sameBytes(d.infoBytes, row.info)) d = { ...d, infoBytes: row.info, info: row.info ? decodeInfo(row.info) : null };
      next.set(row.name, d);
      out[i] = summaryOf(row, d.info, d.latest, d.containers, d.clockSynchronized);
    }
    this.byNode = next;
    return out;
  }
}

/** A summary cut to what the fleet page uses (GET /api/nodes?fields=fleet). */
export function fleetSummaryOf(s: NodeSummary): FleetNodeSummary {
  let latest: FleetNodeSummary['latest'] = null;
  if (s.latest) {
    latest = { ts_ms: s.latest.ts_ms };
    for (const m of FLEET_POINT_METRICS) if (s.latest[m] !== undefined) latest[m] = s.latest[m];
  }
  let info: FleetNodeSummary['info'] = null;
  if (s.info) {
    const picked: Partial<Record<keyof NodeInfo, unknown>> = {};
    for (const f of FLEET_INFO_FIELDS) if (s.info[f] !== undefined) picked[f] = s.info[f];
    info = picked as FleetNodeSummary['info'];
  }
  const out: FleetNodeSummary = { name: s.name, status: s.status, last_seen_ms: s.last_seen_ms, clock_skew_s: s.clock_skew_s, latest, info, tags: s.tags };
  if (s.stale !== undefined) out.stale = s.stale;
  if (s.containers) out.containers = s.containers;
  if (s.clock_synchronized !== undefined) out.clock_synchronized = s.clock_synchronized;
  return out;
}

export function nodeDetailOf(row: NodeRecord): NodeDetailResponse {
  const processes = row.latest_processes ? decodeSample(row.latest_processes) : null;
  return {
    ...summarizeNode(row),
    sample: row.latest ? decodeSample(row.latest) : null,
    processes: processes
      ? {
          ts_ms: processes.ts_ms,
          [PROCESS_COUNT_METRIC]: processes[PROCESS_COUNT_METRIC] ?? null,
          top_cpu: processes.top_cpu ?? [],
          top_mem: processes.top_mem ?? [],
        }
      : null,
  };
}
