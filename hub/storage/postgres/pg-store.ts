// MetricsStore on PostgreSQL (node-postgres Pool), async: daily partitions of `samples`, batched
// inserts through unnest() arrays (21 parameters whatever the batch size, one plan), one
// transaction per batch, rollups and retention as in the SQLite store (hub/storage/rollups.ts).
import pg, { type Pool, type PoolClient } from 'pg';
import type { NodeStatus } from '../../../protocol/index.ts';
import {
  SERIES_METRICS,
  type FleetNodeSummary,
  type NodeDetailResponse,
  type NodeSummary,
  type SeriesMetric,
  type SeriesResponse,
} from '../../../shared/api-types.ts';
import type { AsyncMetricsStore } from '../async-store.ts';
import { FleetSummaries } from '../fleet-summaries.ts';
import { hubTagsColumn, nodeDetailOf, NodeSummaries, type NodeRecord } from '../node-record.ts';
import { createPartitions, dayOf, DAY_MS, dropPartitionsBefore, inTransaction, listPartitionDays, truncateEmptyPartitions } from './pg-partitions.ts';
import { byTimeAndSeq, CHUNK_MS, COMPACT_AFTER_MS, LATE_AFTER_MS, PgChunks, windowOf, type ChunkRow } from './pg-chunks.ts';
import { MARK_LABELLED_SQL, PgLabelled } from './pg-labelled.ts';
import type { LabelledSeries } from '../labelled-series.ts';
import type { Logger } from '../../../shared/logger.ts';
import { PG_ROLLUP_DERIVE_SQL, PG_ROLLUP_FROM_RAW_SQL, pgRollupSelectSql } from './pg-rollups.ts';
import { migratePg, SAMPLE_COLUMN_TYPES, SAMPLE_COLUMNS, type Partitioning } from './pg-schema.ts';
import { alignDown, alignUp, chooseResolution, DEFAULT_RETENTION, DERIVED_TIERS, tierSeconds, TIERS, type Retention } from '../rollups.ts';
import { LATEST, LATEST_PROCESSES, PackedSamples, SAMPLE_COLUMNS as PACKED_COLUMNS } from '../packed-samples.ts';
import { seriesResponse } from '../series-gaps.ts';
import { addStoredSeq, holdsSeq, storedSeqsOf, type StoredSeqs } from '../stored-seqs.ts';
import {
  REMOVAL_GRACE_MS,
  type IncomingSample,
  type InsertResult,
  type RemovedNode,
  type RemoveNodeOptions,
  type SamplePage,
  type SamplePageQuery,
  type SeriesQuery,
} from '../store.ts';

/** Where each of this table's columns (its own order, hub/storage/postgres/pg-schema.ts) is in a packed batch. */
const PACKED_INDEX = SAMPLE_COLUMNS.map((m) => PACKED_COLUMNS.indexOf(m as (typeof PACKED_COLUMNS)[number]));

export interface PgStoreOptions {
  retention?: Retention;
  /** Injected so tests control time (tier choice, partitions made ahead, purges). */
  now?: () => number;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /** An idle pooled connection failed (server restart…); the next query reconnects. Default: ignored. */
  onIdleError?: (err: Error) => void;
  /** Told of a node that sends more labelled series in a minute than are bucketed. */
  log?: Pick<Logger, 'info'>;
}

// bigint (count(*), the byte counters) and numeric (avg of bigint) as JS numbers: every value we
// store is below 2^53 (the wire caps uints there), so nothing is rounded.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE = new Set(['40P01' /* deadlock_detected */, '40001' /* serialization_failure */]);
const MAX_ATTEMPTS = 3;

const INSERT_SAMPLES_SQL = `WITH stored AS (
    INSERT INTO samples (node_id, boot_id, ts_ms, seq, ${SAMPLE_COLUMNS.join(', ')}, detail)
    SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[],
      ${SAMPLE_COLUMNS.map((m, i) => `$${i + 5}::${SAMPLE_COLUMN_TYPES[m]}[]`).join(', ')}, $${SAMPLE_COLUMNS.length + 5}::bytea[])
    -- Key order: two hubs storing the same batch wait on the same first row instead of deadlocking.
    ORDER BY 1, 3, 2, 4
    ON CONFLICT DO NOTHING
    RETURNING node_id, boot_id, ts_ms, seq)
  SELECT * FROM stored`;

/** The listed nodes' rows; COLLATE "C": byte order, as SQLite sorts, whatever the database's locale. */
const LISTED_NODES_SQL =
  'SELECT name, status, last_seen_ms, clock_skew_ms, info, latest, hub_tags FROM nodes WHERE retired_ms IS NULL ORDER BY name COLLATE "C"';

/** A row the insert stored (one that met a stored row of the same key was left out). */
interface InsertedRow {
  node_id: number;
  boot_id: number;
  ts_ms: number;
  seq: number;
}

/** [from, to, from, to, …] as ranges. */
const pairs = (flat: number[]): [number, number][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);

/** "postgres://user:***@host/db": for error messages, never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a connection string that is not a URL)';
  }
}

export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, types });
  // Without a listener, an idle connection's error (a server restart) would end the process.
  pool.on('error', options.onIdleError ?? (() => undefined));
  try {
    const partitioning = await migratePg(pool);
    const store = new PgStore(pool, partitioning, options);
    if (partitioning === 'native') for (const day of await listPartitionDays(pool)) store.partitionDays.add(day);
    return store;
  } catch (err) {
    await pool.end();
    throw new Error(`could not open the PostgreSQL store at ${redactUrl(url)}: ${(err as Error).message}`);
  }
}

export interface ChangedNode {
  name: string;
  status: NodeStatus | 'unknown';
  /** As NodeSummary's, in ms. */
  clock_skew_ms: number | null;
  latest: Buffer | null;
  latest_processes: Buffer | null;
}

interface NodeRow extends NodeRecord {
  id: number;
  latest_processes: Buffer | null;
}

export class PgStore implements AsyncMetricsStore {
  readonly retention: Retention;
  /** Days (start ms) known to have a partition; filled at open, by inserts and by purges. */
  readonly partitionDays = new Set<number>();
  private readonly now: () => number;
  private readonly nodeIds = new Map<string, number>();
  /** `${node id} ${boot}` → boot id. */
  private readonly bootIds = new Map<string, number>();
  /** Labelled series' minute buckets, rebuilt from the samples' details (hub/storage/postgres/pg-labelled.ts). */
  readonly labelled: PgLabelled;
  /** Raw samples past their first hours, compressed (hub/storage/postgres/pg-chunks.ts). */
  readonly chunks: PgChunks;
  /**
   * Whether purgeExpired() also compacts raw rows into chunks. In a group of hubs only the
   * coordinator does (cli/hub-service.ts): one compactor, not several racing for the same hours.
   */
  compactsRaw = true;

  constructor(
    readonly pool: Pool,
    readonly partitioning: Partitioning,
    options: PgStoreOptions = {},
  ) {
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.now = options.now ?? Date.now;
    this.chunks = new PgChunks(pool, (work) => this.transaction(work));
    this.labelled = new PgLabelled(
      pool,
      partitioning,
      (nodeId, limit) =>
        options.log?.info(
          { nodeId, limit },
          'a node sent more labelled series in a minute than are bucketed: the rest stay in its raw samples only (a label that changes every sample?)',
        ),
      (nodeId, fromMs, toMs) => this.chunks.details(nodeId, fromMs, toMs),
    );
  }

  /** Ids of `names`, creating the nodes not seen yet (outside the batch transaction: an empty node row is harmless). */
  private async resolveNodes(names: Iterable<string>): Promise<void> {
    const missing = [...new Set(names)].filter((n) => !this.nodeIds.has(n)).sort();
    if (missing.length === 0) return;
    await this.pool.query('INSERT INTO nodes (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [missing]);
    const { rows } = await this.pool.query<{ id: number; name: string }>('SELECT id, name FROM nodes WHERE name = ANY($1::text[])', [missing]);
    for (const r of rows) this.nodeIds.set(r.name, r.id);
  }

  private async nodeId(name: string): Promise<number> {
    await this.resolveNodes([name]);
    return this.nodeIds.get(name)!;
  }

  private async resolveBoots(pairs: { nodeId: number; boot: string }[]): Promise<void> {
    const missing = new Map<string, { nodeId: number; boot: string }>();
    for (const p of pairs) {
      const key = `${p.nodeId} ${p.boot}`;
      if (!this.bootIds.has(key)) missing.set(key, p);
    }
    if (missing.size === 0) return;
    const nodeIds = [...missing.values()].map((p) => p.nodeId);
    const boots = [...missing.values()].map((p) => p.boot);
    await this.pool.query('INSERT INTO boots (node_id, boot) SELECT * FROM unnest($1::int[], $2::text[]) ON CONFLICT DO NOTHING', [nodeIds, boots]);
    const { rows } = await this.pool.query<{ id: number; node_id: number; boot: string }>(
      'SELECT b.id, b.node_id, b.boot FROM boots b JOIN unnest($1::int[], $2::text[]) AS u(node_id, boot) USING (node_id, boot)',
      [nodeIds, boots],
    );
    for (const r of rows) this.bootIds.set(`${r.node_id} ${r.boot}`, r.id);
  }

  /** The partitions for `days`, plus today and tomorrow so that live samples find theirs ready. */
  private async ensurePartitions(days: Iterable<number>): Promise<void> {
    if (this.partitioning !== 'native') return;
    const today = dayOf(this.now());
    const wanted = new Set([...days, today, today + DAY_MS]);
    const missing = [...wanted].filter((d) => !this.partitionDays.has(d)).sort((a, b) => a - b);
    if (missing.length === 0) return;
    await createPartitions(this.pool, missing);
    for (const d of missing) this.partitionDays.add(d);
  }

  /**
   * Stores a batch in one transaction. `within` runs inside it, after the samples, while the
   * batch's node rows are locked (the ack watermarks are moved there), with each sample's boot id.
   */
  async insertBatch(batch: IncomingSample[], within?: (client: PoolClient, bootIds: number[]) => Promise<void>): Promise<InsertResult> {
    const samples = PackedSamples.pack(batch);
    const result = await this.insertPacked(samples, within);
    return { inserted: result.inserted, duplicates: result.duplicates + batch.length - samples.length }; // copies within the batch
  }

  /** insertBatch, from the flat arrays ingest builds as samples arrive (hub/storage/packed-samples.ts). */
  async insertPacked(samples: PackedSamples, within?: (client: PoolClient, bootIds: number[]) => Promise<void>): Promise<InsertResult> {
    const n = samples.length;
    if (n === 0) return { inserted: 0, duplicates: 0 };
    const rows = Array.from({ length: n }, (_, i) => i);
    await this.resolveNodes(rows.map((i) => samples.node(i)));
    await this.resolveBoots(rows.map((i) => ({ nodeId: this.nodeIds.get(samples.node(i))!, boot: samples.boot(i) })));
    await this.ensurePartitions(rows.map((i) => dayOf(samples.tsMs(i))));

    const nodeCol = rows.map((i) => this.nodeIds.get(samples.node(i))!);
    const bootCol = rows.map((i) => this.bootIds.get(`${nodeCol[i]} ${samples.boot(i)}`)!);
    // Column arrays for unnest(): one array per column, rows in batch order. A batch holds one copy
    // of each sample (hub/storage/packed-samples.ts); copies stored before are found under the node locks, below.
    const tsCol = rows.map((i) => samples.tsMs(i));
    const seqCol = rows.map((i) => samples.seq(i));
    const metricCols = PACKED_INDEX.map((c) => rows.map((i) => samples.column(i, c)));
    const detailCol = rows.map((i) => samples.detail(i));

    const result = await this.transaction(async (client) => {
      // The samples first, in key order: hubs storing different seqs of the same nodes insert side
      // by side, and two inserting the same sample wait on that one row, never in a cycle.
      const { rows: inserted } = await client.query<InsertedRow>({
        name: 'rm_insert_samples',
        text: INSERT_SAMPLES_SQL,
        values: [nodeCol, bootCol, tsCol, seqCol, ...metricCols, detailCol],
      });
      // Then the batch's node rows, locked in id order: the short part that checks identities and
      // updates each node's latest and its ack watermark, which hubs take turns at until their commits.
      const nodeIds = [...new Set(nodeCol)].sort((a, b) => a - b);
      const { rows: locked } = await client.query<{ id: number; retired_ms: number | null }>({
        name: 'rm_lock_nodes',
        text: 'SELECT id, retired_ms FROM nodes WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE',
        values: [nodeIds],
      });
      const admitted = await this.dropRetired(client, locked, inserted, samples, nodeCol, bootCol);
      const stored = await this.keepFirstCopies(client, admitted);
      // A late sample for a compacted hour: the hour becomes rows again, under the node locks that
      // compaction takes too, so that the rollups and labelled series rebuilt from it see it whole.
      const lateBefore = this.now() - LATE_AFTER_MS;
      const late = new Map<string, [number, number]>();
      for (const r of inserted) {
        if (r.ts_ms < lateBefore && stored.has(`${r.boot_id} ${r.seq}`)) late.set(`${r.node_id} ${windowOf(r.ts_ms)}`, [r.node_id, windowOf(r.ts_ms)]);
      }
      if (late.size > 0) await this.chunks.expand(client, [...late.values()]);

      const latest: { id: number; seenMs: number; raw: Uint8Array; skewMs: number | null }[] = [];
      const withProcesses: [number, Uint8Array][] = [];
      for (const { row, kinds, raw } of samples.latestRecords()) {
        if (!stored.has(`${bootCol[row]} ${seqCol[row]}`)) continue; // a duplicate changes nothing
        if (kinds & LATEST) latest.push({ id: nodeCol[row]!, seenMs: samples.seenMs(row), raw, skewMs: samples.clockSkewMs(row) });
        if (kinds & LATEST_PROCESSES) withProcesses.push([nodeCol[row]!, raw]);
      }
      latest.sort((a, b) => a.id - b.id);
      withProcesses.sort(([a], [b]) => a - b);
      await client.query({
        name: 'rm_latest',
        // A replayed sample (no skew) leaves the node's last measured clock skew.
        text: `UPDATE nodes SET last_seen_ms = u.seen, latest = u.raw, stored_ms = $5, clock_skew_ms = coalesce(u.skew, nodes.clock_skew_ms)
               FROM unnest($1::int[], $2::bigint[], $3::bytea[], $4::bigint[]) AS u(id, seen, raw, skew)
               WHERE nodes.id = u.id AND (nodes.last_seen_ms IS NULL OR nodes.last_seen_ms <= u.seen)`,
        values: [latest.map((l) => l.id), latest.map((l) => l.seenMs), latest.map((l) => l.raw), latest.map((l) => l.skewMs), this.now()],
      });
      if (withProcesses.length > 0) {
        await client.query({
          name: 'rm_latest_processes',
          text: 'UPDATE nodes SET latest_processes = u.raw FROM unnest($1::int[], $2::bytea[]) AS u(id, raw) WHERE nodes.id = u.id',
          values: [withProcesses.map(([id]) => id), withProcesses.map(([, raw]) => raw)],
        });
      }
      // The minutes whose labelled buckets the next rollup run rebuilds, under the node locks (hub/storage/postgres/pg-labelled.ts).
      const marks = PgLabelled.marks(inserted.filter((r) => stored.has(`${r.boot_id} ${r.seq}`)));
      if (marks[0].length > 0) await client.query({ ...MARK_LABELLED_SQL, values: marks });
      await within?.(client, bootCol);
      // For deriveRollups(). Only when it moves the mark back: most batches then leave the one row
      // that every hub shares untouched (and unlocked); last, so that a lock on it is brief.
      let oldest = Infinity;
      for (const r of inserted) if (stored.has(`${r.boot_id} ${r.seq}`)) oldest = Math.min(oldest, r.ts_ms);
      if (oldest !== Infinity) {
        await client.query({
          name: 'rm_mark_dirty',
          text: 'UPDATE rollup_state SET dirty_from_ms = $1 WHERE dirty_from_ms IS NULL OR dirty_from_ms > $1',
          values: [oldest],
        });
      }
      return { inserted: stored.size, duplicates: n - stored.size };
    }).catch(async (err: Error & { code?: string }) => {
      // 23514: no partition for a row: another hub dropped a day this one still believed in.
      if (err.code === '23514') this.partitionDays.clear();
      throw err;
    });
    return result;
  }

  /**
   * Of the rows this transaction inserted, deletes those of removed nodes (hub/storage/store.ts,
   * REMOVAL_GRACE_MS) and returns the others; a node with a sample taken past the grace comes back.
   * Under the batch's node locks, so a removal is either before the batch or after it.
   */
  private async dropRetired(
    client: PoolClient,
    locked: readonly { id: number; retired_ms: number | null }[],
    inserted: readonly InsertedRow[],
    samples: PackedSamples,
    nodeCol: readonly number[],
    bootCol: readonly number[],
  ): Promise<readonly InsertedRow[]> {
    const retired = new Map<number, number>();
    for (const r of locked) if (r.retired_ms !== null) retired.set(r.id, r.retired_ms);
    if (retired.size === 0) return inserted;
    const dropped = new Set<string>();
    const revived = new Set<number>();
    for (let row = 0; row < samples.length; row++) {
      const retiredMs = retired.get(nodeCol[row]!);
      if (retiredMs === undefined) continue;
      if (samples.seenMs(row) <= retiredMs + REMOVAL_GRACE_MS) dropped.add(`${bootCol[row]} ${samples.seq(row)} ${samples.tsMs(row)}`);
      else revived.add(nodeCol[row]!);
    }
    if (revived.size > 0) await client.query('UPDATE nodes SET retired_ms = NULL WHERE id = ANY($1::int[])', [[...revived]]);
    const drop = inserted.filter((r) => dropped.has(`${r.boot_id} ${r.seq} ${r.ts_ms}`));
    if (drop.length === 0) return inserted;
    await client.query({
      name: 'rm_delete_copies',
      text: 'DELETE FROM samples WHERE (node_id, ts_ms, boot_id, seq) IN (SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[], $4::bigint[]))',
      values: [drop.map((r) => r.node_id), drop.map((r) => r.ts_ms), drop.map((r) => r.boot_id), drop.map((r) => r.seq)],
    });
    return inserted.filter((r) => !dropped.has(`${r.boot_id} ${r.seq} ${r.ts_ms}`));
  }

  /**
   * Of the rows this transaction inserted, deletes those whose (boot, seq) was stored before
   * under another time (the key holds ts_ms, so the insert let them in), and records the rest in
   * sample_seqs. Runs under the batch's node locks: a hub storing the same sample at once waits
   * here for the other's commit, then finds its seq. Returns the rows kept, as "boot seq".
   */
  private async keepFirstCopies(client: PoolClient, inserted: readonly InsertedRow[]): Promise<Set<string>> {
    const kept = new Set<string>();
    if (inserted.length === 0) return kept;
    const bootIds = [...new Set(inserted.map((r) => r.boot_id))].sort((a, b) => a - b);
    const { rows } = await client.query<{ boot_id: number; next_seq: number; above: string[] }>({
      name: 'rm_load_seqs',
      text: 'SELECT boot_id, next_seq, above FROM sample_seqs WHERE boot_id = ANY($1::int[])',
      values: [bootIds],
    });
    // bigint[] comes as strings; every seq is below 2^53 (the wire caps uints there).
    const seqs = new Map<number, StoredSeqs>(bootIds.map((id) => [id, { next: 0, above: [] }]));
    for (const r of rows) seqs.set(r.boot_id, storedSeqsOf(r.next_seq, pairs(r.above.map(Number))));
    const copies = inserted.filter((r) => holdsSeq(seqs.get(r.boot_id)!, r.seq));
    if (copies.length > 0) {
      await client.query({
        name: 'rm_delete_copies',
        text: 'DELETE FROM samples WHERE (node_id, ts_ms, boot_id, seq) IN (SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[], $4::bigint[]))',
        values: [copies.map((r) => r.node_id), copies.map((r) => r.ts_ms), copies.map((r) => r.boot_id), copies.map((r) => r.seq)],
      });
    }
    for (const r of inserted) {
      const boot = seqs.get(r.boot_id)!;
      if (holdsSeq(boot, r.seq)) continue;
      addStoredSeq(boot, r.seq);
      kept.add(`${r.boot_id} ${r.seq}`);
    }
    await client.query({
      name: 'rm_save_seqs',
      text: `INSERT INTO sample_seqs (boot_id, next_seq, above) SELECT u.id, u.next, u.above::bigint[] FROM unnest($1::int[], $2::bigint[], $3::text[]) AS u(id, next, above)
             ON CONFLICT (boot_id) DO UPDATE SET next_seq = excluded.next_seq, above = excluded.above`,
      values: [bootIds, bootIds.map((id) => seqs.get(id)!.next), bootIds.map((id) => `{${seqs.get(id)!.above.flat().join(',')}}`)],
    });
    return kept;
  }

  /**
   * Runs `work` in a transaction holding the row lock of `node` (as a batch of its samples does),
   * with the ids of the node and of `boot`.
   */
  async withNodeLocked<T>(node: string, boot: string, work: (client: PoolClient, ids: { nodeId: number; bootId: number }) => Promise<T>): Promise<T> {
    const nodeId = await this.nodeId(node);
    await this.resolveBoots([{ nodeId, boot }]);
    const bootId = this.bootIds.get(`${nodeId} ${boot}`)!;
    return this.transaction(async (client) => {
      await client.query('SELECT 1 FROM nodes WHERE id = $1 FOR UPDATE', [nodeId]);
      return work(client, { nodeId, bootId });
    });
  }

  /** One transaction, run again (a bounded number of times) after a deadlock or serialization failure. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.pool, work);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !RETRYABLE.has((err as { code?: string }).code ?? '')) throw err;
      }
    }
  }

  async setStatus(node: string, status: NodeStatus, atMs: number): Promise<void> {
    await this.pool.query('UPDATE nodes SET status = $1, status_ms = $2 WHERE id = $3', [status, atMs, await this.nodeId(node)]);
  }

  async setInfo(node: string, raw: Uint8Array): Promise<void> {
    await this.pool.query('UPDATE nodes SET info = $1 WHERE id = $2', [raw, await this.nodeId(node)]);
  }

  /**
   * Nodes whose newest sample was stored, or whose status arrived, after `sinceMs` (the hubs'
   * clocks): their raw newest sample and newest sample with process lists, for a feed of the
   * whole fleet (hub/storage/postgres/pg-fleet-feed.ts).
   */
  async changedNodes(sinceMs: number): Promise<ChangedNode[]> {
    const { rows } = await this.pool.query<ChangedNode>(
      'SELECT name, status, clock_skew_ms, latest, latest_processes FROM nodes WHERE (stored_ms > $1 OR status_ms > $1) AND retired_ms IS NULL',
      [sinceMs],
    );
    return rows;
  }

  async setHubTags(node: string, tags: readonly string[]): Promise<void> {
    await this.pool.query('UPDATE nodes SET hub_tags = $1 WHERE id = $2', [hubTagsColumn(tags), await this.nodeId(node)]);
  }

  /** The decoded summaries of the last list, reused for nodes whose stored bytes did not change. */
  private readonly summaries = new NodeSummaries();

  async listNodes(): Promise<NodeSummary[]> {
    const { rows } = await this.pool.query<NodeRow>(LISTED_NODES_SQL);
    return this.summaries.list(rows);
  }

  /** The fleet page's parts of the last list, reused as the summaries are. */
  private readonly fleetSummaries = new FleetSummaries();

  async listFleetNodes(pause: () => Promise<void>): Promise<FleetNodeSummary[]> {
    const { rows } = await this.pool.query<NodeRow>(LISTED_NODES_SQL);
    return this.fleetSummaries.list(rows, pause);
  }

  async nodeDetail(node: string): Promise<NodeDetailResponse | null> {
    const { rows } = await this.pool.query<NodeRow>('SELECT * FROM nodes WHERE name = $1 AND retired_ms IS NULL', [node]);
    return rows[0] ? nodeDetailOf(rows[0]) : null;
  }

  /**
   * Marks the node removed, under its row lock (a batch of its samples is stored wholly before or
   * after), with `purge` forgetting its latest records, stored seqs, ack watermarks and gaps in the
   * same transaction; then with `purge` deletes its samples a day at a time and its rollups a tier
   * at a time, `pause` between steps. Its boots stay (a few bytes each; other hubs may have them cached).
   */
  async removeNode(node: string, { purge, atMs }: RemoveNodeOptions, pause: () => Promise<void>): Promise<RemovedNode | null> {
    const id = await this.existingNodeId(node);
    if (id === null) return null;
    await this.transaction(async (client) => {
      await client.query('SELECT 1 FROM nodes WHERE id = $1 FOR UPDATE', [id]);
      await client.query('UPDATE nodes SET retired_ms = $1 WHERE id = $2', [atMs, id]);
      if (!purge) return;
      await client.query(
        "UPDATE nodes SET status = 'unknown', status_ms = NULL, last_seen_ms = NULL, clock_skew_ms = NULL, info = NULL, latest = NULL, latest_processes = NULL, hub_tags = NULL WHERE id = $1",
        [id],
      );
      for (const table of ['sample_seqs', 'ack_watermarks', 'sample_gaps']) {
        await client.query(`DELETE FROM ${table} WHERE boot_id IN (SELECT id FROM boots WHERE node_id = $1)`, [id]);
      }
    });
    if (!purge) return { deleted: 0 };
    let deleted = 0;
    const { rows } = await this.pool.query<{ first: number | null; last: number | null }>(
      'SELECT min(ts_ms) AS first, max(ts_ms) AS last FROM samples WHERE node_id = $1',
      [id],
    );
    const { first, last } = rows[0] ?? { first: null, last: null };
    if (first !== null && last !== null) {
      for (let day = dayOf(first); day <= last; day += DAY_MS) {
        const res = await this.pool.query('DELETE FROM samples WHERE node_id = $1 AND ts_ms >= $2 AND ts_ms < $3', [id, day, day + DAY_MS]);
        deleted += res.rowCount ?? 0;
        await pause();
      }
    }
    for (const tier of TIERS) {
      const res = await this.pool.query('DELETE FROM rollups WHERE tier = $1 AND node_id = $2', [tier.seconds, id]);
      deleted += res.rowCount ?? 0;
      await pause();
    }
    deleted += await this.chunks.purgeNode(id, pause);
    deleted += await this.labelled.purgeNode(id, pause);
    return { deleted };
  }

  private async existingNodeId(node: string): Promise<number | null> {
    const cached = this.nodeIds.get(node);
    if (cached !== undefined) return cached;
    const { rows } = await this.pool.query<{ id: number }>({ name: 'rm_node_id', text: 'SELECT id FROM nodes WHERE name = $1', values: [node] });
    return rows[0]?.id ?? null;
  }

  /** A labelled metric of a node (hub/storage/postgres/pg-labelled.ts); null for a node never seen. */
  async queryLabelled(node: string, name: string, fromMs: number, toMs: number, points: number): Promise<LabelledSeries | null> {
    const id = await this.existingNodeId(node);
    return id === null ? null : this.labelled.query(id, name, fromMs, toMs, points);
  }

  async querySeries({ node, metrics, fromMs, toMs, maxPoints }: SeriesQuery): Promise<SeriesResponse | null> {
    checkMetrics(metrics);
    const id = await this.existingNodeId(node);
    if (id === null) return null;
    const resolution = chooseResolution(fromMs, toMs, maxPoints, this.now(), this.retention);
    const cols = metrics.length > 0 ? `, ${metrics.join(', ')}` : '';
    let stepMs: number;
    let rows: (number | null)[][];
    if (resolution === 'raw') {
      const { rows: count } = await this.pool.query<{ n: number }>({
        name: 'rm_count',
        text: 'SELECT count(*) AS n FROM samples WHERE node_id = $1 AND ts_ms BETWEEN $2 AND $3',
        values: [id, fromMs, toMs],
      });
      const chunked = await this.chunks.rows(
        id,
        fromMs,
        toMs,
        metrics.map((m) => PACKED_COLUMNS.indexOf(m)),
      );
      // Raw samples when they fit, else averages over buckets of whole seconds.
      stepMs = count[0]!.n + (chunked?.length ?? 0) <= maxPoints ? 0 : Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000;
      rows = chunked
        ? await this.withChunkRows(id, metrics, fromMs, toMs, stepMs, chunked)
        : stepMs === 0
          ? await this.arrayRows(`SELECT ts_ms${cols} FROM samples WHERE node_id = $1 AND ts_ms BETWEEN $2 AND $3 ORDER BY ts_ms`, [id, fromMs, toMs])
          : await this.arrayRows(
              `SELECT ts_ms - ts_ms % $1::bigint AS t${metrics.map((m) => `, avg(${m})::float8`).join('')}
             FROM samples WHERE node_id = $2 AND ts_ms BETWEEN $3 AND $4 GROUP BY t ORDER BY t`,
              [stepMs, id, fromMs, toMs],
            );
    } else {
      const tierMs = tierSeconds(resolution) * 1000;
      stepMs = Math.max(1, Math.ceil((toMs - fromMs) / maxPoints / tierMs)) * tierMs;
      rows = await this.arrayRows(pgRollupSelectSql(metrics), [stepMs, tierMs / 1000, id, fromMs - tierMs + 1, toMs]);
    }
    return seriesResponse(node, metrics, fromMs, toMs, resolution, stepMs, rows);
  }

  /**
   * The raw tier of a range that meets chunks: their rows (each [ts_ms, seq, …metrics]) with the
   * range's rows, as raw points, or (stepMs > 0) averaged by PostgreSQL's avg() over both, so that
   * the means are those the rows gave before they were compacted.
   */
  private async withChunkRows(
    id: number,
    metrics: readonly SeriesMetric[],
    fromMs: number,
    toMs: number,
    stepMs: number,
    chunked: ChunkRow[],
  ): Promise<(number | null)[][]> {
    const cols = metrics.map((m) => `, ${m}`).join('');
    if (stepMs === 0) {
      const recent = await this.arrayRows(`SELECT ts_ms${cols} FROM samples WHERE node_id = $1 AND ts_ms BETWEEN $2 AND $3 ORDER BY ts_ms`, [id, fromMs, toMs]);
      // Stable: of rows with one time, those of chunks (older hours) first.
      return [...chunked.map((r) => [r[0]!, ...r.slice(2)]), ...recent].sort((a, b) => a[0]! - b[0]!);
    }
    const arrays = metrics.map((m, i) => `$${i + 6}::${SAMPLE_COLUMN_TYPES[m]}[]`);
    return this.arrayRows(
      `SELECT ts_ms - ts_ms % $1::bigint AS t${metrics.map((m) => `, avg(${m})::float8`).join('')}
       FROM (SELECT * FROM unnest($5::bigint[]${arrays.map((a) => `, ${a}`).join('')}) AS c(ts_ms${cols})
             UNION ALL SELECT ts_ms${cols} FROM samples WHERE node_id = $2 AND ts_ms BETWEEN $3 AND $4) s
       GROUP BY t ORDER BY t`,
      [stepMs, id, fromMs, toMs, chunked.map((r) => r[0]), ...metrics.map((_, i) => chunked.map((r) => r[2 + i]))],
    );
  }

  private async arrayRows(text: string, values: unknown[]): Promise<(number | null)[][]> {
    return (await this.pool.query<(number | null)[]>({ text, values, rowMode: 'array' })).rows;
  }

  /**
   * Brings the rollups up to date with what was stored since the last run: 1 min buckets from the
   * raw samples, then 15 min and 1 h from the 1 min tier, a slice of nodes per transaction with
   * `pause` between slices; then the labelled series' minute buckets (hub/storage/postgres/pg-labelled.ts). Returns
   * the slices done.
   */
  async deriveRollups(pause: () => Promise<void>, nodesPerSlice = 500): Promise<number> {
    const slices = await this.deriveTiers(pause, nodesPerSlice);
    const now = this.now();
    return slices + (await this.labelled.rebuild(now, alignUp(now - this.retention.raw, 60_000), this.transaction.bind(this), pause));
  }

  private async deriveTiers(pause: () => Promise<void>, nodesPerSlice: number): Promise<number> {
    const { rows } = await this.pool.query<{ from_ms: number | null }>(
      // Takes the dirty mark (with any left by an interrupted run) for a new run.
      `UPDATE rollup_state SET deriving_from_ms = LEAST(dirty_from_ms, deriving_from_ms), dirty_from_ms = NULL
       RETURNING deriving_from_ms AS from_ms`,
    );
    const dirty = rows[0]?.from_ms ?? null;
    if (dirty === null) return 0;
    // Each tier from the start of its bucket that holds the oldest new sample, but never from a
    // bucket whose source rows are (partly) purged: rebuilding it would lose what it holds.
    const now = this.now();
    const minuteFrom = Math.max(alignDown(dirty, 60_000), alignUp(now - this.retention.raw, 60_000));
    const tierFrom = (ms: number) => Math.max(alignDown(dirty, ms), alignUp(now - this.retention['1m'], ms));
    const ids = await this.allNodeIds();
    let slices = 0;
    for (let first = 0; first < ids.length; first += nodesPerSlice) {
      const slice = ids.slice(first, first + nodesPerSlice);
      await this.transaction(async (client) => {
        await client.query(PG_ROLLUP_FROM_RAW_SQL, [slice, minuteFrom]);
        for (const tier of DERIVED_TIERS) {
          const ms = tier.seconds * 1000;
          await client.query(PG_ROLLUP_DERIVE_SQL, [tier.seconds, ms, slice, tierFrom(ms)]);
        }
      });
      slices++;
      await pause();
    }
    await this.pool.query('UPDATE rollup_state SET deriving_from_ms = NULL');
    return slices;
  }

  private async allNodeIds(): Promise<number[]> {
    return (await this.pool.query<{ id: number }>('SELECT id FROM nodes ORDER BY id')).rows.map((r) => r.id);
  }

  /**
   * Drops the raw partitions whose whole day is past the raw retention, and deletes the rollups
   * past each tier's retention (a slice of nodes per statement), awaiting `pause` between steps.
   * Returns the rows removed. Raw rows stay up to a day past their retention (a day goes whole).
   */
  async purgeExpired(pause: () => Promise<void>, nodesPerSlice = 500): Promise<number> {
    const now = this.now();
    const dropped = await dropPartitionsBefore(this.pool, this.partitioning, now - this.retention.raw, pause);
    for (const day of dropped.days) this.partitionDays.delete(day);
    let deleted = dropped.rows + (await this.chunks.purgeBefore(now - this.retention.raw, pause));
    deleted += await this.labelled.purge(now - this.retention['1m'], alignUp(now - this.retention.raw, 60_000), pause);
    const ids = await this.allNodeIds();
    for (let first = 0; first < ids.length; first += nodesPerSlice) {
      for (const tier of TIERS) {
        const res = await this.pool.query('DELETE FROM rollups WHERE tier = $1 AND node_id = ANY($2::int[]) AND bucket_ms < $3', [
          tier.seconds,
          ids.slice(first, first + nodesPerSlice),
          now - this.retention[tier.name],
        ]);
        deleted += res.rowCount ?? 0;
        await pause();
      }
    }
    if (this.compactsRaw) await this.compactRaw(pause);
    return deleted;
  }

  /**
   * Moves raw rows past their first hours into chunks (hub/storage/postgres/pg-chunks.ts), never those of
   * minutes whose rollups or labelled buckets are still to be rebuilt from the rows, nor those that the
   * next purge drops anyway; then empties the partitions that compaction left without rows. Returns
   * the rows moved.
   */
  async compactRaw(pause: () => Promise<void>, budgetMs?: number): Promise<number> {
    const now = this.now();
    const { rows } = await this.pool.query<{ rollups_from: number | null; labelled_from: number | null }>(
      'SELECT LEAST(dirty_from_ms, deriving_from_ms) AS rollups_from, (SELECT min(minute_ms) FROM labelled_dirty) AS labelled_from FROM rollup_state',
    );
    const cutoff = Math.min(now - COMPACT_AFTER_MS, rows[0]?.rollups_from ?? Infinity, rows[0]?.labelled_from ?? Infinity);
    const moved = await this.chunks.compact(Math.ceil((now - this.retention.raw) / CHUNK_MS) * CHUNK_MS, cutoff, pause, budgetMs);
    if (this.partitioning === 'native') {
      const emptied = [...this.partitionDays].filter((day) => day + DAY_MS <= windowOf(cutoff)).sort((a, b) => a - b);
      await truncateEmptyPartitions(this.pool, emptied, pause);
    }
    return moved;
  }

  async samplePage({ node, metrics, fromMs, toMs, after, limit }: SamplePageQuery): Promise<SamplePage | null> {
    checkMetrics(metrics);
    const id = await this.existingNodeId(node);
    if (id === null) return null;
    const cols = metrics.length > 0 ? `, ${metrics.join(', ')}` : '';
    // (ts_ms, seq) order; a row-value comparison resumes exactly after the last row of the page.
    const rows = after
      ? await this.arrayRows(
          `SELECT ts_ms, seq${cols} FROM samples WHERE node_id = $1 AND (ts_ms, seq) > ($2, $3) AND ts_ms <= $4 ORDER BY ts_ms, seq LIMIT $5`,
          [id, after.ts_ms, after.seq, toMs, limit],
        )
      : await this.arrayRows(`SELECT ts_ms, seq${cols} FROM samples WHERE node_id = $1 AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY ts_ms, seq LIMIT $4`, [
          id,
          fromMs,
          toMs,
          limit,
        ]);
    const chunked = await this.chunks.rows(
      id,
      fromMs,
      toMs,
      metrics.map((m) => PACKED_COLUMNS.indexOf(m)),
      { after, limit },
    );
    const all = chunked ? [...chunked, ...rows].sort(byTimeAndSeq).slice(0, limit) : rows;
    const page = all.map((r) => ({ ts_ms: r[0] as number, seq: r[1] as number, values: r.slice(2) }));
    const last = page.at(-1);
    return { rows: page, next: page.length === limit && last ? { ts_ms: last.ts_ms, seq: last.seq } : null };
  }

  async close(): Promise<void> {
    await this.chunks.close();
    await this.pool.end();
  }
}

/** Metric names go into SQL text: only those of SERIES_METRICS, never a request's string verbatim. */
function checkMetrics(metrics: readonly string[]): asserts metrics is SeriesMetric[] {
  for (const m of metrics) if (!(SERIES_METRICS as readonly string[]).includes(m)) throw new TypeError(`unknown metric "${m}"`);
}
