// The hub as one service: store + ingest + web server, started and stopped together.
import { join } from 'node:path';
import type { EmbeddedBroker } from '../broker/broker.ts';
import type { Logger } from '../shared/logger.ts';
import { createApp } from '../web/app.ts';
import type { WebAuth } from '../web/auth/web-auth.ts';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { isLoopbackHost } from '../auth/loopback.ts';
import { listen, type WebServer, type WebTls } from '../web/server.ts';
import { Ingest } from '../hub/ingest/ingest.ts';
import { LocalFleetLink } from '../hub/ingest/fleet-link.ts';
import { MqttFleetLink } from '../hub/ingest/mqtt-fleet-link.ts';
import { AckReader } from '../hub/ingest/ack-tracker.ts';
import { HubHealthMonitor, type HealthLimits } from '../hub/hub-health.ts';
import { HubAlarm } from '../hub/alarms/hub-alarm.ts';
import { openToOthers, prepareDataDir } from '../shared/data-dir.ts';
import { DatabaseFileError, damagedMessage } from '../shared/sqlite-open.ts';
import { Integrations } from '../hub/integrations/integrations.ts';
import { MaintenanceJob } from '../hub/storage/maintenance.ts';
import type { Retention } from '../hub/storage/rollups.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { AlarmEngine, defaultRulesFile, type AlarmEngineOptions } from '../hub/alarms/engine.ts';
import { SessionService } from '../hub/sessions/session-service.ts';
import type { LeakThresholds } from '../hub/sessions/leak-verdict.ts';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import type { PgStore } from '../hub/storage/postgres/pg-store.ts';
import { checkIntegrity, type IntegrityReport } from '../hub/storage/sqlite/threaded-sample-writer.ts';
import { copyLocalStateToPg } from '../hub/storage/postgres/pg-local-state-copy.ts';
import { isPostgresUrl, openPgDriver, openSqliteDriver, type PgDriver, type StorageDriver } from '../hub/storage/driver.ts';
import { GroupCoordination } from '../hub/group/group-coordination.ts';
import { hostname } from 'node:os';
import { openAuthDb, type AuthDb } from '../auth/auth-db.ts';
import { NodeRemovals } from '../auth/node-removals.ts';
import { NodeRemoval } from '../hub/nodes/node-removal.ts';
import { EnrolmentTags } from '../auth/enrolment-tags.ts';
import { NodeTags } from '../hub/nodes/node-tags.ts';

export const DB_FILE = 'remonitor.db';

/** A `--storage` value that names a PostgreSQL database rather than a SQLite file. */
export { isPostgresUrl };

export interface HubOptions {
  /** Thresholds of the leak verdict of sessions (hub/sessions/leak-verdict.ts); defaults when absent. */
  leakThresholds?: Partial<LeakThresholds>;
  brokerUrl: string;
  dataDir: string;
  /**
   * Where samples go: a SQLite file (default `<dataDir>/remonitor.db`) or a postgres:// URL (open
   * the hub with HubService.open then).
   */
  storage?: string;
  /**
   * Share ingest with the other hubs of an MQTT 5 shared-subscription group (hub/ingest/ingest.ts); one
   * hub of the group at a time runs alarms, sessions and commands (hub/group/group-coordination.ts).
   * Needs a PostgreSQL store.
   */
  sharedGroup?: { group: string; hubId: string; clientId: string };
  /** Where the other processes of the group reach this hub's API (default http://<host>:<port>). */
  groupApiUrl?: string;
  /** Called when this hub can no longer do its part (it lost the coordinator role): the CLI exits. */
  onFatal?: (err: Error) => void;
  httpPort: number;
  httpHost?: string;
  /** Serve the dashboard (and MQTT over WebSocket on /mqtt) over HTTPS with this certificate and key. */
  tls?: WebTls;
  log: Logger;
  username?: string;
  password?: string;
  /**
   * The broker, when it runs in this process: MQTT over WebSocket is served on the web port at /mqtt,
   * and ingest subscribes to it directly instead of over a connection.
   */
  embeddedBroker?: EmbeddedBroker;
  /** Republish each stored sample as JSON on remonitor/<node>/metrics/json. */
  jsonMirror?: boolean;
  /** Home Assistant MQTT discovery and its rate-limited state (hub/integrations/home-assistant.ts). */
  homeAssistant?: boolean;
  /** How often Home Assistant gets new sample values, ms (default 30 s). */
  homeAssistantIntervalMs?: number;
  /** The broker URL nodes should use in the join line, when the hub's own is not reachable by them. */
  publicBrokerUrl?: string;
  /** How long raw samples and each rollup tier are kept (default 48 h / 14 d / 90 d / 2 y). */
  retention?: Retention;
  /** Each node is acked at most this often, ms (default 5 s, hub/ingest/ack-pacer.ts; 0: after every commit). */
  ackIntervalMs?: number;
  /** Alarm engine settings (rules file, timings); `false` runs the hub without alarms. */
  alarms?: Partial<Omit<AlarmEngineOptions, 'brokerUrl' | 'feed' | 'log' | 'dbPath'>> | false;
  /** Logins and roles for the web tier (web/auth/web-auth.ts); absent = the web tier is open. */
  webAuth?: WebAuth;
  /** The embedded broker's credentials, for enrolling nodes from the dashboard. */
  nodeCredentials?: MqttCredentials;
  /** When /healthz calls ingest behind or the broker down (hub/hub-health.ts); defaults when absent. */
  healthLimits?: Partial<HealthLimits>;
  /**
   * How long start() waits for the integrity check of the SQLite file, ms (default 3 s). A check
   * that takes longer goes on beside the running hub, and damage it finds then shows on /healthz.
   */
  integrityWaitMs?: number;
  /** GET /api/nodes marks a node stale when its newest sample is older than this, ms (default 24 h). */
  staleAfterMs?: number;
}

// quick_check reads the whole file: about 3.7 s a GB from the page cache, 41 s a GB from this
// machine's disk (more on a Pi's SD card). A file up to a few hundred MB is checked before the
// start; a larger one while the hub runs, rather than holding the start for minutes.
const DEFAULT_INTEGRITY_WAIT_MS = 3000;

export class HubService {
  readonly feed = new LiveFeed();
  readonly store: AnyMetricsStore;
  readonly ingest: Ingest;
  private readonly maintenance: MaintenanceJob;
  private web: WebServer | null = null;
  private readonly healthMonitor: HubHealthMonitor;
  /** The hub's problems as alarms among the nodes' (absent without an alarm engine). */
  private readonly hubAlarm: HubAlarm | null;
  /** The SQLite file of sessions and alarms (and of samples, unless they go to PostgreSQL). */
  private readonly localPath: string;
  private stopIntegrityCheck: (() => void) | null = null;
  private readonly integrations: Integrations;
  /** DELETE /api/nodes/:node, and the removals `remonitor node remove` asks for in auth.db. */
  private readonly nodeRemoval: NodeRemoval;
  /** The tags given to nodes on the hub: PUT /api/nodes/:node/tags, enrolment, `remonitor node add --tags`. */
  private readonly nodeTags: NodeTags;
  private readonly authDb: AuthDb;
  readonly alarms: AlarmEngine | null;

  /** The SQLite hub's acks (a PostgreSQL hub keeps them in the database: hub/storage/postgres/pg-watermarks.ts). */
  readonly acks: AckReader | null;
  /** Everything the hub stores, on one backend chosen by `storage` (hub/storage/driver.ts). */
  readonly storage: StorageDriver;
  /** Remote commands, sessions and per-process history (issue 3). */
  readonly sessions: SessionService;
  /** In a shared group: the election of the hub that runs alarms, sessions and commands. */
  readonly coordination: GroupCoordination | null = null;
  /**
   * In a shared group, the whole fleet read from the shared database (this hub's ingest sees only
   * its share): for the live view, and for alarms and sessions while this hub coordinates.
   */
  private readonly groupFeed: LiveFeed | null = null;
  private coordinating = false;
  /** A group's shared store, whose raw rows this hub compacts while it coordinates. */
  private pgStore: PgStore | null = null;
  private stopPolling: (() => void) | null = null;

  /** Opens the store first when it is PostgreSQL (a SQLite store opens in the constructor). */
  static async open(options: HubOptions): Promise<HubService> {
    if (!isPostgresUrl(options.storage)) return new HubService(options);
    const sqlitePath = join(prepareDataDir(options.dataDir), DB_FILE);
    const driver = await openPgDriver(options.storage, { sqlitePath, retention: options.retention, log: options.log });
    // Failing, it is tried again at the next start: the file is marked only once its state is in the database.
    await copyLocalStateToPg(driver.store.pool, sqlitePath, options.log).catch((err: Error) =>
      options.log.error({ err: err.message, from: sqlitePath }, 'could not copy the alarm and session state of the local file into PostgreSQL'),
    );
    return new HubService(options, driver);
  }

  constructor(
    private readonly options: HubOptions,
    pgDriver?: PgDriver,
  ) {
    if (isPostgresUrl(options.storage) && !pgDriver) throw new Error('a PostgreSQL store is opened by HubService.open()');
    const pgStore = pgDriver?.store;
    if (options.sharedGroup && !pgStore) throw new Error('a shared group needs a PostgreSQL store (--storage postgres://…): its hubs must share one database');
    // Before anything is opened in it: one clear error naming the path, at once.
    const dataDir = prepareDataDir(options.dataDir);
    const openMode = openToOthers(dataDir);
    if (openMode !== null)
      options.log.warn({ dataDir, mode: openMode.toString(8) }, `the data directory is open to other users: make it private with chmod 700 ${dataDir}`);
    const localPath = pgStore || !options.storage ? join(dataDir, DB_FILE) : options.storage;
    this.localPath = localPath;
    const storage: StorageDriver = pgDriver ?? openSqliteDriver({ sqlitePath: localPath, retention: options.retention, log: options.log });
    this.storage = storage;
    this.store = storage.store;
    const writer = storage.writer;
    this.acks = storage.kind === 'sqlite' ? storage.acks : null;
    // In a group, this hub's live feed carries only its share of each node's samples: alarms and
    // process history would judge a node on part of its data. They follow the whole fleet instead.
    if (options.sharedGroup) this.groupFeed = new LiveFeed();
    const fleetFeed = this.groupFeed ?? this.feed;
    this.sessions = new SessionService({
      store: storage.sessionState(options.leakThresholds),
      feed: fleetFeed,
      brokerUrl: options.brokerUrl,
      log: options.log,
      username: options.username,
      password: options.password,
      processHistoryFromFeed: storage.kind !== 'sqlite',
    });
    this.maintenance = new MaintenanceJob(storage.maintenance, options.log);
    this.ingest = new Ingest({
      // The embedded broker in this process is subscribed directly; a shared group needs an MQTT 5 broker anyway.
      link:
        options.embeddedBroker && !options.sharedGroup
          ? new LocalFleetLink(options.embeddedBroker)
          : new MqttFleetLink({
              brokerUrl: options.brokerUrl,
              log: options.log,
              username: options.username,
              password: options.password,
              sharedGroup: options.sharedGroup,
            }),
      writer,
      feed: this.feed,
      log: options.log,
      ackIntervalMs: options.ackIntervalMs,
      writeHealth: { failed: (err) => this.healthMonitor.writes.failed(err), stored: () => this.healthMonitor.writes.stored() },
    });
    const bridge = this.sessions.bridge;
    this.healthMonitor = new HubHealthMonitor(this.ingest, {
      dbPath: pgStore ? null : localPath,
      log: options.log,
      brokerUrl: options.brokerUrl,
      brokerDownSince: () => bridge.brokerDownSinceMs,
      watchStore: () => bridge.storeFailure,
      limits: options.healthLimits,
    });
    this.integrations = new Integrations({ ...options, store: this.store, feed: this.feed });
    this.alarms =
      options.alarms === false
        ? null
        : new AlarmEngine({
            rulesFile: defaultRulesFile(options.dataDir),
            ...options.alarms,
            brokerUrl: options.brokerUrl,
            username: options.username,
            password: options.password,
            feed: fleetFeed,
            log: options.log.child({ part: 'alarms' }),
            state: storage.alarmState,
          });
    this.hubAlarm = this.alarms && new HubAlarm(this.alarms, options.log.child({ part: 'alarms' }));
    this.authDb = openAuthDb(dataDir);
    this.nodeRemoval = new NodeRemoval({
      removeFromStore: (node, o) => storage.removeNode(node, o),
      credentials: options.nodeCredentials,
      alarms: this.alarms,
      requests: new NodeRemovals(this.authDb),
      log: options.log,
    });
    this.nodeTags = new NodeTags({
      store: this.store,
      requests: new EnrolmentTags(this.authDb),
      onChange: (node, tags) => this.alarms?.tags.setHubTags(node, tags),
      log: options.log,
    });
    const hubAlarm = this.hubAlarm;
    if (hubAlarm) this.healthMonitor.onChange((problems) => hubAlarm.update(problems));
    if (options.sharedGroup && pgStore) {
      // Raw compaction is the coordinator's (hub/storage/postgres/pg-chunks.ts): one hub moves the rows.
      pgStore.compactsRaw = false;
      this.pgStore = pgStore;
      this.coordination = new GroupCoordination({
        url: options.storage!,
        pool: pgStore.pool,
        group: options.sharedGroup.group,
        hubId: options.sharedGroup.hubId,
        log: options.log,
        onElected: () => this.startCoordinating(),
        onLost: (err) => void this.lostCoordination(err),
      });
    }
  }

  /** Alarms, sessions and commands: here, in a hub on its own; in the coordinator, in a group. */
  private async startCoordinating(): Promise<void> {
    await this.alarms?.start();
    // Rules may target tags: the engine starts knowing every node's, then follows their changes.
    if (this.alarms) for (const n of await this.store.listNodes()) this.alarms.tags.load(n.name, n.info?.tags, n.hub_tags);
    await this.sessions.start();
    this.coordinating = true;
    if (this.pgStore) this.pgStore.compactsRaw = true;
  }

  private async stopCoordinating(): Promise<void> {
    if (!this.coordinating) return;
    this.coordinating = false;
    if (this.pgStore) this.pgStore.compactsRaw = false;
    await this.alarms?.stop();
    await this.sessions.stop();
  }

  private async lostCoordination(err: Error): Promise<void> {
    this.options.log.error(
      { err: err.message },
      'this hub lost the coordinator role (its database connection ended): alarms, sessions and commands stop here; restart the hub to take part again',
    );
    await this.stopCoordinating().catch(() => undefined);
    this.options.onFatal?.(err);
  }

  get httpPort(): number {
    return this.web?.port ?? 0;
  }

  /** Where people reach the dashboard: alarm notifications link there (set once the web server listens). */
  setPublicUrl(url: string): void {
    this.alarms?.notifier.setDashboardUrl(url);
  }

  async start(): Promise<void> {
    // Before anything starts: nothing is open by accident on an address other machines reach.
    const host = this.options.httpHost ?? '127.0.0.1';
    if (!this.options.webAuth && !isLoopbackHost(host)) {
      throw new Error(
        `refusing to serve the dashboard without logins on host "${host}": anyone who reaches it could read the fleet and send commands; bind to 127.0.0.1 or give it logins`,
      );
    }
    await this.checkIntegrity();
    // Before the broker connection: a second process with this hub id is refused here, not kicked off there.
    await this.coordination?.claimHubId();
    await this.ingest.start();
    this.maintenance.start();
    this.healthMonitor.start();
    await this.integrations.start();
    if (!this.coordination) await this.startCoordinating();
    await this.nodeRemoval.start();
    await this.nodeTags.start();
    const deploy = { brokerUrl: this.options.brokerUrl, publicBrokerUrl: this.options.publicBrokerUrl };
    const coordinator = this.coordination ? () => this.coordination!.forwardTo() : undefined;
    if (this.groupFeed && this.storage.kind === 'postgres') {
      const onError = (err: Error) => this.options.log.warn({ err: err.message }, 'could not read the fleet from the database; will retry');
      this.stopPolling = this.storage.followFleet(this.groupFeed, 1000, onError);
    }
    const app = createApp({
      store: this.store,
      feed: this.groupFeed ?? this.feed,
      health: () => this.healthMonitor.health(),
      readiness: () => this.healthMonitor.report(),
      deploy,
      alarms: this.hubAlarm?.api(),
      sessions: this.sessions,
      auth: this.options.webAuth,
      enrolment: this.options.nodeCredentials,
      coordinator,
      nodeRemoval: this.nodeRemoval,
      staleAfterMs: this.options.staleAfterMs,
      nodeTags: this.nodeTags,
    });
    this.web = await listen(app, this.options.httpPort, this.options.httpHost, this.options.tls);
    this.options.embeddedBroker?.attachWebSocket(this.web.server);
    this.options.log.info({ url: `${this.web.scheme}://${this.options.httpHost ?? '127.0.0.1'}:${this.web.port}/` }, 'dashboard listening');
    if (this.coordination) {
      // A wildcard address is no address for another machine: it gets this machine's name.
      const reachable = ['0.0.0.0', '::', ''].includes(host) ? hostname() : host.includes(':') ? `[${host}]` : host;
      this.coordination.apiUrl = this.options.groupApiUrl ?? `${this.web.scheme}://${reachable}:${this.web.port}`;
      await this.coordination.start();
    }
  }

  /**
   * Refuses a damaged SQLite file before anything is written to it (writes to it would fail, or
   * spread the damage), naming the file and how to recover. A check that outlasts the wait goes on
   * beside the hub, and what it finds then shows on /healthz and as the hub's alarm.
   */
  private async checkIntegrity(): Promise<void> {
    const path = this.localPath;
    const check = checkIntegrity(path);
    this.stopIntegrityCheck = () => check.stop();
    const damage = (report: IntegrityReport) => damagedMessage(path, `PRAGMA quick_check: ${report.problems.slice(0, 3).join('; ')}`);
    const waitMs = this.options.integrityWaitMs ?? DEFAULT_INTEGRITY_WAIT_MS;
    const log = this.options.log;
    const unchecked = (err: Error) => {
      this.stopIntegrityCheck = null;
      log.warn({ file: path, err: err.message }, 'could not check the database');
      return 'unchecked' as const;
    };
    const settled = check.report.catch(unchecked);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<null>((resolve) => (timer = setTimeout(resolve, waitMs, null)));
    const report = await Promise.race([settled, waited]).finally(() => clearTimeout(timer));
    if (report === 'unchecked') return;
    if (report) {
      this.stopIntegrityCheck = null;
      if (report.problems.length > 0) throw new DatabaseFileError(damage(report));
      return;
    }
    log.info({ file: path, waitedMs: waitMs }, 'checking the database goes on while the hub runs: it is large');
    void settled.then((late) => {
      if (late === 'unchecked') return;
      this.stopIntegrityCheck = null;
      if (late.problems.length === 0) log.info({ file: path, ms: late.ms }, 'the database checked sound');
      else this.healthMonitor.damaged(damage(late));
    });
  }

  /** Stops taking requests, stores what is pending, closes the database. */
  async stop(): Promise<void> {
    this.stopIntegrityCheck?.();
    this.stopPolling?.();
    await this.web?.close();
    await this.maintenance.stop();
    await this.integrations.stop();
    await this.coordination?.stop();
    await this.stopCoordinating();
    this.healthMonitor.stop();
    await this.nodeRemoval.stop();
    await this.nodeTags.stop();
    await this.ingest.stop();
    await this.storage.close();
    this.authDb.close();
  }
}
