// Each node's newest labelled values (a core, a mount, an interface, a container) for /metrics,
// kept from the live feed: the registry's labelled gauges as they are, its labelled rates added up
// into counters as RateTotals does for the fleet-wide ones, and a node's own metrics as gauges.
import { labelledMetricSpec, type LabelledValue, type Sample } from '../../protocol/index.ts';
import { labelledValues, labelsKey } from '../storage/labelled-values.ts';
import type { LiveFeed } from '../live-feed.ts';

/** A silence longer than this is not bridged (as in rate-totals.ts). */
const MAX_GAP_MS = 5 * 60_000;
/** Values kept per node: a node's own metrics are many at most this many. */
const MAX_PER_NODE = 1000;

interface NodeState {
  tsMs: number;
  /** By series key: the newest value, and for rates the total so far. */
  values: Map<string, { value: LabelledValue; total: number }>;
}

export class LatestLabelled {
  private readonly byNode = new Map<string, NodeState>();

  /** Keeps every sample the feed publishes with its full sample, until the returned function is called. */
  static follow(feed: LiveFeed): { latest: LatestLabelled; stop: () => void } {
    const latest = new LatestLabelled();
    const stop = feed.subscribe((event) => {
      if (event.type === 'sample' && event.sample) latest.add(event.node, event.sample);
    });
    return { latest, stop };
  }

  add(node: string, sample: Sample): void {
    let state = this.byNode.get(node);
    if (!state) this.byNode.set(node, (state = { tsMs: sample.ts_ms, values: new Map() }));
    const dtMs = sample.ts_ms - state.tsMs;
    if (dtMs < 0) return; // a replayed sample: older than what is held
    state.tsMs = sample.ts_ms;
    for (const v of labelledValues(sample)) {
      const key = `${v.name}\u0000${labelsKey(v.labels)}`;
      const held = state.values.get(key);
      if (!held) {
        if (state.values.size < MAX_PER_NODE) state.values.set(key, { value: v, total: 0 });
        continue;
      }
      held.value = v;
      if (labelledMetricSpec(v.name)?.kind === 'rate' && dtMs > 0 && dtMs <= MAX_GAP_MS) held.total += (v.value * dtMs) / 1000;
    }
  }

  /** A node's labelled values: for a rate, `value` is its total so far (bytes). */
  of(node: string): { name: string; labels: Record<string, string>; value: number }[] {
    const state = this.byNode.get(node);
    if (!state) return [];
    return [...state.values.values()].map(({ value, total }) =>
      labelledMetricSpec(value.name)?.kind === 'rate' ? { ...value, value: Math.round(total) } : value,
    );
  }

  forget(node: string): void {
    this.byNode.delete(node);
  }
}
