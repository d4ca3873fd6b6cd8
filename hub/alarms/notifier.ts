// Notifications of alarm transitions: a generic webhook (JSON POST) and ntfy-compatible push.
// A transition is queued in SQLite (one insert, in the engine's turn) and delivered later by a
// timer, so a slow or dead receiver never holds up ingest or evaluation. A failed delivery is
// logged, stays queued and is retried with exponential backoff (capped), across restarts too.
// Rate limit: at most one notification per rule, node and subject per the rule's `min_interval`;
// the ones dropped are counted and the next one that goes out says how many. Where a notification
// may go is decided in destination.ts, again at each attempt.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../../shared/logger.ts';
import type { AlarmTransition } from '../../shared/alarm-types.ts';
import type { AlarmStore, Delivery } from './alarm-store.ts';
import { postChecked, redactedUrl, type Resolver } from './destination.ts';
import type { AlarmRule } from './rules.ts';

export interface NotifierOptions {
  store: AlarmStore;
  log: Logger;
  now?: () => number;
  /** How often the queue is looked at, ms. */
  pollMs?: number;
  /** First retry after this, doubling per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per request. */
  timeoutMs?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Link to the dashboard, put in ntfy messages. */
  dashboardUrl?: string;
  /** Resolves destination host names; the system's resolver unless a test needs names it cannot give. */
  resolve?: Resolver;
}

export interface NotifierStats {
  queued: number;
  delivered: number;
  failedAttempts: number;
  rateLimited: number;
}

/** The JSON body of a webhook call. */
export interface WebhookBody {
  type: 'alarm_transition';
  transition: AlarmTransition;
  rule: { id: string; metric: string; threshold: number; description: string | null };
  /** Notifications of this alarm dropped by the rate limit since the last one sent. */
  suppressed: number;
}

const LEVEL_PRIORITY: Record<string, string> = { red: '5', offline: '4', amber: '3', ok: '2' };

export class Notifier {
  readonly stats: NotifierStats = { queued: 0, delivered: 0, failedAttempts: 0, rateLimited: 0 };
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private readonly lastSent = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.pump(), this.options.pollMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running]);
  }

  /** Queues the notifications a transition asks for; cheap and synchronous. */
  notify(rule: AlarmRule, transition: AlarmTransition, silenced: boolean): void {
    const { webhook, ntfy, minIntervalMs } = rule.notify;
    if (!webhook && !ntfy) return;
    if (silenced) return;
    const key = `${transition.node}\u0000${rule.id}\u0000${transition.subject}`;
    const now = this.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < minIntervalMs) {
      this.stats.rateLimited++;
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return;
    }
    this.lastSent.set(key, now);
    const suppressed = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    const body: WebhookBody = {
      type: 'alarm_transition',
      transition,
      rule: { id: rule.id, metric: rule.metric, threshold: rule.threshold, description: rule.input.description ?? null },
      suppressed,
    };
    if (webhook) this.enqueue('webhook', webhook, JSON.stringify(body), now);
    if (ntfy) this.enqueue('ntfy', ntfy, JSON.stringify(body), now);
    // Deliver now rather than at the next tick: a notification should not wait for the poll.
    queueMicrotask(() => this.pump());
  }

  private enqueue(kind: Delivery['kind'], url: string, body: string, now: number): void {
    try {
      this.options.store.enqueue(kind, url, body, now);
      this.stats.queued++;
    } catch (err) {
      this.options.log.error({ err: (err as Error).message, url: redactedUrl(url) }, 'could not queue an alarm notification');
    }
  }

  /** Starts the deliveries that are due. */
  pump(): void {
    const limit = (this.options.concurrency ?? 4) - this.inFlight.size;
    if (limit <= 0) return;
    let due: Delivery[];
    try {
      due = this.options.store.due(this.now(), limit + this.inFlight.size).filter((d) => !this.inFlight.has(d.id)).slice(0, limit);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'could not read the notification queue');
      return;
    }
    for (const d of due) {
      this.inFlight.add(d.id);
      const p = this.deliver(d).finally(() => {
        this.inFlight.delete(d.id);
        this.running.delete(p);
      });
      this.running.add(p);
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const { log } = this.options;
    try {
      const { headers, body } = this.request(d);
      const res = await postChecked(d.url, headers, body, this.options.timeoutMs ?? 10_000, this.options.resolve);
      if (res.status < 200 || res.status > 299) {
        throw new Error(`HTTP ${res.status} ${res.statusText}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
      }
      this.options.store.markDelivered(d.id, this.now());
      this.stats.delivered++;
    } catch (err) {
      this.stats.failedAttempts++;
      const backoff = Math.min((this.options.baseBackoffMs ?? 2000) * 2 ** d.attempts, this.options.maxBackoffMs ?? 10 * 60_000);
      const message = (err as Error).message;
      try {
        this.options.store.markFailed(d.id, this.now() + backoff, message);
      } catch {
        // the store is closing: the row stays due and is retried after a restart
      }
      log.warn({ kind: d.kind, url: redactedUrl(d.url), attempt: d.attempts + 1, retryInMs: backoff, err: message }, 'alarm notification failed; kept for retry');
    }
  }

  private request(d: Delivery): { headers: OutgoingHttpHeaders; body: string } {
    if (d.kind === 'webhook') return { headers: { 'content-type': 'application/json' }, body: d.body };
    // ntfy: the message is the body, the rest goes in headers (https://docs.ntfy.sh/publish/).
    const { transition: t, rule, suppressed } = JSON.parse(d.body) as WebhookBody;
    const what = t.subject ? `${rule.metric} ${t.subject}` : rule.metric;
    const value = t.value === null ? '' : ` at ${Math.round(t.value * 10) / 10}`;
    const eta = t.to === 'amber' && t.tt_ms !== null ? `, threshold ${rule.threshold} predicted in ${Math.round(t.tt_ms / 60_000)} min` : ` (threshold ${rule.threshold})`;
    const lines = [`${t.node}: ${what} ${t.from} → ${t.to}${value}${eta}`];
    if (suppressed > 0) lines.push(`(${suppressed} more changes were not sent: rate limit)`);
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain; charset=utf-8',
      Title: `remonitor: ${t.node} ${rule.id} ${t.to.toUpperCase()}`,
      Priority: LEVEL_PRIORITY[t.to] ?? '3',
      Tags: t.to === 'ok' ? 'white_check_mark' : t.to === 'amber' ? 'warning' : 'rotating_light',
    };
    if (this.options.dashboardUrl) headers['Click'] = `${this.options.dashboardUrl.replace(/\/$/, '')}/nodes/${encodeURIComponent(t.node)}`;
    return { headers, body: lines.join('\n') };
  }
}
