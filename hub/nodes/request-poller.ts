// Carries out the requests the CLI left in auth.db (auth/request-queue.ts): those waiting at the
// hub's start, then new ones every few seconds while it runs. A request is deleted once carried
// out; one that fails stays and is tried again at the next poll; a bad row is dropped and logged.
import type { RequestQueue, QueuedRequest } from '../../auth/request-queue.ts';
import type { Logger } from '../../shared/logger.ts';

export interface RequestPollerOptions<T> {
  /** The requests; absent: nothing to poll (only the API acts). */
  queue?: RequestQueue<T> | null;
  /** What they are, for the log: "node removals". */
  what: string;
  /** Carries out one request; when it throws, the request stays for the next poll. */
  apply(request: QueuedRequest<T>): Promise<unknown>;
  log: Logger;
  /** How often the queue is looked at, ms (default 2 s). */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 2_000;

export class RequestPoller<T> {
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: RequestPollerOptions<T>) {}

  /** Carries out the requests waiting, then looks for new ones every `pollMs`. */
  async start(): Promise<void> {
    if (!this.options.queue) return;
    this.stopped = false;
    await this.poll();
    if (this.stopped) return;
    // Unref'd: a poll that finds nothing to do must not keep the process alive.
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
  }

  /** Stops polling and waits for a poll under way (it takes no further request). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** One pass over the queue; a pass still under way is waited for, not started again. */
  private poll(): Promise<void> {
    this.polling ??= this.pass().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pass(): Promise<void> {
    const { queue, what, log } = this.options;
    if (!queue) return;
    let requests: QueuedRequest<T>[];
    try {
      requests = queue.pending(({ node, problem }) => log.error({ node, err: problem }, `a bad row of the ${what} asked for was dropped`));
    } catch (err) {
      log.warn({ err: (err as Error).message }, `could not read the ${what} asked for; will retry`);
      return;
    }
    for (const request of requests) {
      if (this.stopped) return;
      try {
        await this.options.apply(request);
        queue.done(request);
      } catch (err) {
        log.error({ node: request.node, err: (err as Error).message }, `could not carry out one of the ${what} asked for; will retry`);
      }
    }
  }
}
