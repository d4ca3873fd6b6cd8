// Reconnect delays: exponential from `baseMs` to `maxMs`, each with ±`jitter` so that a fleet
// that lost its broker together does not reconnect in lockstep.
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  jitter: number; // fraction, 0.3 = ±30 %
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 30_000, jitter: 0.3 };

/** Delay before reconnect attempt `attempt` (0-based); `random` in [0, 1) is injected for tests. */
export function reconnectDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: number = Math.random()): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exponential * (1 - policy.jitter + 2 * policy.jitter * random));
}
