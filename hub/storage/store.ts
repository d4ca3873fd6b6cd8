// The storage interface: ingest and web depend on this, never on a database directly, so that
// another backend can be added beside SQLite without touching them.
import type { NodeStatus, Sample } from '../../protocol/index.ts';
import type { FleetNodeSummary, NodeDetailResponse, NodeSummary, SamplePoint, SeriesMetric, SeriesResponse } from '../../shared/api-types.ts';
import type { LabelledSeries } from './labelled-series.ts';

export interface IncomingSample {
  node: string;
  sample: Sample;
  /** The payload as received, kept for the node's "latest" record. */
  raw: Uint8Array;
  /** toPoint(sample), when the caller has it already. */
  point?: SamplePoint;
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

/** One page of raw samples for export, in (ts_ms, seq) order. */
export interface SamplePageQuery {
  node: string;
  metrics: SeriesMetric[];
  fromMs: number;
  toMs: number;
  /** The last row of the previous page; null for the first page. */
  after: { ts_ms: number; seq: number } | null;
  limit: number;
}

export interface SamplePage {
  /** `values` follow `metrics`, null where the sample did not carry the metric. */
  rows: { ts_ms: number; seq: number; values: (number | null)[] }[];
  /**
   * Where the next page starts (its `after`), or null when the range is done. A page may hold fewer
   * than `limit` rows, none even, and still not be the last: a store bounds the work of each page.
   */
  next: { ts_ms: number; seq: number } | null;
}

/**
 * A removed node's samples are dropped while they were taken before its removal or this little
 * after it, ms: what was in flight, and what its agent sends until the broker has ended its revoked
 * session (a few seconds). A sample taken later brings the node back: it was enrolled again, or
 * the hub has no credentials and its agent still runs.
 */
export const REMOVAL_GRACE_MS = 30_000;

export interface RemoveNodeOptions {
  /** Also delete what is stored of it (samples, rollups, stored seqs, ack watermarks, latest records); else kept, for export. */
  purge: boolean;
  /** When it was removed, ms since epoch (the hub's clock). */
  atMs: number;
}

export interface RemovedNode {
  /** Rows deleted (0 without purge). */
  deleted: number;
}

export interface MetricsStore {
  /** Stores a batch in one transaction; samples already stored are counted as duplicates. */
  insertBatch(batch: IncomingSample[]): InsertResult;
  setStatus(node: string, status: NodeStatus, atMs: number): void;
  /** Keeps a birth record, as received; the caller has validated it with decodeInfo. */
  setInfo(node: string, raw: Uint8Array): void;
  /**
   * Replaces the tags given to the node on the hub (checked by the caller: protocol/info.ts); the
   * node's row is made when it has none yet (enrolled before it reported).
   */
  setHubTags(node: string, tags: readonly string[]): void;
  listNodes(): NodeSummary[];
  /**
   * What the fleet page shows of every listed node (GET /api/nodes?fields=fleet), decoding only
   * that of each stored sample; `pause` is awaited between slices of the work.
   */
  listFleetNodes(pause: () => Promise<void>): Promise<FleetNodeSummary[]>;
  /** Null for a node never seen. */
  nodeDetail(node: string): NodeDetailResponse | null;
  /** Null for a node never seen. */
  querySeries(query: SeriesQuery): SeriesResponse | null;
  /** A labelled metric of a node over a range (hub/storage/labelled-series.ts); null for a node never seen. */
  queryLabelled(node: string, name: string, fromMs: number, toMs: number, points: number): LabelledSeries | null;
  /** Brings the coarse rollup tiers up to date with what was stored, in small steps. */
  deriveRollups(pause: () => Promise<void>): Promise<number>;
  /** Deletes data past each resolution's retention in small steps, awaiting `pause` between them. */
  purgeExpired(pause: () => Promise<void>): Promise<number>;
  /**
   * Retires a node: it leaves listNodes (its row stays, marked, so that a retained status or a late
   * sample cannot bring it back; see REMOVAL_GRACE_MS). With `purge`, its data is deleted in small
   * steps with `pause` between them. Null for a node never seen.
   */
  removeNode(node: string, options: RemoveNodeOptions, pause: () => Promise<void>): Promise<RemovedNode | null>;
  /** Raw samples a page at a time, for export; null for a node never seen. Optional: not every store can. */
  samplePage?(query: SamplePageQuery): SamplePage | null;
  close(): void;
}
