// Each node's newest labelled values (a core, a mount, an interface, a container) for /metrics,
// kept from the live feed: the registry's labelled gauges as they are, its labelled rates added up
// into counters as RateTotals does for the fleet-wide ones, and a node's own metrics as gauges.
// It hears every sample the hub takes, on the thread that also runs the broker: a sample's values
// are read from its lists in place, and a value already held is updated where it stands, found by
// its position in the list (a node's cores, mounts and interfaces rarely change) rather than by key.
import { LABELLED_METRICS, labelledMetricSpec, type Sample } from '../../protocol/index.ts';
import { labelsKey } from '../storage/labelled-values.ts';
import type { LiveFeed } from '../live-feed.ts';

/** A silence longer than this is not bridged (as in rate-totals.ts). */
const MAX_GAP_MS = 5 * 60_000;
/** Values kept per node: a node's own metrics are many at most this many. */
const MAX_PER_NODE = 1000;

/** A registry metric read from one of the sample's lists, with what its values' keys begin with. */
interface ListMetric {
  name: string;
  label: string;
  list: 'cpu_core_pct' | 'filesystems' | 'net';
  member: string;
  rate: boolean;
  /** `name\0{"label":` — the key is this, the label's value as JSON, and `}` (labelsKey's form). */
  keyPrefix: string;
}

const LIST_METRICS: readonly ListMetric[] = LABELLED_METRICS.flatMap((m) =>
  m.source === 'series'
    ? []
    : [
        {
          name: m.name,
          label: m.label,
          list: m.source.list,
          member: 'member' in m.source ? m.source.member : '',
          rate: m.kind === 'rate',
          keyPrefix: `${m.name}\u0000{${JSON.stringify(m.label)}:`,
        },
      ],
);

/** A series' newest value (its own object: a sample's are never changed), and for a rate its total so far. */
interface Held {
  name: string;
  labels: Record<string, string>;
  value: number;
  total: number;
}

interface NodeState {
  tsMs: number;
  /** By series key (name, NUL, labelsKey): the newest value, and for rates the total so far. */
  values: Map<string, Held>;
  /** Per LIST_METRICS entry, what is held for each position of its list (the same key as in `values`). */
  byPosition: (Held | undefined)[][];
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
    if (!state) this.byNode.set(node, (state = { tsMs: sample.ts_ms, values: new Map(), byPosition: LIST_METRICS.map(() => []) }));
    const dtMs = sample.ts_ms - state.tsMs;
    if (dtMs < 0) return; // a replayed sample: older than what is held
    state.tsMs = sample.ts_ms;
    const bridged = dtMs > 0 && dtMs <= MAX_GAP_MS;
    for (let m = 0; m < LIST_METRICS.length; m++) {
      const metric = LIST_METRICS[m]!;
      const positions = state.byPosition[m]!;
      if (metric.list === 'cpu_core_pct') {
        const cores = sample.cpu_core_pct;
        if (cores) for (let i = 0; i < cores.length; i++) this.take(state, metric, positions, i, String(i), cores[i]!, dtMs, bridged);
      } else {
        const list = (metric.list === 'filesystems' ? sample.filesystems : sample.net) as readonly Record<string, unknown>[] | undefined;
        if (!list) continue;
        const labelMember = metric.list === 'filesystems' ? 'mount' : 'iface';
        for (let i = 0; i < list.length; i++) {
          const item = list[i]!;
          this.take(state, metric, positions, i, item[labelMember] as string, item[metric.member] as number, dtMs, bridged);
        }
      }
    }
    if (sample.series) {
      for (const v of sample.series) {
        const key = `${v.name}\u0000${labelsKey(v.labels)}`;
        const held = state.values.get(key);
        if (!held) {
          if (state.values.size < MAX_PER_NODE) state.values.set(key, { name: v.name, labels: v.labels, value: v.value, total: 0 });
          continue;
        }
        held.value = v.value;
        if (bridged && labelledMetricSpec(v.name)?.kind === 'rate') held.total += (v.value * dtMs) / 1000;
      }
    }
  }

  /** One value of a registry list: updated where its position says it is held, else found (or added) by key. */
  private take(
    state: NodeState,
    metric: ListMetric,
    positions: (Held | undefined)[],
    position: number,
    labelValue: string,
    value: number,
    dtMs: number,
    bridged: boolean,
  ): void {
    let held = positions[position];
    if (held === undefined || held.labels[metric.label] !== labelValue) {
      const key = `${metric.keyPrefix}${JSON.stringify(labelValue)}}`;
      held = state.values.get(key);
      if (!held) {
        if (state.values.size < MAX_PER_NODE)
          state.values.set(key, (positions[position] = { name: metric.name, labels: { [metric.label]: labelValue }, value, total: 0 }));
        return;
      }
      positions[position] = held;
    }
    held.value = value;
    if (metric.rate && bridged) held.total += (value * dtMs) / 1000;
  }

  /** A node's labelled values: for a rate, `value` is its total so far (bytes). */
  of(node: string): { name: string; labels: Record<string, string>; value: number }[] {
    const state = this.byNode.get(node);
    if (!state) return [];
    return [...state.values.values()].map(({ name, labels, value, total }) => ({
      name,
      labels,
      value: labelledMetricSpec(name)?.kind === 'rate' ? Math.round(total) : value,
    }));
  }

  forget(node: string): void {
    this.byNode.delete(node);
  }
}
