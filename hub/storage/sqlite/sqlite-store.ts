// MetricsStore on SQLite (better-sqlite3): WAL, prepared statements, one transaction per batch.
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../../../shared/logger.ts';
import type { NodeStatus } from '../../../protocol/index.ts';
import type { FleetNodeSummary, NodeDetailResponse, NodeSummary, SeriesMetric, SeriesResponse } from '../../../shared/api-types.ts';
import {
  chooseResolution,
  DEFAULT_RETENTION,
  rollupSelectSql,
  alignDown,
  alignUp,
  rollupDeriveSql,
  rollupFromRawSql,
  rollupMergeSql,
  DERIVED_TIERS,
  tierSeconds,
  TIERS,
  type Retention,
} from '../rollups.ts';
import { LATEST, LATEST_PROCESSES, PackedSamples, SAMPLE_COLUMNS } from '../packed-samples.ts';
import { seriesResponse } from '../series-gaps.ts';
import { addStoredSeq, holdsSeq, storedSeqsOf, type StoredSeqs } from '../stored-seqs.ts';
import { FleetSummaries } from '../fleet-summaries.ts';
import { hubTagsColumn, nodeDetailOf, NodeSummaries, type NodeRecord } from '../node-record.ts';
import {
  REMOVAL_GRACE_MS,
  type IncomingSample,
  type InsertResult,
  type MetricsStore,
  type RemovedNode,
  type RemoveNodeOptions,
  type SamplePage,
  type SamplePageQuery,
  type SeriesQuery,
} from '../store.ts';
import { readSamplePage } from './sqlite-export.ts';
import { averaged, ChunkStore, COMPACT_AFTER_MS } from './chunk-store.ts';
import { RollupChunks } from './rollup-chunks.ts';
import { mergeArgs, MinuteSums } from '../minute-sums.ts';
import { prepareDirectory } from '../../../shared/data-dir.ts';
import { databaseError, openDatabase } from '../../../shared/sqlite-open.ts';
import { migrateSqlite } from './sqlite-schema.ts';
import { LabelledRollups, type LabelledSeries } from './labelled-rollups.ts';
import { minuteList, MINUTE_MS, NODE_MINUTES_SQL, NODE_RANGE_SQL } from './sample-minutes.ts';

interface NodeRow {
  id: number;
  name: string;
  status: string;
  last_seen_ms: number | null;
  clock_skew_ms: number | null;
  info: Buffer | null;
  latest: Buffer | null;
  latest_processes: Buffer | null;
  /** When it was removed (hub/storage/store.ts, removeNode), or null. */
  retired_ms: number | null;
  hub_tags: string | null;
}

/** A boot's stored seqs (hub/storage/stored-seqs.ts), with the row they are kept in. */
interface BootSeqs extends StoredSeqs {
  nodeId: number;
  boot: string;
}

export interface SqliteStoreOptions {
  retention?: Retention;
  /** Injected so tests control time (tier choice and purges depend on it). */
  now?: () => number;
  /** Told of each migration of an existing database: one that rewrites a large table takes minutes. */
  log?: Pick<Logger, 'info'>;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (path !== ':memory:') prepareDirectory(dirname(path), "the database's directory");
  const db = openDatabase(path);
  try {
    // FULL: in WAL mode every commit is fsynced before it returns. Agents free their spool when the hub
    // acks (after the commit), so an acked batch must survive a power cut, not just a crash; NORMAL
    // could lose the last commits. The cost is one fsync per batch (every 300 ms, hub/ingest/ingest.ts), not per sample.
    db.pragma('synchronous = FULL');
    // Checkpoint when the WAL passes ~40 MiB, not SQLite's 4 MiB: a batch of samples from 1,000 nodes
    // dirties some 2,000 pages, so the default checkpointed after every commit, copying each page
    // back to the database each time. Ten times the threshold copies a page once per several commits
    // (the writer thread's CPU per sample fell 9 % in bench/hub-stages.ts).
    db.pragma('wal_autocheckpoint = 10000');
    // After a checkpoint the WAL file is cut back to this size, so its disk use stays bounded.
    db.pragma('journal_size_limit = 67108864');
    // Samples of many nodes land on as many B-tree pages at once: keep them in memory (64 MiB).
    db.pragma('cache_size = -65536');
    migrateSqlite(db, options.log);
    return new SqliteStore(db, options);
  } catch (err) {
    db.close();
    throw databaseError(path, err);
  }
}

// Past this many minute buckets in memory (about 60 MiB) the sums are dropped and the next rollup
// run rebuilds from the raw rows: runs that keep failing must not grow the hub without bound.
const MAX_MINUTE_BUCKETS = 100_000;

// Raw rows a purge transaction deletes at most, so that each holds up the writer's thread only briefly.
const PURGE_ROWS = 5_000;

// Chunks (a node's hour each) a transaction of a purge deletes at most.
const PURGE_CHUNKS = 500;

// Minutes of samples a transaction of a node's purge deletes at most (an index seek each).
const PURGE_MINUTES = 60;

// Boots whose stored seqs are kept in memory at most (a node sending ever new boot ids must not grow
// the hub): past it they are read from sample_seqs again as needed.
const MAX_CACHED_BOOTS = 100_000;

/** A batch's stored rows, summed into the minute buckets once its transaction has committed. */
interface StagedRows {
  samples: PackedSamples;
  rows: number[];
  nodeIds: number[];
}

export class SqliteStore implements MetricsStore {
  private readonly nodeIds = new Map<string, number>();
  /** By node id, then boot: the seqs stored, read from sample_seqs when first needed. */
  private readonly storedSeqs = new Map<number, Map<string, BootSeqs>>();
  private cachedBoots = 0;
  /** The 1 min rollups of what was stored since the last rollup run (hub/storage/minute-sums.ts). */
  private readonly minutes = new MinuteSums();
  /** Labelled series' minute buckets, rebuilt from the samples' details (hub/storage/sqlite/labelled-rollups.ts). */
  readonly labelled: LabelledRollups;
  private staged: StagedRows | null = null;
  /**
   * The next rollup run reads the raw rows back instead of merging the sums: when this process
   * starts with a run left undone (the sums died with the last one), or after the sums were lost.
   */
  private rebuildFromRaw: boolean;
  private readonly seriesStatements = new Map<string, Database.Statement>();
  /** Removed nodes by id, with when (their samples are dropped: hub/storage/store.ts, REMOVAL_GRACE_MS). */
  private readonly retired = new Map<number, number>();
  private readonly stmt;
  /** Raw samples past their first hours, compressed (hub/storage/sqlite/chunk-store.ts). */
  readonly chunks: ChunkStore;
  /** Rollup buckets of finished windows, compressed (hub/storage/sqlite/rollup-chunks.ts). */
  readonly rollupChunks: RollupChunks;

  readonly retention: Retention;
  private readonly now: () => number;

  constructor(
    readonly db: Database.Database,
    options: SqliteStoreOptions = {},
  ) {
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.now = options.now ?? Date.now;
    this.chunks = new ChunkStore(db);
    this.rollupChunks = new RollupChunks(db, (nodeId, fromMs, toMs, chunkColumns) =>
      chunkColumns ? this.chunks.columnParts(nodeId, fromMs, toMs, chunkColumns) : this.chunks.parts(nodeId, fromMs, toMs),
    );
    this.labelled = new LabelledRollups(db, this.chunks, (nodeId, limit) =>
      options.log?.info(
        { nodeId, limit },
        'a node sent more labelled series in a minute than are bucketed: the rest stay in its raw samples only (a label that changes every sample?)',
      ),
    );
    this.stmt = {
      fromRaw: db.prepare(rollupFromRawSql()),
      merge: db.prepare(rollupMergeSql()),
      derive: db.prepare(rollupDeriveSql()),
      markDirty: db.prepare('UPDATE rollup_state SET dirty_from_ms = min(coalesce(dirty_from_ms, ?), ?)'),
      // Takes the dirty mark (with any left by an interrupted run) for a new run.
      takeDirty: db.prepare<[], { from_ms: number | null }>(
        `UPDATE rollup_state SET deriving_from_ms = coalesce(min(dirty_from_ms, deriving_from_ms), dirty_from_ms, deriving_from_ms),
           dirty_from_ms = NULL RETURNING deriving_from_ms AS from_ms`,
      ),
      doneDeriving: db.prepare('UPDATE rollup_state SET deriving_from_ms = NULL'),
      addNode: db.prepare('INSERT INTO nodes (name) VALUES (?) ON CONFLICT(name) DO NOTHING'),
      nodeId: db.prepare<[string], { id: number }>('SELECT id FROM nodes WHERE name = ?'),
      insert: db.prepare(
        `INSERT OR IGNORE INTO samples (node_id, ts_ms, seq, boot, ${SAMPLE_COLUMNS.join(', ')}, detail)
         VALUES (?, ?, ?, ?, ${SAMPLE_COLUMNS.map(() => '?').join(', ')}, ?)`,
      ),
      // Binds (seen, raw, clock skew or null, id, seen); a replayed sample (no skew) leaves the last one measured.
      latest: db.prepare(
        'UPDATE nodes SET last_seen_ms = ?, latest = ?, clock_skew_ms = coalesce(?, clock_skew_ms) WHERE id = ? AND (last_seen_ms IS NULL OR last_seen_ms <= ?)',
      ),
      loadSeqs: db.prepare<[number, string], { next_seq: number; above: string }>('SELECT next_seq, above FROM sample_seqs WHERE node_id = ? AND boot = ?'),
      saveSeqs: db.prepare(
        `INSERT INTO sample_seqs (node_id, boot, next_seq, above) VALUES (?, ?, ?, ?)
         ON CONFLICT (node_id, boot) DO UPDATE SET next_seq = excluded.next_seq, above = excluded.above`,
      ),
      latestProcesses: db.prepare('UPDATE nodes SET latest_processes = ? WHERE id = ?'),
      status: db.prepare('UPDATE nodes SET status = ?, status_ms = ? WHERE id = ?'),
      info: db.prepare('UPDATE nodes SET info = ? WHERE id = ?'),
      hubTags: db.prepare('UPDATE nodes SET hub_tags = ? WHERE id = ?'),
      // Not latest_processes: a list has no use for it.
      nodes: db.prepare<[], NodeRecord>(
        'SELECT name, status, last_seen_ms, clock_skew_ms, info, latest, hub_tags FROM nodes WHERE retired_ms IS NULL ORDER BY name',
      ),
      retired: db.prepare<[], { id: number; retired_ms: number }>('SELECT id, retired_ms FROM nodes WHERE retired_ms IS NOT NULL'),
      retire: db.prepare('UPDATE nodes SET retired_ms = ? WHERE id = ?'),
      revive: db.prepare('UPDATE nodes SET retired_ms = NULL WHERE id = ?'),
      forgetRecords: db.prepare(
        "UPDATE nodes SET status = 'unknown', status_ms = NULL, last_seen_ms = NULL, clock_skew_ms = NULL, info = NULL, latest = NULL, latest_processes = NULL, hub_tags = NULL WHERE id = ?",
      ),
      forgetSeqs: db.prepare('DELETE FROM sample_seqs WHERE node_id = ?'),
      forgetAcks: db.prepare('DELETE FROM ack_watermarks WHERE node = ?'),
      forgetGaps: db.prepare('DELETE FROM sample_gaps WHERE node = ?'),
      purgeNodeMinutes: db.prepare(`DELETE FROM samples WHERE ${NODE_MINUTES_SQL}`),
      purgeNodeRollups: db.prepare('DELETE FROM rollups WHERE tier = ? AND node_id = ?'),
      node: db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE name = ?'),
      nodeIds: db.prepare<[], { id: number }>('SELECT id FROM nodes'),
      // The oldest minutes first, a bounded number of rows a transaction: binds (minute, limit).
      purgeRaw: db.prepare('DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE ts_ms / 60000 < ? LIMIT ?)'),
      // The first minute from the given one on that holds samples (of any node): an index seek.
      nextMinute: db.prepare<[number], { m: number | null }>('SELECT min(ts_ms / 60000) AS m FROM samples WHERE ts_ms / 60000 >= ?'),
      purgeRollup: db.prepare('DELETE FROM rollups WHERE tier = ? AND node_id = ? AND bucket_ms < ?'),
      count: db.prepare<[string, number, number, number], { n: number }>(`SELECT count(*) AS n FROM samples WHERE ${NODE_RANGE_SQL}`),
    };
    this.loadRetired();
    const marks = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM rollup_state WHERE coalesce(dirty_from_ms, deriving_from_ms) IS NOT NULL');
    this.rebuildFromRaw = marks.get()!.n > 0;
  }

  private loadRetired(): void {
    this.retired.clear();
    for (const r of this.stmt.retired.all()) this.retired.set(r.id, r.retired_ms);
  }

  /** False for a sample of a removed node taken before its removal's grace ended; a later one brings the node back. */
  private admitsSample(nodeId: number, seenMs: number): boolean {
    const retiredMs = this.retired.get(nodeId);
    if (retiredMs === undefined) return true;
    if (seenMs <= retiredMs + REMOVAL_GRACE_MS) return false;
    this.stmt.revive.run(nodeId);
    this.retired.delete(nodeId);
    return true;
  }

  private nodeId(name: string): number {
    let id = this.nodeIds.get(name);
    if (id === undefined) {
      this.stmt.addNode.run(name);
      id = this.stmt.nodeId.get(name)!.id;
      this.nodeIds.set(name, id);
    }
    return id;
  }

  /** The seqs of a node's boot that are stored (cached; the caller mutates them only inside a transaction). */
  private seqsOf(nodeId: number, boot: string): BootSeqs {
    let byBoot = this.storedSeqs.get(nodeId);
    if (!byBoot) this.storedSeqs.set(nodeId, (byBoot = new Map()));
    let seqs = byBoot.get(boot);
    if (!seqs) {
      const row = this.stmt.loadSeqs.get(nodeId, boot);
      seqs = { nodeId, boot, ...(row ? storedSeqsOf(row.next_seq, JSON.parse(row.above) as [number, number][]) : { next: 0, above: [] }) };
      byBoot.set(boot, seqs);
      this.cachedBoots++;
    }
    return seqs;
  }

  insertBatch(batch: IncomingSample[]): InsertResult {
    const samples = PackedSamples.pack(batch);
    const result = this.insertPacked(samples);
    return { inserted: result.inserted, duplicates: result.duplicates + batch.length - samples.length }; // copies within the batch
  }

  /** insertBatch, from the flat arrays ingest hands to the writer's thread (hub/storage/packed-samples.ts). */
  insertPacked(samples: PackedSamples): InsertResult {
    this.sumStaged();
    if (this.cachedBoots > MAX_CACHED_BOOTS) this.forgetStoredSeqs();
    const staged: StagedRows = { samples, rows: [], nodeIds: [] };
    let result: InsertResult;
    try {
      result = this.db
        .transaction((): InsertResult => {
          let inserted = 0;
          let oldestStored = Infinity;
          const stored = new Uint8Array(samples.length);
          const moved = new Set<BootSeqs>();
          // One argument array for every row: no per-sample arrays or spreads (ingest's hot loop).
          const args: unknown[] = new Array(5 + SAMPLE_COLUMNS.length);
          for (let row = 0; row < samples.length; row++) {
            const tsMs = samples.tsMs(row);
            const nodeId = this.nodeId(samples.node(row));
            if (this.retired.size > 0 && !this.admitsSample(nodeId, samples.seenMs(row))) continue;
            const seqs = this.seqsOf(nodeId, samples.boot(row));
            if (holdsSeq(seqs, samples.seq(row))) continue; // a copy of a stored sample, whatever its time
            args[0] = nodeId;
            args[1] = tsMs;
            args[2] = samples.seq(row);
            args[3] = samples.boot(row);
            for (let c = 0; c < SAMPLE_COLUMNS.length; c++) args[4 + c] = samples.column(row, c);
            args[4 + SAMPLE_COLUMNS.length] = samples.detail(row);
            // Ignored only by the minute index: the same node, time and seq under another boot id.
            if (this.stmt.insert.run(args).changes === 0) continue;
            inserted++;
            stored[row] = 1;
            addStoredSeq(seqs, samples.seq(row));
            moved.add(seqs);
            oldestStored = Math.min(oldestStored, tsMs); // for deriveRollups()
            staged.rows.push(row);
            staged.nodeIds.push(nodeId);
          }
          for (const seqs of moved) this.stmt.saveSeqs.run(seqs.nodeId, seqs.boot, seqs.next, JSON.stringify(seqs.above));
          for (const { row, kinds, raw } of samples.latestRecords()) {
            if (!stored[row]) continue; // a duplicate changes nothing
            const id = this.nodeId(samples.node(row));
            const seenMs = samples.seenMs(row);
            if (kinds & LATEST) this.stmt.latest.run(seenMs, raw, samples.clockSkewMs(row), id, seenMs);
            if (kinds & LATEST_PROCESSES) this.stmt.latestProcesses.run(raw, id);
          }
          if (oldestStored !== Infinity) this.stmt.markDirty.run(oldestStored, oldestStored);
          return { inserted, duplicates: samples.length - inserted };
        })
        .immediate();
    } catch (err) {
      this.rolledBack();
      throw err;
    }
    if (staged.rows.length > 0) this.staged = staged;
    // Alone, the transaction above has committed; inside a caller's, it counts once that one has.
    if (!this.db.inTransaction) this.sumStaged();
    return result;
  }

  /** Adds the last batch's stored rows to the minute sums: its transaction has committed (else rolledBack() was called). */
  private sumStaged(): void {
    const staged = this.staged;
    if (!staged) return;
    this.staged = null;
    for (let k = 0; k < staged.rows.length; k++) this.minutes.add(staged.nodeIds[k]!, staged.samples, staged.rows[k]!);
    if (this.minutes.size > MAX_MINUTE_BUCKETS) {
      this.minutes.clear();
      this.rebuildFromRaw = true;
    }
  }

  /**
   * A transaction that wrote here rolled back (a full disk at commit, say): what this store learned
   * in it is forgotten. Node ids it cached may name rows that are gone (and that the next new node
   * would reuse); sums may count rows that are not there, so the next rollup run reads the rows back.
   * A caller that runs insertPacked inside its own transaction calls this when that fails.
   */
  rolledBack(): void {
    this.nodeIds.clear();
    this.loadRetired(); // a node brought back in it is retired again
    this.forgetStoredSeqs(); // moved inside the transaction: read again from what was committed
    this.staged = null;
    this.minutes.clear();
    this.rebuildFromRaw = true;
  }

  private forgetStoredSeqs(): void {
    this.storedSeqs.clear();
    this.cachedBoots = 0;
  }

  setStatus(node: string, status: NodeStatus, atMs: number): void {
    this.stmt.status.run(status, atMs, this.nodeId(node));
  }

  setInfo(node: string, raw: Uint8Array): void {
    this.stmt.info.run(raw, this.nodeId(node));
  }

  setHubTags(node: string, tags: readonly string[]): void {
    this.stmt.hubTags.run(hubTagsColumn(tags), this.nodeId(node));
  }

  /** The decoded summaries of the last list, reused for nodes whose stored bytes did not change. */
  private readonly summaries = new NodeSummaries();

  listNodes(): NodeSummary[] {
    return this.summaries.list(this.stmt.nodes.all());
  }

  /** The fleet page's parts of the last list, reused as the summaries are. */
  private readonly fleetSummaries = new FleetSummaries();

  listFleetNodes(pause: () => Promise<void>): Promise<FleetNodeSummary[]> {
    return this.fleetSummaries.list(this.stmt.nodes.all(), pause);
  }

  nodeDetail(node: string): NodeDetailResponse | null {
    const row = this.stmt.node.get(node);
    return row && row.retired_ms === null ? nodeDetailOf(row) : null;
  }

  /**
   * Marks the node removed in one short transaction (with `purge`, its latest records, stored seqs,
   * ack watermarks and gaps go in it too), then with `purge` deletes its samples a few minutes of
   * them at a time, its rollups a tier at a time, and its process history and alarm records
   * (purgeLocalNode), with `pause` between steps. On the hub it runs on the writer's thread, so no
   * batch is written meanwhile, and a batch written between its steps drops the node's samples.
   */
  async removeNode(node: string, { purge, atMs }: RemoveNodeOptions, pause: () => Promise<void>): Promise<RemovedNode | null> {
    const row = this.stmt.node.get(node);
    if (!row) return null;
    const id = row.id;
    this.db
      .transaction(() => {
        this.stmt.retire.run(atMs, id);
        if (!purge) return;
        this.stmt.forgetRecords.run(id);
        this.stmt.forgetSeqs.run(id);
        this.stmt.forgetAcks.run(node);
        this.stmt.forgetGaps.run(node);
      })
      .immediate();
    this.retired.set(id, atMs);
    if (!purge) return { deleted: 0 };
    const boots = this.storedSeqs.get(id);
    this.cachedBoots -= boots?.size ?? 0;
    this.storedSeqs.delete(id);
    this.minutes.take(id); // sums not yet rolled up would bring its rollups back
    let deleted = 0;
    // Rollups first: restated 1 min windows read the raw samples they name.
    for (const tier of TIERS) {
      deleted += this.stmt.purgeNodeRollups.run(tier.seconds, id).changes + this.rollupChunks.purgeNode(id, tier.seconds);
      await pause();
    }
    const minutes = JSON.parse(this.minutesHoldingSamples(0)) as number[];
    for (let first = 0; first < minutes.length; first += PURGE_MINUTES) {
      deleted += this.stmt.purgeNodeMinutes.run(JSON.stringify(minutes.slice(first, first + PURGE_MINUTES)), id).changes;
      await pause();
    }
    for (let n = PURGE_CHUNKS; n === PURGE_CHUNKS; await pause()) {
      const purged = this.chunks.purgeNode(id, PURGE_CHUNKS);
      n = purged.chunks;
      deleted += purged.samples;
    }
    deleted += this.labelled.purge(id);
    deleted += await this.purgeLocalNode(node, pause);
    this.db.pragma('wal_checkpoint(PASSIVE)');
    return { deleted };
  }

  /**
   * Deletes a removed node's process history and alarm records (transitions, acks, silences of it
   * alone) from this file, PURGE_ROWS at a time with `pause` between. Beside a PostgreSQL store they
   * are kept here, in the hub's own SQLite file. Sessions are kept: each is a record of its own.
   */
  async purgeLocalNode(node: string, pause: () => Promise<void>): Promise<number> {
    let deleted = 0;
    for (const table of ['process_lists', 'alarm_transitions', 'alarm_acks', 'alarm_silences']) {
      if (!this.hasTable(table)) continue; // the alarm tables are made by the alarm engine's store
      const purge = this.db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE node = ? LIMIT ?)`);
      for (let n = PURGE_ROWS; n === PURGE_ROWS; await pause()) {
        n = purge.run(node, PURGE_ROWS).changes;
        deleted += n;
      }
    }
    return deleted;
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /** A labelled metric of a node (hub/storage/sqlite/labelled-rollups.ts); null for a node never seen. */
  queryLabelled(node: string, name: string, fromMs: number, toMs: number, points: number): LabelledSeries | null {
    const row = this.stmt.nodeId.get(node);
    return row ? this.labelled.query(row.id, name, fromMs, toMs, points) : null;
  }

  querySeries({ node, metrics, fromMs, toMs, maxPoints }: SeriesQuery): SeriesResponse | null {
    const row = this.stmt.nodeId.get(node);
    if (!row) return null;
    const resolution = chooseResolution(fromMs, toMs, maxPoints, this.now(), this.retention);
    let stepMs: number;
    let rows: (number | null)[][];
    if (resolution === 'raw' && this.chunks.holds(row.id, fromMs, toMs)) {
      // Some of the range is compacted: its rows and chunks read into one list (at most maxPoints
      // minutes' worth, the raw tier's bound), then bucketed as the SQL below buckets.
      const columns = metrics.map((m) => SAMPLE_COLUMNS.indexOf(m));
      const chunked = this.chunks.rows(row.id, fromMs, toMs, columns).map((r) => [r[0]!, ...r.slice(2)]);
      const recent = this.seriesStatement('raw', metrics).raw().all(minuteList(fromMs, toMs), row.id, fromMs, toMs) as (number | null)[][];
      const all = recent.length > 0 ? [...chunked, ...recent].sort((a, b) => a[0]! - b[0]!) : chunked;
      stepMs = all.length <= maxPoints ? 0 : Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000;
      rows = stepMs === 0 ? all : averaged(all, stepMs);
    } else if (resolution === 'raw') {
      // The raw tier serves steps under a minute, so at most maxPoints minutes.
      const range = [minuteList(fromMs, toMs), row.id, fromMs, toMs] as const;
      const count = this.stmt.count.get(...range)!.n;
      // Raw samples when they fit, else averages over buckets of whole seconds.
      stepMs = count <= maxPoints ? 0 : Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000;
      rows =
        stepMs === 0
          ? (this.seriesStatement('raw', metrics)
              .raw()
              .all(...range) as (number | null)[][])
          : (this.seriesStatement('avg', metrics)
              .raw()
              .all(stepMs, ...range) as (number | null)[][]);
    } else {
      const tierMs = tierSeconds(resolution) * 1000;
      stepMs = Math.max(1, Math.ceil((toMs - fromMs) / maxPoints / tierMs)) * tierMs;
      const range = [row.id, fromMs - tierMs + 1, toMs] as const;
      rows = this.rollupChunks.holds(row.id, tierMs / 1000, range[1], toMs)
        ? this.rollupChunks.means(row.id, tierMs / 1000, stepMs, range[1], toMs, metrics)
        : (this.seriesStatement('rollup', metrics)
            .raw()
            .all(stepMs, tierMs / 1000, ...range) as (number | null)[][]);
    }
    return seriesResponse(node, metrics, fromMs, toMs, resolution, stepMs, rows);
  }

  private seriesStatement(kind: 'raw' | 'avg' | 'rollup', metrics: readonly SeriesMetric[]): Database.Statement {
    const key = `${kind}:${metrics.join(',')}`;
    let stmt = this.seriesStatements.get(key);
    if (!stmt) {
      // Metric names come from SERIES_METRICS (checked by the caller), never from a request verbatim.
      const sql = {
        raw: `SELECT ts_ms, ${metrics.join(', ')} FROM samples WHERE ${NODE_RANGE_SQL} ORDER BY ts_ms`,
        avg: `SELECT ts_ms - (ts_ms % ?) AS t, ${metrics.map((m) => `avg(${m})`).join(', ')}
              FROM samples WHERE ${NODE_RANGE_SQL} GROUP BY t ORDER BY t`,
        rollup: rollupSelectSql(metrics),
      }[kind];
      stmt = this.db.prepare(sql);
      this.seriesStatements.set(key, stmt);
    }
    return stmt;
  }

  /**
   * Brings the rollups up to date with what was stored since the last run: the minute sums merged
   * into the 1 min tier (or, after a restart or a loss, its buckets rebuilt from the raw rows), then
   * 15 min and 1 h from the 1 min tier, node after node, in transactions of at most about
   * `sliceMs` of work with `pause` between them. Returns the slices done.
   * Bounded by time, not by a count of nodes: on the writer's thread every slice holds up the next
   * batch of samples. 500 nodes a slice stopped ingest for 1.6 s once a minute (bench/hub-ingest.ts,
   * p99 latency 3.5 s) when each node's minute was read back from 1,800 raw rows.
   */
  async deriveRollups(pause: () => Promise<void>, sliceMs = 25): Promise<number> {
    this.sumStaged();
    const dirty = this.stmt.takeDirty.get()!.from_ms;
    if (dirty === null) return 0;
    // From raw: each tier from the start of its bucket that holds the oldest new sample, but never
    // from a bucket whose source rows are (partly) purged: rebuilding it would lose what it holds.
    const now = this.now();
    const rebuild = this.rebuildFromRaw;
    this.rebuildFromRaw = false;
    const minuteFrom = Math.max(alignDown(dirty, 60_000), alignUp(now - this.retention.raw, 60_000));
    const tierFrom = (oldestMs: number, ms: number) => Math.max(alignDown(oldestMs, ms), alignUp(now - this.retention['1m'], ms));
    const ids = rebuild ? this.stmt.nodeIds.all().map((r) => r.id) : this.minutes.nodes();
    let slices = 0;
    for (let next = 0; next < ids.length; ) {
      const sliceEnd = performance.now() + sliceMs;
      try {
        this.db
          .transaction(() => {
            // Listed in each slice's transaction: rows stored between slices may open a new minute.
            const rawMinutes = rebuild ? this.minutesHoldingSamples(minuteFrom) : '[]';
            do {
              const id = ids[next++]!;
              const sums = this.minutes.take(id);
              this.expandCompacted(id, sums, rebuild ? minuteFrom : null, rebuild ? dirty : Infinity, tierFrom);
              let oldest = rebuild ? dirty : Infinity;
              if (rebuild) {
                this.stmt.fromRaw.run(rawMinutes, id);
                this.chunks.rebuildMinutes(id, minuteFrom);
              }
              const labelledMinutes: number[] = rebuild ? (JSON.parse(rawMinutes) as number[]) : [];
              // Sums of minutes a rebuild covers are in the raw rows it read; older ones are merged.
              for (const [bucketMs, bucket] of sums) {
                if (rebuild && bucketMs >= minuteFrom) continue;
                this.stmt.merge.run(mergeArgs(id, bucketMs, bucket));
                labelledMinutes.push(bucketMs / MINUTE_MS);
                oldest = Math.min(oldest, bucketMs);
              }
              this.labelled.rebuild(id, labelledMinutes);
              if (oldest === Infinity) continue;
              for (const tier of DERIVED_TIERS) {
                const ms = tier.seconds * 1000;
                this.stmt.derive.run(tier.seconds, ms, id, tierFrom(oldest, ms));
              }
            } while (next < ids.length && performance.now() < sliceEnd);
          })
          .immediate();
      } catch (err) {
        // The sums taken in the failed slice are gone: the next run reads the raw rows back.
        this.rebuildFromRaw = true;
        throw err;
      }
      slices++;
      await pause();
    }
    this.stmt.doneDeriving.run();
    return slices;
  }

  /**
   * Moves back into rows the node's compacted rollup windows (hub/storage/sqlite/rollup-chunks.ts) that this run
   * writes into (the merged sums' minutes, a rebuild's from `rebuildFrom` on) or derives the coarser
   * tiers from: the SQL below merges and derives on rows.
   */
  private expandCompacted(
    nodeId: number,
    sums: ReadonlyMap<number, unknown>,
    rebuildFrom: number | null,
    oldest: number,
    tierFrom: (oldestMs: number, ms: number) => number,
  ): void {
    let written = rebuildFrom ?? Infinity;
    for (const bucketMs of sums.keys()) if (rebuildFrom === null || bucketMs < rebuildFrom) written = Math.min(written, bucketMs);
    oldest = Math.min(oldest, written);
    if (oldest === Infinity) return;
    let from = written;
    for (const tier of DERIVED_TIERS) from = Math.min(from, tierFrom(oldest, tier.seconds * 1000));
    this.rollupChunks.expandFrom(nodeId, from);
  }

  /** The minutes from `fromMs` on that hold samples of any node, as a JSON array: one index seek each. */
  private minutesHoldingSamples(fromMs: number): string {
    const minutes: number[] = [];
    for (let m = this.stmt.nextMinute.get(Math.trunc(fromMs / MINUTE_MS))!.m; m !== null; m = this.stmt.nextMinute.get(m + 1)!.m) minutes.push(m);
    return JSON.stringify(minutes);
  }

  /**
   * Deletes what is older than each resolution's retention in small transactions (raw samples
   * whole minutes at a time, oldest first; rollups one node and tier at a time), awaiting `pause`
   * between them so that ingest and reads go on. Returns the rows deleted.
   */
  async purgeExpired(pause: () => Promise<void>): Promise<number> {
    const now = this.now();
    let deleted = 0;
    // Raw rows past their first hours move into chunks first (hub/storage/sqlite/chunk-store.ts), then hours of
    // chunks past the raw retention go whole.
    await this.chunks.compact(now - COMPACT_AFTER_MS, pause);
    // The rollups' and labelled series' finished windows, likewise (hub/storage/sqlite/rollup-chunks.ts, hub/storage/sqlite/labelled-chunks.ts).
    await this.rollupChunks.compact(now, pause);
    await this.labelled.compacted.compact(now, pause);
    // Restated 1 min windows name raw samples: written out as buckets before those go.
    await this.rollupChunks.writeOutRestated(now - this.retention.raw, pause);
    for (let n = PURGE_CHUNKS; n === PURGE_CHUNKS; await pause()) {
      n = this.chunks.purgeBefore(now - this.retention.raw, PURGE_CHUNKS);
      deleted += n;
    }
    const rawBefore = Math.trunc((now - this.retention.raw) / MINUTE_MS);
    for (let n = PURGE_ROWS; n === PURGE_ROWS; await pause()) {
      n = this.stmt.purgeRaw.run(rawBefore, PURGE_ROWS).changes;
      deleted += n;
    }
    for (const { id } of this.stmt.nodeIds.all()) {
      for (const tier of TIERS) {
        const before = now - this.retention[tier.name];
        deleted += this.stmt.purgeRollup.run(tier.seconds, id, before).changes + this.rollupChunks.purgeBefore(id, tier.seconds, before);
        await pause();
      }
      deleted += this.labelled.purge(id, now - this.retention['1m']);
    }
    // Readers are short (synchronous, in-process), so a passive checkpoint gets through and the WAL stays small.
    this.db.pragma('wal_checkpoint(PASSIVE)');
    return deleted;
  }

  samplePage(query: SamplePageQuery): SamplePage | null {
    return readSamplePage(this.db, this.chunks, query);
  }

  close(): void {
    this.db.close();
  }
}
