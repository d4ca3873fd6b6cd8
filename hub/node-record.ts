// A stored node row (status, birth record, latest payloads as received) turned into the API's
// NodeSummary and NodeDetailResponse, the same for every store.
import { combineTags, decodeInfo, decodeSample } from '../protocol/index.ts';
import type { NodeDetailResponse, NodeSummary } from '../shared/api-types.ts';
import { toPoint } from './sample-point.ts';

export interface NodeRecord {
  name: string;
  status: string;
  last_seen_ms: number | null;
  /** Its newest live sample's ts_ms minus the hub's clock, ms (hub/sample-time.ts); null until one came. */
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
  const info = row.info ? decodeInfo(row.info) : null;
  const hubTags = row.hub_tags ? (JSON.parse(row.hub_tags) as string[]) : [];
  return {
    name: row.name,
    status: row.status === 'online' || row.status === 'offline' ? row.status : 'unknown',
    last_seen_ms: row.last_seen_ms,
    clock_skew_s: row.clock_skew_ms == null ? null : row.clock_skew_ms / 1000,
    latest: row.latest ? toPoint(decodeSample(row.latest)) : null,
    info,
    tags: combineTags(info?.tags, hubTags),
    hub_tags: hubTags,
  };
}

export function nodeDetailOf(row: NodeRecord): NodeDetailResponse {
  const processes = row.latest_processes ? decodeSample(row.latest_processes) : null;
  return {
    ...summarizeNode(row),
    sample: row.latest ? decodeSample(row.latest) : null,
    processes: processes
      ? {
          ts_ms: processes.ts_ms,
          procs_total: processes.procs_total ?? null,
          top_cpu: processes.top_cpu ?? [],
          top_mem: processes.top_mem ?? [],
        }
      : null,
  };
}
