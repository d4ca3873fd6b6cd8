// When a session ends by itself: a pure decision from what its watch samples showed. The agent's
// watch only reports what it sees (processes, and each exit once); the hub's session keeps the
// state, so the hub decides, and then asks the agent to drop the watch.

/** How long a session waits with no live process before it ends: 3 intervals, at least 3 s. */
export function endGraceMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 3000);
}

export interface Liveness {
  /** `pid:42`, `name:nginx`, `cmdline:app.js`. */
  target: string;
  interval_ms: number;
  /** The newest sample with a live process, by the samples' clock; null when none had one yet. */
  last_live_ms: number | null;
  /** The session's first sample. */
  first_sample_ms: number;
}

/**
 * True when a running session's processes are gone, judged at a sample with no live process taken
 * at `nowMs`: nothing has matched for the grace (endGraceMs), after something did. A name or
 * pattern that has matched nothing yet keeps waiting (its process may start later); a pid that
 * was never there is gone once the grace has passed since the first sample, as no later process
 * can be it.
 */
export function processesGone(s: Liveness, nowMs: number): boolean {
  const grace = endGraceMs(s.interval_ms);
  if (s.last_live_ms !== null) return nowMs - s.last_live_ms >= grace;
  return s.target.startsWith('pid:') && nowMs - s.first_sample_ms >= grace;
}
