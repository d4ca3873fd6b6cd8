// One storage driver per backend, chosen by the storage URL: a SQLite file, or postgres://. Each
// gives everything the hub keeps: the sample store, ingest's writer, the acks, the fleet's live
// feed as stored, the alarm state and the session state. On PostgreSQL all of it is in the
// database, so a group of hubs shares it and a new coordinator goes on where the last one stopped.
import type { Logger } from '../../shared/logger.ts';
import { AlarmStore } from './sqlite/sqlite-alarm-store.ts';
import type { AnyAlarmState } from './alarm-state.ts';
import type { AnySessionState } from './session-state.ts';
import type { LeakThresholds } from '../sessions/leak-verdict.ts';
import { AckReader } from '../ingest/ack-tracker.ts';
import type { LiveFeed } from '../live-feed.ts';
import type { AnyMetricsStore } from './async-store.ts';
import type { Retention } from './rollups.ts';
import type { RemovedNode, RemoveNodeOptions } from './store.ts';
import { openSqliteStore, type SqliteStore } from './sqlite/sqlite-store.ts';
import { openSessionConnection, unlockedSessionStore } from './sqlite/unlocked-session-store.ts';
import type { SampleWriter } from './sample-writer.ts';
import { ThreadedSqliteWriter } from './sqlite/threaded-sample-writer.ts';
import { openPgStore, type PgStore } from './postgres/pg-store.ts';
import { PgSampleWriter } from './postgres/pg-sample-writer.ts';
import { pollPgIntoFeed } from './postgres/pg-fleet-feed.ts';
import { PgAlarmStore, purgePgAlarmNode } from './postgres/pg-alarm-store.ts';
import { PgSessionStore, purgePgProcessHistory } from './postgres/pg-session-store.ts';

/** A storage URL that names a PostgreSQL database rather than a SQLite file. */
export const isPostgresUrl = (storage: string | undefined): storage is string => /^postgres(ql)?:\/\//i.test(storage ?? '');

export interface StorageDriverOptions {
  /** The SQLite file: of everything on SQLite; beside PostgreSQL, the file the hub checks and keeps older local records in. */
  sqlitePath: string;
  retention?: Retention;
  log: Logger;
}

interface DriverBase {
  readonly store: AnyMetricsStore;
  /** Ingest's writes. */
  readonly writer: SampleWriter;
  /** Transitions, acks, silences and the notification queue of the alarm engine. */
  readonly alarmState: AnyAlarmState;
  /** Sessions and the per-process history, judged with these leak thresholds (hub/sessions/leak-verdict.ts). */
  sessionState(thresholds?: Partial<LeakThresholds>): AnySessionState;
  /** Rollups and retention (hub/storage/maintenance.ts). */
  readonly maintenance: Pick<AnyMetricsStore, 'deriveRollups' | 'purgeExpired'>;
  /** Retires a node, and with `purge` deletes what is kept of it, alarm records included. */
  removeNode(node: string, options: RemoveNodeOptions): Promise<RemovedNode | null>;
  close(): Promise<void>;
}

export interface SqliteDriver extends DriverBase {
  readonly kind: 'sqlite';
  readonly store: SqliteStore;
  readonly writer: ThreadedSqliteWriter;
  /** The acks as ingest's writer moved them (on PostgreSQL they move in the database: pg-watermarks.ts). */
  readonly acks: AckReader;
  readonly path: string;
}

export interface PgDriver extends DriverBase {
  readonly kind: 'postgres';
  readonly store: PgStore;
  /**
   * Feeds `feed` with the whole fleet's samples and statuses as stored, whichever hub stored them
   * (pg-fleet-feed.ts): for a group, whose hubs each ingest a share. Returns how to stop.
   */
  followFleet(feed: LiveFeed, intervalMs: number, onError: (err: Error) => void): () => void;
}

export type StorageDriver = SqliteDriver | PgDriver;

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The SQLite driver: the store, its writer thread, the alarm state and the session state in one file. */
export function openSqliteDriver(options: StorageDriverOptions): SqliteDriver {
  const path = options.sqlitePath;
  const store = openSqliteStore(path, { retention: options.retention, log: options.log });
  // Watermarks move on the writer's connection, in the same transaction as the samples.
  const writer = new ThreadedSqliteWriter({ path, retention: options.retention });
  const alarmState = new AlarmStore(path);
  const sessionDb = openSessionConnection(path);
  return {
    kind: 'sqlite',
    path,
    store,
    writer,
    acks: new AckReader(store.db),
    alarmState,
    sessionState: (thresholds) => unlockedSessionStore(sessionDb, thresholds),
    // On the writer's thread and connection (hub/storage/sqlite/sqlite-writer-thread.ts).
    maintenance: writer,
    removeNode: (node, o) => writer.removeNode(node, o),
    async close() {
      await writer.close();
      await alarmState.close();
      sessionDb.close();
      store.close();
    },
  };
}

/**
 * The PostgreSQL driver. The SQLite file at `sqlitePath` holds only what hubs before this one kept
 * beside the database (purged with a removed node).
 */
export async function openPgDriver(url: string, options: StorageDriverOptions): Promise<PgDriver> {
  const store = await openPgStore(url, { retention: options.retention, log: options.log });
  const local = openSqliteStore(options.sqlitePath, { retention: options.retention, log: options.log });
  const alarmState = new PgAlarmStore(store.pool);
  return {
    kind: 'postgres',
    store,
    writer: new PgSampleWriter(store),
    alarmState,
    sessionState: (thresholds) => new PgSessionStore(store.pool, thresholds),
    maintenance: store,
    async removeNode(node, o) {
      const removed = await store.removeNode(node, o, pause);
      if (!removed || !o.purge) return removed;
      const state = (await purgePgAlarmNode(store.pool, node)) + (await purgePgProcessHistory(store.pool, node));
      return { deleted: removed.deleted + state + (await local.purgeLocalNode(node, pause)) };
    },
    followFleet: (feed, intervalMs, onError) => pollPgIntoFeed(store, feed, intervalMs, onError),
    async close() {
      await alarmState.close();
      await store.close();
      local.close();
    },
  };
}

/** The driver of a storage URL: postgres:// opens PostgreSQL, anything else is the SQLite file. */
export async function openStorageDriver(storage: string | undefined, options: StorageDriverOptions): Promise<StorageDriver> {
  return isPostgresUrl(storage) ? openPgDriver(storage, options) : openSqliteDriver(options);
}
