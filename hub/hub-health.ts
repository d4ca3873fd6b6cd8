// The hub's own health: for /metrics, ingest counters, a received-samples rate over a short window,
// the write queue and the database size on disk; for /healthz, what keeps the hub from doing its
// work (a store that refuses writes, a broker out of reach, ingest falling behind), logged when it
// starts, once a minute while it lasts and when it ends, and told to listeners (the hub's alarm).
import { statSync } from 'node:fs';
import type { IngestStats } from './ingest/ingest.ts';
import type { HubHealth } from './integrations/prometheus.ts';
import type { Logger } from '../shared/logger.ts';
import type { StoreFailure } from './sessions/command-bridge.ts';

/** Counts per second over a sliding window of snapshots taken when `rate()` is asked. */
export class RateMeter {
  private readonly snapshots: { atMs: number; count: number }[] = [];

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `count` (a monotonic counter) and returns its rate per second over the window. */
  rate(count: number): number {
    const atMs = this.now();
    this.snapshots.push({ atMs, count });
    // Keep one snapshot at or before the window start, so that the rate spans the whole window.
    while (this.snapshots.length > 2 && this.snapshots[1]!.atMs <= atMs - this.windowMs) this.snapshots.shift();
    const first = this.snapshots[0]!;
    const spanMs = atMs - first.atMs;
    return spanMs > 0 ? ((count - first.count) * 1000) / spanMs : 0;
  }
}

/** File size in bytes, 0 when the file does not exist. */
function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Ingest's hook (IngestOptions.writeHealth): each write that fails, and each that succeeds. */
export interface WriteHealth {
  failed(err: Error): void;
  stored(): void;
}

export interface HealthSource {
  stats: IngestStats;
  /** Samples decoded and not yet written. */
  pending: number;
}

/** What keeps the hub from its work: the store, the broker, or ingest (behind while nothing fails). */
export type HealthSubject = 'store' | 'broker' | 'ingest';

export interface HealthProblem {
  what: HealthSubject;
  /** In words, naming the file or the broker. */
  detail: string;
  since_ms: number;
}

/** The body of GET /healthz: 200 with `{"ok":true}`, or 503 with the problems. */
export interface HealthReport {
  ok: boolean;
  problems?: HealthProblem[];
}

export interface HealthLimits {
  /** Samples waiting this long with nothing stored make ingest "behind", ms. */
  ingestLagMs: number;
  /** The broker out of reach this long is a problem, ms (the hub's clients reconnect every second). */
  brokerDownMs: number;
  /** A problem that lasts is logged again this often, ms. */
  logEveryMs: number;
}

// Agents send their unacked samples again after 10 s; a hub that stored nothing for longer than
// that while samples wait is behind. A stalled SD card can hold one commit for seconds.
export const DEFAULT_HEALTH_LIMITS: HealthLimits = { ingestLagMs: 15_000, brokerDownMs: 5_000, logEveryMs: 60_000 };

export interface HealthMonitorOptions {
  /** The SQLite file of samples, for /metrics; null on PostgreSQL. */
  dbPath: string | null;
  log: Logger;
  /** Where the hub's MQTT clients connect, named in the broker's problem. */
  brokerUrl: string;
  /** Since when the hub's own MQTT client has been away from the broker (null: connected, or unknown). */
  brokerDownSince?: () => number | null;
  /** Watch samples the database refuses (hub/sessions/command-bridge.ts). */
  watchStore?: () => StoreFailure | null;
  limits?: Partial<HealthLimits>;
  /** How often the counters are sampled and the problems looked at, ms. */
  everyMs?: number;
  now?: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms / 1000);

/**
 * Samples the ingest counters every `everyMs` (so the rate is right even between scrapes) and
 * answers `health()` for the /metrics route and `report()` for /healthz.
 */
export class HubHealthMonitor {
  private readonly meter: RateMeter;
  private lastRate = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly limits: HealthLimits;
  private readonly now: () => number;
  /** Ingest's writes failing in a row: since when, how many, the last error. */
  private writeFailure: { sinceMs: number; attempts: number; error: string } | null = null;
  private lastStoredMs: number;
  /** Since when samples have been seen waiting without a break (looked at every tick). */
  private waitingSinceMs: number | null = null;
  /** Damage the integrity check found after the hub had started. */
  private damage: { sinceMs: number; detail: string } | null = null;
  /** Each current problem, and when it was last logged. */
  private readonly current = new Map<HealthSubject, { problem: HealthProblem; loggedMs: number }>();
  private readonly listeners = new Set<(problems: HealthProblem[]) => void>();

  /** Ingest's hook (IngestOptions.writeHealth). */
  readonly writes: WriteHealth = {
    failed: (err) => {
      this.writeFailure ??= { sinceMs: this.now(), attempts: 0, error: '' };
      this.writeFailure.attempts++;
      this.writeFailure.error = err.message;
    },
    stored: () => {
      this.writeFailure = null;
      this.lastStoredMs = this.now();
    },
  };

  constructor(
    private readonly source: HealthSource,
    private readonly options: HealthMonitorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.meter = new RateMeter(10_000, this.now);
    this.limits = { ...DEFAULT_HEALTH_LIMITS, ...options.limits };
    this.lastStoredMs = this.now();
  }

  start(): void {
    this.lastRate = this.meter.rate(this.source.stats.received);
    this.timer = setInterval(() => this.tick(), this.options.everyMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The integrity check, finished after the start, found the database damaged. */
  damaged(detail: string): void {
    this.damage = { sinceMs: this.now(), detail };
    this.tick();
  }

  /** Hears the problems each time one starts or ends. */
  onChange(listener: (problems: HealthProblem[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tick(): void {
    this.lastRate = this.meter.rate(this.source.stats.received);
    if (this.source.pending === 0) this.waitingSinceMs = null;
    else this.waitingSinceMs ??= this.now();
    this.logChanges(this.problems());
  }

  health(): HubHealth {
    const { stats } = this.source;
    const { dbPath } = this.options;
    return {
      received: stats.received,
      stored: stats.stored,
      duplicates: stats.duplicates,
      rejected: stats.rejected,
      rejectedByReason: { ...stats.rejectedByReason },
      ingestRatePerS: Math.round(this.lastRate * 100) / 100,
      queueDepth: this.source.pending,
      dbBytes: dbPath ? fileBytes(dbPath) + fileBytes(`${dbPath}-wal`) : null,
    };
  }

  report(): HealthReport {
    const problems = this.problems();
    return problems.length > 0 ? { ok: false, problems } : { ok: true };
  }

  /** What is wrong now: at most one problem per subject. */
  problems(): HealthProblem[] {
    const now = this.now();
    const out: HealthProblem[] = [];
    const store: { sinceMs: number; text: string }[] = [];
    if (this.damage) store.push({ sinceMs: this.damage.sinceMs, text: this.damage.detail });
    const w = this.writeFailure;
    if (w) store.push({ sinceMs: w.sinceMs, text: `${w.attempts} writes of samples failed since ${iso(w.sinceMs)}; the last: ${w.error}` });
    const watch = this.options.watchStore?.();
    if (watch) store.push({ sinceMs: watch.sinceMs, text: `${watch.waiting} watch samples wait to be stored since ${iso(watch.sinceMs)}: ${watch.error}` });
    if (store.length > 0) out.push({ what: 'store', detail: store.map((s) => s.text).join('; '), since_ms: Math.min(...store.map((s) => s.sinceMs)) });
    const downSince = this.options.brokerDownSince?.() ?? null;
    if (downSince !== null && now - downSince >= this.limits.brokerDownMs) {
      out.push({
        what: 'broker',
        detail: `the hub has not reached the broker at ${this.options.brokerUrl} for ${seconds(now - downSince)} s`,
        since_ms: downSince,
      });
    }
    const pending = this.source.pending;
    const lagFrom = Math.max(this.lastStoredMs, this.waitingSinceMs ?? Infinity);
    if (pending > 0 && now - lagFrom >= this.limits.ingestLagMs) {
      out.push({ what: 'ingest', detail: `${pending} samples wait to be stored and none was stored for ${seconds(now - lagFrom)} s`, since_ms: lagFrom });
    }
    return out;
  }

  /** Logs a problem when it starts, once every `logEveryMs` while it lasts, and when it ends; tells the listeners of starts and ends. */
  private logChanges(problems: HealthProblem[]): void {
    const { log } = this.options;
    const now = this.now();
    let changed = false;
    for (const problem of problems) {
      const seen = this.current.get(problem.what);
      if (!seen) {
        changed = true;
        this.current.set(problem.what, { problem, loggedMs: now });
        log.error({ what: problem.what, detail: problem.detail }, `hub unhealthy: ${problem.what} (logged again once a minute while it lasts)`);
      } else {
        seen.problem = problem;
        if (now - seen.loggedMs >= this.limits.logEveryMs) {
          seen.loggedMs = now;
          log.error({ what: problem.what, detail: problem.detail, for_s: seconds(now - problem.since_ms) }, `hub still unhealthy: ${problem.what}`);
        }
      }
    }
    for (const [what, { problem }] of this.current) {
      if (problems.some((p) => p.what === what)) continue;
      changed = true;
      this.current.delete(what);
      log.info({ what, after_s: seconds(now - problem.since_ms) }, `hub healthy again: ${what}`);
    }
    if (changed) for (const listener of this.listeners) listener(problems);
  }
}
