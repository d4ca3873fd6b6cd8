// The storage interface: ingest and web depend on this, never on a database directly, so that
// another backend can be added beside SQLite without touching them.
import type { NodeInfo, NodeStatus, Sample } from '../protocol/index.ts';
import type { NodeDetailResponse, NodeSummary, SeriesMetric, SeriesResponse } from '../web/api-types.ts';

export interface IncomingSample {
  node: string;
  sample: Sample;
  /** The payload as received, kept for the node's "latest" record. */
  raw: Uint8Array;
}

export interface InsertResult {
  inserted: number;
  duplicates: number;
}

export interface SeriesQuery {
  node: string;
  metrics: SeriesMetric[];
  fromMs: number;
  toMs: number;
  /** At most this many points; beyond it samples are averaged into buckets. */
  maxPoints: number;
}

export interface MetricsStore {
  /** Stores a batch in one transaction; samples already stored are counted as duplicates. */
  insertBatch(batch: IncomingSample[]): InsertResult;
  setStatus(node: string, status: NodeStatus, atMs: number): void;
  setInfo(node: string, info: NodeInfo, raw: Uint8Array): void;
  listNodes(): NodeSummary[];
  /** Null for a node never seen. */
  nodeDetail(node: string): NodeDetailResponse | null;
  /** Null for a node never seen. */
  querySeries(query: SeriesQuery): SeriesResponse | null;
  close(): void;
}
