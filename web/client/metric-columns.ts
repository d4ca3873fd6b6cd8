// The fleet page's metric columns (the table's, and the figures on the cards), from the registry
// (protocol/metrics.ts, FLEET_COLUMNS and each metric's `fleet`): which metrics fill a column, the
// value it sorts by and the text it shows. No DOM here.
import { FLEET_COLUMNS, METRICS, type FleetColumnName, type MetricUnit } from '../../protocol/metrics.ts';
import type { FleetNodeSummary, FleetPointMetric } from '../../shared/api-types.ts';
import { fmtBytes, fmtDuration, fmtPct, fmtRate, fmtTemp } from './format.ts';

type FleetPoint = NonNullable<FleetNodeSummary['latest']>;

const finite = (v: number | null | undefined): v is number => v != null && Number.isFinite(v);

/** How a value of each unit is written in a cell. */
const FORMAT: Record<MetricUnit, (v: number | null | undefined) => string> = {
  percent: fmtPct,
  bytes: fmtBytes,
  bytes_per_second: fmtRate,
  celsius: fmtTemp,
  seconds: fmtDuration,
  count: (v) => (finite(v) ? String(Math.round(v)) : '—'),
  load: (v) => (finite(v) ? v.toFixed(2) : '—'),
};

interface Member {
  name: FleetPointMetric;
  /** Written before its value when the column shows several. */
  mark: string;
  fmt: (v: number | null | undefined) => string;
}

export interface MetricColumn {
  column: FleetColumnName;
  label: string;
  /** The header's tooltip. */
  title: string | null;
  /** The metrics it shows, in registry order. */
  members: readonly Member[];
}

type FleetMetric = Extract<(typeof METRICS)[number], { fleet: object }>;

/** The fleet page's metric columns, in their order. */
export const METRIC_COLUMNS: readonly MetricColumn[] = FLEET_COLUMNS.map(
  (c): MetricColumn => ({
    column: c.column,
    label: c.label,
    title: 'title' in c ? c.title : null,
    members: METRICS.filter((m): m is FleetMetric => m.fleet?.column === c.column).map((m) => ({
      name: m.name,
      mark: 'mark' in m.fleet ? m.fleet.mark : '',
      fmt: FORMAT[m.unit],
    })),
  }),
);

const BY_COLUMN = new Map<FleetColumnName, MetricColumn>(METRIC_COLUMNS.map((c) => [c.column, c]));
const columnOf = (column: FleetColumnName): MetricColumn => BY_COLUMN.get(column)!;

/** The metrics a column shows (a chart of it asks for these). */
export const columnMetrics = (column: FleetColumnName): FleetPointMetric[] => columnOf(column).members.map((m) => m.name);

/** The value a column sorts by: its metric's, or the sum of its metrics' (undefined when none is known). */
export function columnValue(p: FleetPoint | null | undefined, column: FleetColumnName): number | undefined {
  let sum: number | undefined;
  for (const m of columnOf(column).members) {
    const v = p?.[m.name];
    if (v != null) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** A column's text: its metric's value, or each of its metrics' after its mark ("↓1.5 kB/s ↑200 B/s"); '—' when none is known. */
export function columnText(p: FleetPoint | null | undefined, column: FleetColumnName): string {
  const members = columnOf(column).members;
  if (members.length === 1) return members[0]!.fmt(p?.[members[0]!.name]);
  if (members.every((m) => p?.[m.name] == null)) return '—';
  return members.map((m) => `${m.mark}${m.fmt(p?.[m.name])}`).join(' ');
}
