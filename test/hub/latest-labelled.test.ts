// LatestLabelled finds a value it holds by its position in the sample's list before its key: these
// cases move, drop and add cores, mounts and interfaces between samples, and the values held must be
// those that keying every value by name and labels gives (the newest of each, rates added up).
import { describe, expect, it } from 'vitest';
import { LatestLabelled } from '../../hub/integrations/latest-labelled.ts';
import { labelledMetricSpec, type Sample } from '../../protocol/index.ts';
import { labelledValues, labelsKey } from '../../hub/storage/labelled-values.ts';
import { sampleAt } from '../helpers/fleet-publisher.ts';

/** The rule as it reads: every value keyed by name and labels, in first-seen order. */
function keyedByName(samples: readonly Sample[]): { name: string; labels: Record<string, string>; value: number }[] {
  const held = new Map<string, { name: string; labels: Record<string, string>; value: number; total: number }>();
  let lastTs = samples[0]!.ts_ms;
  for (const s of samples) {
    const dtMs = s.ts_ms - lastTs;
    if (dtMs < 0) continue;
    lastTs = s.ts_ms;
    for (const v of labelledValues(s)) {
      const key = `${v.name}\u0000${labelsKey(v.labels)}`;
      const h = held.get(key);
      if (!h) held.set(key, { ...v, total: 0 });
      else {
        h.value = v.value;
        if (labelledMetricSpec(v.name)?.kind === 'rate' && dtMs > 0 && dtMs <= 5 * 60_000) h.total += (v.value * dtMs) / 1000;
      }
    }
  }
  return [...held.values()].map(({ name, labels, value, total }) => ({
    name,
    labels,
    value: labelledMetricSpec(name)?.kind === 'rate' ? Math.round(total) : value,
  }));
}

const net = (...ifaces: [string, number][]) => ifaces.map(([iface, rx]) => ({ iface, rx_bps: rx, tx_bps: rx / 2 }));
const fs = (...mounts: [string, number][]) => mounts.map(([mount, pct]) => ({ mount, size_bytes: 1000, used_bytes: pct * 10, used_pct: pct }));

const cases: { name: string; samples: Sample[] }[] = [
  {
    name: 'the same lists every second',
    samples: [1, 2, 3].map((i) => sampleAt(i, i * 1000, { cpu_core_pct: [i, i + 1], net: net(['eth0', 100 * i]), filesystems: fs(['/', i]) })),
  },
  {
    name: 'interfaces swap places, one goes and comes back',
    samples: [
      sampleAt(1, 1000, { net: net(['eth0', 100], ['wlan0', 10]) }),
      sampleAt(2, 2000, { net: net(['wlan0', 20], ['eth0', 200]) }),
      sampleAt(3, 3000, { net: net(['wlan0', 30]) }),
      sampleAt(4, 4000, { net: net(['docker0', 5], ['eth0', 400], ['wlan0', 40]) }),
    ],
  },
  {
    name: 'cores and mounts grow, shrink, and a replayed sample is skipped',
    samples: [
      sampleAt(1, 1000, { cpu_core_pct: [10], filesystems: fs(['/', 1], ['/boot', 2]) }),
      sampleAt(2, 2000, { cpu_core_pct: [20, 21, 22], filesystems: fs(['/boot', 3]) }),
      sampleAt(3, 1500, { cpu_core_pct: [99, 99, 99, 99], filesystems: fs(['/old', 9]) }),
      sampleAt(4, 3000, { cpu_core_pct: [30, 31], filesystems: fs(['/data', 4], ['/', 5]) }),
    ],
  },
  {
    name: 'a long silence is not bridged, series keep their own values',
    samples: [
      sampleAt(1, 1000, { net: net(['eth0', 100]), series: [{ name: 'queue_depth', labels: { queue: 'mail' }, value: 3 }] }),
      sampleAt(2, 1000 + 10 * 60_000, { net: net(['eth0', 100]), series: [{ name: 'queue_depth', labels: { queue: 'mail' }, value: 4 }] }),
      sampleAt(3, 2000 + 10 * 60_000, { net: net(['eth0', 50]), series: [{ name: 'queue_depth', labels: { queue: 'mail' }, value: 5 }] }),
    ],
  },
];

describe('LatestLabelled', () => {
  it.each(cases)('$name: the values keyed by name and labels give', ({ samples }) => {
    const latest = new LatestLabelled();
    for (let n = 1; n <= samples.length; n++) {
      latest.add('pi', samples[n - 1]!);
      expect(latest.of('pi')).toEqual(keyedByName(samples.slice(0, n)));
    }
  });

  it('hands out copies: a later sample does not change values already read', () => {
    const latest = new LatestLabelled();
    latest.add('pi', sampleAt(1, 1000, { cpu_core_pct: [10] }));
    const first = latest.of('pi').find((v) => v.name === 'cpu_core_pct');
    latest.add('pi', sampleAt(2, 2000, { cpu_core_pct: [20] }));
    expect(first?.value).toBe(10);
    expect(latest.of('pi').find((v) => v.name === 'cpu_core_pct')?.value).toBe(20);
  });
});
