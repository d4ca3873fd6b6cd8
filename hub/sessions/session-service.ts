// Issue 3's part of the hub, started and stopped as one: the session state (the storage driver's), the command bridge
// (its own MQTT client), and the per-process history (fed from the live feed's samples on PostgreSQL).
import type { Logger } from '../../shared/logger.ts';
import { CommandBridge } from './command-bridge.ts';
import type { LiveFeed } from '../live-feed.ts';
import type { AnySessionState } from '../storage/session-state.ts';

export interface SessionServiceOptions {
  /** Where sessions and the process history are kept (hub/storage/driver.ts, sessionState). */
  store: AnySessionState;
  feed: LiveFeed;
  brokerUrl: string;
  log: Logger;
  username?: string;
  password?: string;
  /**
   * Record the per-process history from the feed's samples. False where ingest's writer stores it
   * with the samples themselves (the SQLite hub: hub/storage/sqlite/sqlite-batch-write.ts).
   */
  processHistoryFromFeed: boolean;
}

export class SessionService {
  readonly sessions: AnySessionState;
  readonly bridge: CommandBridge;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The process history could not be stored at the last try (logged when that starts and ends, not every second). */
  private historyFailing = false;

  constructor(private readonly options: SessionServiceOptions) {
    this.sessions = options.store;
    this.bridge = new CommandBridge({
      brokerUrl: options.brokerUrl,
      sessions: this.sessions,
      log: options.log,
      username: options.username,
      password: options.password,
    });
  }

  async start(): Promise<void> {
    await this.bridge.start();
    // Samples that carry the process lists feed the per-process history (written once a second).
    if (this.options.processHistoryFromFeed) {
      this.unsubscribe = this.options.feed.subscribe((event) => {
        if (event.type !== 'sample' || !event.sample?.top_cpu) return;
        try {
          this.sessions.addTopLists(event.node, event.sample.ts_ms, event.sample.top_cpu, event.sample.top_mem ?? []);
        } catch (err) {
          this.historyFailed(err as Error); // a flush at the queue's cap; the lists stay queued
        }
      });
    }
    // Also prunes the history past its retention, whoever writes it.
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    try {
      await this.sessions.flushProcesses();
    } catch (err) {
      return this.historyFailed(err as Error);
    }
    if (this.historyFailing) this.options.log.info('the process history is stored again');
    this.historyFailing = false;
  }

  private historyFailed(err: Error): void {
    if (!this.historyFailing) this.options.log.warn({ err: err.message }, 'could not store the process history; kept and tried again every second');
    this.historyFailing = true;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.bridge.stop();
  }
}
