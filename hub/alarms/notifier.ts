// Notifications of alarm transitions, through the channels of hub/alarms/channels/ (webhook, ntfy,
// Gotify, Telegram, Discord, Slack, Pushover, e-mail), chosen by each channel URL's scheme.
// A transition joins its rule's group on each channel (alarm-groups.ts: one message per burst, a
// repeat while firing, a resolved message, a rate limit per channel) in the engine's turn, with no
// I/O. A timer turns due groups into messages, queues them in the alarm state (SQLite, or PostgreSQL
// shared by a group) and delivers the queue, so a
// slow or dead receiver never holds up ingest or evaluation. A failed delivery is logged, stays
// queued with its error and is retried with exponential backoff (capped), across restarts too.
// Where a notification may go is decided in destination.ts, again at each attempt.
import type { Logger } from '../../shared/logger.ts';
import type { AlarmTransition } from '../../shared/alarm-types.ts';
import { AlarmGroups, DEFAULT_CHANNEL_LIMIT, type ChannelLimit } from './alarm-groups.ts';
import { whenStored, type AnyAlarmState, type Delivery } from '../storage/alarm-state.ts';
import { channelName, channelProblems, ntfyChannelUrl, redactedChannel, sendToChannel, type AlarmMessage } from './channels/index.ts';
import type { Resolver } from './destination.ts';
import type { AlarmRule } from './rules.ts';

export type { WebhookBody } from './channels/webhook.ts';

export interface NotifierOptions {
  store: AnyAlarmState;
  log: Logger;
  now?: () => number;
  /** How often groups and the queue are looked at, ms. */
  pollMs?: number;
  /** First retry after this, doubling per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per request. */
  timeoutMs?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** The dashboard as people reach it (`https://hub.example:8080`): messages link to its node and alarms pages. */
  dashboardUrl?: string;
  /** Messages per channel and window (default 10 a minute); more wait for room. */
  channelLimit?: ChannelLimit;
  /** Resolves destination host names; the system's resolver unless a test needs names it cannot give. */
  resolve?: Resolver;
}

export interface NotifierStats {
  /** Messages queued for delivery. */
  queued: number;
  delivered: number;
  failedAttempts: number;
  /** Messages that waited for room in their channel's rate limit. */
  rateLimited: number;
  /** Transitions taken into groups. */
  grouped: number;
  /** The last delivery error, with its channel (redacted) and time; null when none yet. */
  lastError: { channel: string; error: string; ts_ms: number } | null;
}

/** A channel's queue as the API may show it: the URL redacted. */
export interface ChannelQueueStatus {
  channel: string;
  kind: string;
  pending: number;
  failing: number;
  oldest_pending_ms: number | null;
  last_error: string | null;
}

/** The message every channel sends from the test button. */
export function testMessage(dashboardUrl: string | null): AlarmMessage {
  return {
    v: 1,
    status: 'test',
    level: 'ok',
    repeat: false,
    title: 'remonitor: test notification',
    rule: null,
    firing: [],
    resolved: [],
    url: dashboardUrl ? `${dashboardUrl.replace(/\/+$/, '')}/alarms` : null,
  };
}

export class Notifier {
  readonly stats: NotifierStats = { queued: 0, delivered: 0, failedAttempts: 0, rateLimited: 0, grouped: 0, lastError: null };
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private readonly groups: AlarmGroups;
  private readonly now: () => number;
  private tickQueued = false;
  /** Writes to the queue and reads of it under way (an asynchronous store's), awaited by stop() and settled(). */
  private readonly storing = new Set<Promise<void>>();
  /** A read of the due rows is under way: another pump waits for it, so no row is started twice. */
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? Date.now;
    this.groups = new AlarmGroups(options.dashboardUrl ?? null, options.channelLimit ?? DEFAULT_CHANNEL_LIMIT);
  }

  /** Where the links of messages point from now on (the hub knows its address once it listens). */
  setDashboardUrl(url: string): void {
    this.options.dashboardUrl = url;
    this.groups.setDashboardUrl(url);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.pollMs ?? 500);
    this.timer.unref();
  }

  /** Stops the timer; what groups still hold is queued (sent after a restart), in-flight deliveries finish. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.queue(this.groups.flush(this.now(), true));
    await this.settled();
  }

  /** Resolves when the deliveries under way have ended (delivered or put back for retry). */
  async settled(): Promise<void> {
    while (this.running.size > 0 || this.storing.size > 0) await Promise.allSettled([...this.running, ...this.storing]);
  }

  /** Takes a transition into its rule's groups; cheap and synchronous. */
  notify(rule: AlarmRule, transition: AlarmTransition, silenced: boolean): void {
    const { channels } = rule.notify;
    if (channels.length === 0) return;
    if (silenced) {
      // Nothing is said while silenced; a cleared alarm leaves its group without a "resolved".
      if (transition.to === 'ok') this.groups.forget(channels, rule.id, transition.node, transition.subject);
      return;
    }
    const now = this.now();
    const summary = {
      id: rule.id,
      metric: rule.metric,
      threshold: rule.threshold,
      when: rule.below ? ('below' as const) : ('above' as const),
      description: rule.input.description ?? null,
    };
    const due = this.groups.add(channels, summary, rule.notify, transition, now);
    this.stats.grouped++;
    // A rule without a wait is told at once rather than at the next tick.
    if (due !== null && due <= now && !this.tickQueued) {
      this.tickQueued = true;
      queueMicrotask(() => {
        this.tickQueued = false;
        this.tick();
      });
    }
  }

  /** The rules now in force: groups of rules gone, or of channels a rule no longer lists, are dropped. */
  rulesChanged(rules: readonly AlarmRule[]): void {
    const listed = new Set(rules.flatMap((r) => r.notify.channels.map((c) => `${c}\u0000${r.id}`)));
    this.groups.retain((channel, ruleId) => listed.has(`${channel}\u0000${ruleId}`));
  }

  /** A node removed from the fleet: its alarms leave their groups without a "resolved". */
  forgetNode(node: string): void {
    this.groups.forgetNode(node);
  }

  /** Turns due groups into queued messages and starts the deliveries that are due. */
  tick(): void {
    const before = this.groups.held;
    const queued = this.queue(this.groups.flush(this.now()));
    this.stats.rateLimited += this.groups.held - before;
    if (queued) this.track(queued.then(() => this.pump()));
    else this.pump();
  }

  /** Queues the messages; a promise when the store answers later (the due rows are read after it). */
  private queue(messages: { channel: string; message: AlarmMessage }[]): Promise<unknown> | null {
    const now = this.now();
    const writes: Promise<void>[] = [];
    for (const { channel, message } of messages) {
      const write = whenStored(
        () => this.options.store.enqueue(channelName(channel) ?? 'unknown', channel, JSON.stringify(message), now),
        () => void this.stats.queued++,
        (err) => this.options.log.error({ err: err.message, channel: redactedChannel(channel) }, 'could not queue an alarm notification'),
      );
      if (write) writes.push(write);
    }
    if (writes.length === 0) return null;
    return this.track(Promise.all(writes));
  }

  private track<T>(p: Promise<T>): Promise<void> {
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.storing.add(done);
    void done.finally(() => this.storing.delete(done));
    return done;
  }

  /** Starts the deliveries that are due. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    const limit = (this.options.concurrency ?? 4) - this.inFlight.size;
    if (limit <= 0) return;
    const reading = whenStored(
      () => this.options.store.claimDue(this.now(), limit, this.leaseMs()),
      (rows) => this.startDeliveries(rows.filter((d) => !this.inFlight.has(d.id))),
      (err) => this.options.log.warn({ err: err.message }, 'could not read the notification queue'),
    );
    if (!reading) return;
    this.pumping = true;
    this.track(
      reading.finally(() => {
        this.pumping = false;
        if (!this.pumpAgain) return;
        this.pumpAgain = false;
        this.pump();
      }),
    );
  }

  /** How long a claimed notification is this hub's: past any attempt's end, so no other reader sends it meanwhile. */
  private leaseMs(): number {
    return Math.max(60_000, 3 * (this.options.timeoutMs ?? 10_000));
  }

  private startDeliveries(due: Delivery[]): void {
    for (const d of due) {
      this.inFlight.add(d.id);
      const p = this.deliver(d).finally(() => {
        this.inFlight.delete(d.id);
        this.running.delete(p);
      });
      this.running.add(p);
    }
  }

  /** Sends a test message to a channel URL now (not queued, not retried); throws with what went wrong. */
  sendTest(channel: string): Promise<void> {
    return sendToChannel(channel, testMessage(this.options.dashboardUrl ?? null), {
      timeoutMs: this.options.timeoutMs ?? 10_000,
      resolve: this.options.resolve,
    });
  }

  /** The queue per channel: what waits, what keeps failing and why. */
  async queueStatus(): Promise<ChannelQueueStatus[]> {
    return (await this.options.store.queueStatus()).map((s) => ({ ...s, channel: redactedChannel(s.url) }));
  }

  private async deliver(d: Delivery): Promise<void> {
    const { log } = this.options;
    const channel = queuedChannel(d);
    try {
      // The destination first: a row an older hub queued may name one no rule may name now.
      const problems = channelProblems(channel);
      if (problems.length > 0) throw new Error(`refused destination: ${problems.join('; ')}`);
      const message = queuedMessage(d);
      await sendToChannel(channel, message, { timeoutMs: this.options.timeoutMs ?? 10_000, resolve: this.options.resolve });
      await this.options.store.markDelivered(d.id, this.now());
      this.stats.delivered++;
    } catch (err) {
      this.stats.failedAttempts++;
      const backoff = Math.min((this.options.baseBackoffMs ?? 2000) * 2 ** d.attempts, this.options.maxBackoffMs ?? 10 * 60_000);
      const error = (err as Error).message;
      this.stats.lastError = { channel: redactedChannel(channel), error, ts_ms: this.now() };
      try {
        await this.options.store.markFailed(d.id, this.now() + backoff, error);
      } catch {
        // the store is closing: the row stays due and is retried after a restart
      }
      log.warn(
        { kind: d.kind, channel: redactedChannel(channel), attempt: d.attempts + 1, retryInMs: backoff, err: error },
        'alarm notification failed; kept for retry',
      );
    }
  }
}

/** Rows queued by an older hub hold the one-transition webhook body. */
interface LegacyBody {
  transition: AlarmTransition;
  rule: { id: string; metric: string; threshold: number; description: string | null };
}

/** A queued row's channel URL; `ntfy` rows of older hubs hold an http(s) topic URL. */
function queuedChannel(d: Delivery): string {
  return d.kind === 'ntfy' && /^https?:/.test(d.url) ? ntfyChannelUrl(d.url) : d.url;
}

/** A queued row's message, rows of older hubs included. */
function queuedMessage(d: Delivery): AlarmMessage {
  const body = JSON.parse(d.body) as AlarmMessage | LegacyBody;
  if ('v' in body) return body;
  const t = body.transition;
  if (!t || !body.rule) throw new Error(`queued notification ${d.id} has a body of no known shape`);
  const firing = t.to !== 'ok';
  return {
    v: 1,
    status: firing ? 'firing' : 'resolved',
    level: t.to,
    repeat: false,
    title: `remonitor: ${t.node} ${body.rule.id} ${t.to.toUpperCase()}`,
    rule: body.rule,
    firing: firing ? [t] : [],
    resolved: firing ? [] : [t],
    url: null,
  };
}
