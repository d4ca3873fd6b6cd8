// The hub as one service: store + ingest + web server, started and stopped together.
import { join } from 'node:path';
import type { EmbeddedBroker } from '../broker/broker.ts';
import type { Logger } from '../edge-agent/logger.ts';
import { createApp } from '../web/app.ts';
import type { WebAuth } from '../web/auth/web-auth.ts';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { isLoopbackHost } from '../auth/loopback.ts';
import { listen, type WebServer, type WebTls } from '../web/server.ts';
import { Ingest } from './ingest.ts';
import { AckTracker } from './ack-tracker.ts';
import { HubHealthMonitor } from './hub-health.ts';
import { Integrations } from './integrations.ts';
import { MaintenanceJob } from './maintenance.ts';
import type { Retention } from './rollups.ts';
import { LiveFeed } from './live-feed.ts';
import { AlarmEngine, defaultRulesFile, type AlarmEngineOptions } from './alarms/engine.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { SessionService } from './session-service.ts';
import type { LeakThresholds } from './leak-verdict.ts';
import type { MetricsStore } from './store.ts';

export const DB_FILE = 'remonitor.db';

export interface HubOptions {
  /** Thresholds of the leak verdict of sessions (hub/leak-verdict.ts); defaults when absent. */
  leakThresholds?: Partial<LeakThresholds>;
  brokerUrl: string;
  dataDir: string;
  httpPort: number;
  httpHost?: string;
  /** Serve the dashboard (and MQTT over WebSocket on /mqtt) over HTTPS with this certificate and key. */
  tls?: WebTls;
  log: Logger;
  username?: string;
  password?: string;
  /** When the broker runs in this process, MQTT over WebSocket is served on the web port at /mqtt. */
  embeddedBroker?: EmbeddedBroker;
  /** Republish each stored sample as JSON on remonitor/<node>/metrics/json. */
  jsonMirror?: boolean;
  /** Home Assistant MQTT discovery (turns the JSON mirror on: it is HA's state topic). */
  homeAssistant?: boolean;
  /** The broker URL nodes should use in the join line, when the hub's own is not reachable by them. */
  publicBrokerUrl?: string;
  /** How long raw samples and each rollup tier are kept (default 48 h / 14 d / 90 d / 2 y). */
  retention?: Retention;
  /** Alarm engine settings (rules file, timings); `false` runs the hub without alarms. */
  alarms?: Partial<Omit<AlarmEngineOptions, 'brokerUrl' | 'feed' | 'log' | 'dbPath'>> | false;
  /** Logins and roles for the web tier (web/auth/web-auth.ts); absent = the web tier is open. */
  webAuth?: WebAuth;
  /** The embedded broker's credentials, for enrolling nodes from the dashboard. */
  nodeCredentials?: MqttCredentials;
}

export class HubService {
  readonly feed = new LiveFeed();
  readonly store: MetricsStore;
  readonly ingest: Ingest;
  private readonly maintenance: MaintenanceJob;
  private web: WebServer | null = null;
  private readonly healthMonitor: HubHealthMonitor;
  private readonly integrations: Integrations;
  readonly alarms: AlarmEngine | null;

  readonly acks: AckTracker;
  /** Remote commands, sessions and per-process history (issue 3). */
  readonly sessions: SessionService;

  constructor(private readonly options: HubOptions) {
    const store = openSqliteStore(join(options.dataDir, DB_FILE), { retention: options.retention });
    this.store = store;
    // On the store's connection, so watermarks commit in the same transaction as the samples.
    this.acks = new AckTracker(store.db);
    this.sessions = new SessionService({ db: store.db, feed: this.feed, brokerUrl: options.brokerUrl, log: options.log, username: options.username, password: options.password, thresholds: options.leakThresholds });
    this.maintenance = new MaintenanceJob(this.store, options.log);
    this.ingest = new Ingest({
      brokerUrl: options.brokerUrl,
      store: this.store,
      feed: this.feed,
      log: options.log,
      username: options.username,
      password: options.password,
      acks: this.acks,
    });
    this.healthMonitor = new HubHealthMonitor(this.ingest, join(options.dataDir, DB_FILE));
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
            feed: this.feed,
            log: options.log.child({ part: 'alarms' }),
            dbPath: join(options.dataDir, DB_FILE),
          });
  }

  get httpPort(): number {
    return this.web?.port ?? 0;
  }

  async start(): Promise<void> {
    // Before anything starts: nothing is open by accident on an address other machines reach.
    const host = this.options.httpHost ?? '127.0.0.1';
    if (!this.options.webAuth && !isLoopbackHost(host)) {
      throw new Error(`refusing to serve the dashboard without logins on host "${host}": anyone who reaches it could read the fleet and send commands; bind to 127.0.0.1 or give it logins`);
    }
    await this.ingest.start();
    this.maintenance.start();
    this.healthMonitor.start();
    await this.integrations.start();
    await this.alarms?.start();
    await this.sessions.start();
    const deploy = { brokerUrl: this.options.brokerUrl, publicBrokerUrl: this.options.publicBrokerUrl };
    const app = createApp({ store: this.store, feed: this.feed, health: () => this.healthMonitor.health(), deploy, alarms: this.alarms ?? undefined, sessions: this.sessions, auth: this.options.webAuth, enrolment: this.options.nodeCredentials });
    this.web = await listen(app, this.options.httpPort, this.options.httpHost, this.options.tls);
    this.options.embeddedBroker?.attachWebSocket(this.web.server);
    this.options.log.info({ url: `${this.web.scheme}://${this.options.httpHost ?? '127.0.0.1'}:${this.web.port}/` }, 'dashboard listening');
  }

  /** Stops taking requests, stores what is pending, closes the database. */
  async stop(): Promise<void> {
    await this.web?.close();
    await this.maintenance.stop();
    await this.integrations.stop();
    await this.alarms?.stop();
    await this.sessions.stop();
    this.healthMonitor.stop();
    await this.ingest.stop();
    this.store.close();
  }
}
