// Rate limit for denial warnings: a client hammering a forbidden topic (or guessing tokens) gets a
// few lines a minute in the log, then one saying the rest are suppressed, not one line per packet.
// Pure bookkeeping: the caller passes the time (ms) in.

export type DenialVerdict = 'log' | 'log-and-suppress' | 'quiet';

export interface DenialLogOptions {
  /** Warnings per key per window, then one line saying the rest are suppressed. */
  linesPerWindow: number;
  windowMs: number;
  /** Keys remembered at once; past it the oldest windows are forgotten (a flood of new keys stays bounded). */
  maxKeys: number;
}

export const DEFAULT_DENIAL_LOG: Readonly<DenialLogOptions> = Object.freeze({ linesPerWindow: 5, windowMs: 60_000, maxKeys: 10_000 });

export class DenialLog {
  /** Per key (identity name, address or client id): start of its window (ms) and lines so far. */
  private readonly windows = new Map<string, { startMs: number; count: number }>();

  constructor(private readonly options: DenialLogOptions = DEFAULT_DENIAL_LOG) {}

  /** Whether this denial is logged at warn; `log-and-suppress` is the last one this window. */
  verdict(key: string, nowMs: number): DenialVerdict {
    let window = this.windows.get(key);
    if (!window || nowMs - window.startMs >= this.options.windowMs) {
      if (!window && this.windows.size >= this.options.maxKeys) this.forgetOldest();
      window = { startMs: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count < this.options.linesPerWindow) return 'log';
    return window.count === this.options.linesPerWindow ? 'log-and-suppress' : 'quiet';
  }

  private forgetOldest(): void {
    // Map keeps insertion order: the first tenth are the oldest keys.
    let drop = Math.ceil(this.options.maxKeys / 10);
    for (const key of this.windows.keys()) {
      if (drop-- <= 0) break;
      this.windows.delete(key);
    }
  }
}
