// Background upkeep of the store on timers: rebuilding the coarse rollup tiers and purging what is
// past retention. Each step is a small transaction and the event loop gets a turn between steps,
// so that ingest never waits long behind this work.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.ts';
import type { AnyMetricsStore } from './async-store.ts';

export interface MaintenanceOptions {
  deriveEveryMs?: number;
  purgeEveryMs?: number;
}

const pause = () => yieldToLoop().then(() => undefined);

export class MaintenanceJob {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<AnyMetricsStore, 'deriveRollups' | 'purgeExpired'>,
    private readonly log: Logger,
    private readonly options: MaintenanceOptions = {},
  ) {}

  start(): void {
    this.timers = [
      setInterval(() => void this.deriveRollups(), this.options.deriveEveryMs ?? 60_000),
      setInterval(() => void this.purge(), this.options.purgeEveryMs ?? 10 * 60_000),
    ];
  }

  deriveRollups(): Promise<void> {
    return this.serially('rollups', () => this.store.deriveRollups(pause));
  }

  purge(): Promise<void> {
    return this.serially('purge', async () => {
      const deleted = await this.store.purgeExpired(pause);
      if (deleted > 0) this.log.info({ deleted }, 'purged data past retention');
    });
  }

  /** One task at a time; a failure is logged and retried at the next tick. */
  private serially(what: string, task: () => Promise<unknown>): Promise<void> {
    this.running = this.running.then(task).then(
      () => undefined,
      (err: Error) => this.log.error({ err: err.message }, `${what} failed; will retry`),
    );
    return this.running;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.running;
  }
}
