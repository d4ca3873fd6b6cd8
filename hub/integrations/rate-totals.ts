// Counters for /metrics from the rates nodes send: Prometheus wants `_bytes_total` counters and
// takes rates itself, while an agent sends bytes per second over its last interval. Each live
// sample's rate times the time since the node's previous sample adds to the node's total, so the
// total is what the node moved while this hub listened; it starts at 0 when the hub starts, which
// Prometheus' rate() reads as a counter reset.
import { METRICS, type MetricName } from '../../protocol/index.ts';
import type { SamplePoint } from '../../shared/api-types.ts';
import type { LiveFeed } from '../live-feed.ts';

/** The registry's rate metrics: what gets a counter. */
export const RATE_METRICS: readonly MetricName[] = METRICS.filter((m) => m.kind === 'rate').map((m) => m.name);

/** A silence longer than this is not bridged: the rate of the sample after it says nothing of the gap. */
const MAX_GAP_MS = 5 * 60_000;

interface NodeTotals {
  lastMs: number;
  totals: Float64Array;
}

export class RateTotals {
  private readonly byNode = new Map<string, NodeTotals>();

  /** Counts every sample the feed publishes, until the returned function is called. */
  static follow(feed: LiveFeed): { totals: RateTotals; stop: () => void } {
    const totals = new RateTotals();
    const stop = feed.subscribe((event) => {
      if (event.type === 'sample') totals.add(event.node, event.point);
    });
    return { totals, stop };
  }

  add(node: string, point: SamplePoint): void {
    const held = this.byNode.get(node);
    if (!held) {
      this.byNode.set(node, { lastMs: point.ts_ms, totals: new Float64Array(RATE_METRICS.length) });
      return;
    }
    const dtMs = point.ts_ms - held.lastMs;
    if (dtMs <= 0) return; // a replayed or repeated sample: its time was counted already
    held.lastMs = point.ts_ms;
    if (dtMs > MAX_GAP_MS) return;
    for (let i = 0; i < RATE_METRICS.length; i++) {
      const rate = point[RATE_METRICS[i]!];
      if (rate !== undefined) held.totals[i]! += (rate * dtMs) / 1000;
    }
  }

  /** The node's total of a rate metric, bytes (0 after its first sample); undefined for a node not seen. */
  total(node: string, metric: MetricName): number | undefined {
    const held = this.byNode.get(node);
    const i = RATE_METRICS.indexOf(metric);
    return held && i >= 0 ? Math.round(held.totals[i]!) : undefined;
  }

  /** Forgets a node (removed from the fleet). */
  forget(node: string): void {
    this.byNode.delete(node);
  }
}
