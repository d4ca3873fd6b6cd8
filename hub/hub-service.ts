// The hub as one service: store + ingest + web server, started and stopped together.
import { join } from 'node:path';
import type { EmbeddedBroker } from '../broker/broker.ts';
import type { Logger } from '../edge-agent/logger.ts';
import { createApp } from '../web/app.ts';
import { listen, type WebServer } from '../web/server.ts';
import { Ingest } from './ingest.ts';
import { LiveFeed } from './live-feed.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { MetricsStore } from './store.ts';

export const DB_FILE = 'remonitor.db';

export interface HubOptions {
  brokerUrl: string;
  dataDir: string;
  httpPort: number;
  httpHost?: string;
  log: Logger;
  username?: string;
  password?: string;
  /** When the broker runs in this process, MQTT over WebSocket is served on the web port at /mqtt. */
  embeddedBroker?: EmbeddedBroker;
}

export class HubService {
  readonly feed = new LiveFeed();
  readonly store: MetricsStore;
  readonly ingest: Ingest;
  private web: WebServer | null = null;

  constructor(private readonly options: HubOptions) {
    this.store = openSqliteStore(join(options.dataDir, DB_FILE));
    this.ingest = new Ingest({
      brokerUrl: options.brokerUrl,
      store: this.store,
      feed: this.feed,
      log: options.log,
      username: options.username,
      password: options.password,
    });
  }

  get httpPort(): number {
    return this.web?.port ?? 0;
  }

  async start(): Promise<void> {
    await this.ingest.start();
    this.web = await listen(createApp({ store: this.store, feed: this.feed }), this.options.httpPort, this.options.httpHost);
    this.options.embeddedBroker?.attachWebSocket(this.web.server);
    this.options.log.info({ url: `http://${this.options.httpHost ?? '127.0.0.1'}:${this.web.port}/` }, 'dashboard listening');
  }

  /** Stops taking requests, stores what is pending, closes the database. */
  async stop(): Promise<void> {
    await this.web?.close();
    await this.ingest.stop();
    this.store.close();
  }
}
