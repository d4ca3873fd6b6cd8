// A sample's labelled values (protocol/metrics.ts LABELLED_METRICS, and its `series` field): one
// value per core, mount, interface or named series, keyed by metric name and label set.
import { LABELLED_METRICS, type LabelledValue, type Sample } from '../../protocol/index.ts';

/** The parts of a sample that hold labelled values (a stored detail holds the same). */
export type LabelledSource = Pick<Sample, 'cpu_core_pct' | 'filesystems' | 'net' | 'series'>;

/** A series' key: its name and its labels in name order, as canonical JSON (`{"cpu":"0"}`). */
export function labelsKey(labels: Record<string, string>): string {
  const names = Object.keys(labels).sort();
  return JSON.stringify(Object.fromEntries(names.map((n) => [n, labels[n]])));
}

export function labelledValues(s: LabelledSource): LabelledValue[] {
  const out: LabelledValue[] = [];
  for (const m of LABELLED_METRICS) {
    const { source } = m;
    if (source === 'series') continue;
    if (source.list === 'cpu_core_pct') s.cpu_core_pct?.forEach((value, i) => out.push({ name: m.name, labels: { [m.label]: String(i) }, value }));
    else if (source.list === 'filesystems')
      for (const f of s.filesystems ?? []) out.push({ name: m.name, labels: { [m.label]: f.mount }, value: f[source.member] });
    else for (const n of s.net ?? []) out.push({ name: m.name, labels: { [m.label]: n.iface }, value: n[source.member] });
  }
  if (s.series) out.push(...s.series);
  return out;
}
