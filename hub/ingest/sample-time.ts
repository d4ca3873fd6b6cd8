// When a sample was taken, as far as the hub can trust it (PROTOCOL.md, "Time"). A sample's ts_ms
// is the node's clock, and a Raspberry Pi has no real-time clock: it boots in 1970 or at its last
// shutdown and jumps when NTP syncs; some devices say 2000, a broken one the year 3000. The hub
// knows better when the sample was taken: a live one just now, a replayed one `age_ms` before it
// arrived (the agent's monotonic clock, which no step moves). Where the two disagree by more than
// CLOCK_TOLERANCE_MS the hub's estimate is stored; within it, the node's ts_ms (precise spacing,
// and the same time for every copy of a sample).
import { CLOCK_TOLERANCE_MS, EARLIEST_TS_MS } from '../../protocol/index.ts';

/** What the hub knows of one sample's time. */
export interface TimeEvidence {
  /** The node's word: ts_ms. */
  tsMs: number;
  /** The hub's clock when the sample arrived. */
  receivedMs: number;
  /** Replayed from the agent's spool (`historical`): it arrived late, by an unknown delay unless `ageMs` says. */
  historical: boolean;
  /** How long before it was sent the sample was taken (`age_ms`), when the agent could tell. */
  ageMs?: number;
}

export interface Placement {
  /** The time the sample is stored at. */
  tsMs: number;
  /** How far the node's clock was off when it took the sample (ts_ms − the hub's estimate), ms; null when the hub cannot tell. */
  skewMs: number | null;
  /**
   * `node`: stored at ts_ms. `hub`: at the hub's estimate, the node's clock being off.
   * `arrival`: a replayed sample of unknown age whose ts_ms is impossible (before 2020, or after it
   * arrived): stored at its arrival, the one time the hub knows it was taken before.
   */
  clock: 'node' | 'hub' | 'arrival';
}

/**
 * Where to store a sample. `correcting` is the node's state: while its clock is known to be off
 * its samples stay corrected until it is back within half the tolerance, so that a clock near the
 * tolerance does not send its samples back and forth by two minutes.
 */
export function placeSample(e: TimeEvidence, correcting = false): Placement {
  const takenMs = e.ageMs !== undefined ? e.receivedMs - e.ageMs : e.historical ? null : e.receivedMs;
  if (takenMs === null) {
    const possible = e.tsMs >= EARLIEST_TS_MS && e.tsMs <= e.receivedMs + CLOCK_TOLERANCE_MS;
    return possible ? { tsMs: e.tsMs, skewMs: null, clock: 'node' } : { tsMs: e.receivedMs, skewMs: null, clock: 'arrival' };
  }
  const skewMs = e.tsMs - takenMs;
  const limit = correcting ? CLOCK_TOLERANCE_MS / 2 : CLOCK_TOLERANCE_MS;
  return Math.abs(skewMs) > limit ? { tsMs: takenMs, skewMs, clock: 'hub' } : { tsMs: e.tsMs, skewMs, clock: 'node' };
}

// At most this many nodes are remembered as off at once (a bound, not a figure ever expected): past
// it, the one flagged longest ago is forgotten and its samples are judged against the full tolerance again.
const MAX_OFF_NODES = 100_000;

/**
 * Places each node's samples, remembering which nodes' clocks are off: learnt from live samples
 * only (a replayed one tells of the past). Only those nodes take memory.
 */
export class SampleClocks {
  private readonly off = new Set<string>();

  place(node: string, e: TimeEvidence): Placement {
    const correcting = this.off.has(node);
    const placement = placeSample(e, correcting);
    if (e.historical || placement.skewMs === null) return placement;
    if (placement.clock === 'hub' && !correcting) {
      if (this.off.size >= MAX_OFF_NODES) this.off.delete(this.off.values().next().value!);
      this.off.add(node);
    } else if (placement.clock !== 'hub' && correcting) this.off.delete(node);
    return placement;
  }
}
