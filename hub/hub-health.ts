// The hub's own health for /metrics: ingest counters, a received-samples rate over a short
// window, the write queue and the database size on disk.
import { statSync } from 'node:fs';
import type { IngestStats } from './ingest.ts';
import type { HubHealth } from './prometheus.ts';

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

export interface HealthSource {
  stats: IngestStats;
  /** Samples decoded and not yet written. */
  pending: number;
}

/**
 * Samples the ingest counters every `everyMs` (so the rate is right even between scrapes) and
 * answers `health()` for the /metrics route.
 */
export class HubHealthMonitor {
  private readonly meter: RateMeter;
  private lastRate = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: HealthSource,
    private readonly dbPath: string | null,
    private readonly everyMs = 1000,
    now: () => number = Date.now,
  ) {
    this.meter = new RateMeter(10_000, now);
  }

  start(): void {
    this.lastRate = this.meter.rate(this.source.stats.received);
    this.timer = setInterval(() => (this.lastRate = this.meter.rate(this.source.stats.received)), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  health(): HubHealth {
    const { stats } = this.source;
    return {
      received: stats.received,
      stored: stats.stored,
      duplicates: stats.duplicates,
      rejected: stats.rejected,
      rejectedByReason: { ...stats.rejectedByReason },
      ingestRatePerS: Math.round(this.lastRate * 100) / 100,
      queueDepth: this.source.pending,
      dbBytes: this.dbPath ? fileBytes(this.dbPath) + fileBytes(`${this.dbPath}-wal`) : null,
    };
  }
}
