// uPlot option builders and the column buffers the charts draw from. Data stays in uPlot's
// aligned shape ([times in seconds, ...one column per series], null = gap) from the API to the canvas.
import uPlot from 'uplot';
import { fmtDateTime, onZoneChange, times } from './time-format.ts';
import { onThemeChange } from './theme.ts';

/**
 * uPlot's calendar for the chosen zone: where hour and day ticks fall. Labels come from
 * `timeAxisValues`, never from uPlot's own date templates (US-only, e.g. "1:10pm", "12/6/26").
 */
const zoneDate = (tsS: number): Date => (times().timeZone === 'UTC' ? uPlot.tzDate(new Date(tsS * 1e3), 'Etc/UTC') : new Date(tsS * 1e3));

/** Time axis labels in the page's locale and zone; the chart's root keeps them (data-x-ticks) for people reading the DOM. */
const timeAxisValues = (u: uPlot, splits: number[], _axisIdx: number, _space: number, incr: number): string[] => {
  const labels = times().axisLabels(splits, incr);
  const joined = labels.join('|');
  if (u.root.dataset['xTicks'] !== joined) u.root.dataset['xTicks'] = joined;
  return labels;
};

/**
 * The longest silence between two live points still drawn as a line, in seconds: 2.5 sample
 * intervals (the hub uses the same factor for its gaps), from the agent's announced interval or,
 * without one, from the spacing of the points already held.
 */
export function maxGapS(intervalMs: number | null | undefined, cols: Columns): number {
  const step = intervalMs ? intervalMs / 1000 : cols.typicalStep();
  return step > 0 ? step * 2.5 : Infinity;
}

export const COLORS = {
  cpu: '#2563eb',
  mem: '#7c3aed',
  swap: '#db2777',
  disk: '#d97706',
  rx: '#059669',
  tx: '#0284c7',
  temp: '#dc2626',
} as const;

/** Axis text and grid lines from style.css (--chart-axis, --chart-grid), so charts follow the theme; read once per theme. */
let ink: { axis: string; grid: string } | null = null;
onThemeChange(() => (ink = null));
function chartInk(): { axis: string; grid: string } {
  if (!ink) {
    const css = getComputedStyle(document.documentElement);
    ink = { axis: css.getPropertyValue('--chart-axis').trim() || '#4b5563', grid: css.getPropertyValue('--chart-grid').trim() || 'rgba(17, 24, 39, 0.08)' };
  }
  return ink;
}
const AXIS_STROKE = () => chartInk().axis;
const GRID_STROKE = () => chartInk().grid;
const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Hex colour with an alpha, for area fills under a line. */
export function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/**
 * Aligned columns that grow at the end (live samples) and shrink at the start (the window moves).
 * The arrays are handed to uPlot as they are and mutated in place; call setData after a change.
 */
export class Columns {
  t: number[] = [];
  cols: (number | null)[][];

  constructor(readonly width: number) {
    this.cols = Array.from({ length: width }, () => []);
  }

  get lastT(): number {
    return this.t.length ? (this.t[this.t.length - 1] as number) : -Infinity;
  }

  /**
   * Replaces the contents with an API answer, keeping the points already held that are newer than
   * the answer (live samples that arrived while it was in flight).
   */
  replace(data: readonly (readonly (number | null)[])[]): void {
    const t = (data[0] ?? []) as number[];
    const last = t.length ? (t[t.length - 1] as number) : -Infinity;
    let keep = this.t.length;
    while (keep > 0 && (this.t[keep - 1] as number) > last) keep--;
    const tailT = this.t.slice(keep);
    const tails = this.cols.map((c) => c.slice(keep));
    this.t = t.concat(tailT);
    this.cols = this.cols.map((_, i) => ((data[i + 1] ?? t.map(() => null)) as (number | null)[]).concat(tails[i] ?? []));
  }

  /**
   * Adds one point at the end; a point not newer than the last one is dropped (already held).
   * After a silence longer than `maxGapS` (missed samples: the node was away) a null row goes in
   * first, so the line breaks there as it does in the API's answers.
   */
  append(tS: number, values: readonly (number | null | undefined)[], maxGapS = Infinity): boolean {
    const last = this.lastT;
    if (!(tS > last)) return false;
    if (tS - last > maxGapS) {
      this.t.push(last + maxGapS / 2);
      for (const c of this.cols) c.push(null);
    }
    this.t.push(tS);
    for (let i = 0; i < this.width; i++) (this.cols[i] as (number | null)[]).push(values[i] ?? null);
    return true;
  }

  /** Drops the points before `tS`. */
  trimBefore(tS: number): void {
    let n = 0;
    while (n < this.t.length && (this.t[n] as number) < tS) n++;
    if (n === 0) return;
    this.t.splice(0, n);
    for (const c of this.cols) c.splice(0, n);
  }

  /** The median spacing of the points held, in seconds (0 with fewer than two). */
  typicalStep(): number {
    const n = Math.min(this.t.length - 1, 50);
    if (n < 1) return 0;
    const diffs: number[] = [];
    for (let i = this.t.length - n; i < this.t.length; i++) diffs.push((this.t[i] as number) - (this.t[i - 1] as number));
    diffs.sort((a, b) => a - b);
    return diffs[Math.floor(diffs.length / 2)] as number;
  }

  /** The aligned data of some columns, for uPlot. */
  view(...indices: number[]): uPlot.AlignedData {
    return [this.t, ...indices.map((i) => this.cols[i] as (number | null)[])];
  }

  /** True when column `i` holds at least one known value. */
  hasValues(i: number): boolean {
    return (this.cols[i] ?? []).some((v) => v != null);
  }
}

/** A sparkline: no axes, no cursor, 0–100 %, the last `windowS` seconds ending at now (or the newest point). */
export function sparkOptions(width: number, height: number, color: string, windowS: number): uPlot.Options {
  return {
    width,
    height,
    pxAlign: false,
    padding: [2, 0, 2, 0],
    tzDate: zoneDate,
    cursor: { show: false },
    legend: { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: {
        time: true,
        range: (u) => {
          const end = Math.max(Date.now() / 1000, lastOf(u.data[0]));
          return [end - windowS, end];
        },
      },
      y: { range: [0, 100] },
    },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, fill: alpha(color, 0.15), width: 1.25, spanGaps: false, points: { show: false } }],
  };
}

function lastOf(xs: ArrayLike<number> | undefined): number {
  return xs && xs.length ? (xs[xs.length - 1] as number) : -Infinity;
}

export interface SeriesSpec {
  label: string;
  color: string;
  /** Fill the area under the line (single-series charts). */
  fill?: boolean;
}

export interface ChartSpec {
  key: string;
  series: SeriesSpec[];
  /** How axis ticks and legend values read: 12 → "12 %". */
  fmt: (v: number) => string;
  /** Fixed y range, e.g. [0, 100]; otherwise auto from 0 (`fromZero`) or auto around the data. */
  yRange?: [number, number];
  fromZero?: boolean;
  /** Width of the y axis in CSS px: wide enough for the longest tick label. */
  axisSize?: number;
}

/**
 * The charts of one page: a shared x window (the time range shown), an optional zoom set by
 * dragging on any chart, and a cursor synced across all of them by `cursor.sync.key`.
 */
export class ChartGroup {
  readonly charts: uPlot[] = [];
  private window: [number, number] = [Date.now() / 1000 - 900, Date.now() / 1000];
  private zoom: [number, number] | null = null;

  constructor(
    private readonly syncKey: string,
    private readonly onZoom?: (zoomed: boolean) => void,
  ) {
    // Ticks move to the new zone's hours and their labels are written again.
    onZoneChange(() => {
      for (const u of this.charts) u.redraw(false, true);
    });
    onThemeChange(() => {
      for (const u of this.charts) u.redraw(false, true);
    });
  }

  /** The x range every chart shows, in seconds. */
  xRange(): [number, number] {
    return this.zoom ?? this.window;
  }

  setWindow(fromS: number, toS: number): void {
    this.window = [fromS, toS];
  }

  get zoomed(): boolean {
    return this.zoom !== null;
  }

  setZoom(range: [number, number] | null): void {
    this.zoom = range;
    const [min, max] = this.xRange();
    for (const u of this.charts) u.setScale('x', { min, max });
    this.onZoom?.(range !== null);
  }

  add(container: HTMLElement, spec: ChartSpec, width: number, height: number, data: uPlot.AlignedData): uPlot {
    const opts = this.options(spec, width, height);
    const u = new uPlot(opts, data, container);
    this.charts.push(u);
    return u;
  }

  remove(u: uPlot): void {
    const i = this.charts.indexOf(u);
    if (i >= 0) this.charts.splice(i, 1);
    u.destroy();
  }

  private options(spec: ChartSpec, width: number, height: number): uPlot.Options {
    const fmt = spec.fmt;
    const yRange: uPlot.Scale.Range = spec.yRange
      ? spec.yRange
      : spec.fromZero
        ? (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1]
        : (_u, min, max) => {
            if (min == null || max == null) return [0, 100];
            const pad = Math.max((max - min) * 0.15, 2);
            return [Math.floor(min - pad), Math.ceil(max + pad)];
          };
    return {
      width,
      height,
      pxAlign: false,
      tzDate: zoneDate,
      cursor: {
        // The vertical line is the shared moment; a horizontal one would sit at a meaningless height on the other charts.
        y: false,
        sync: { key: this.syncKey, setSeries: false },
        drag: { x: true, y: false, setScale: false },
        bind: {
          // Double-click anywhere undoes the zoom of every chart of the group.
          dblclick: () => () => {
            if (this.zoom) this.setZoom(null);
            return null;
          },
        },
      },
      legend: { live: true },
      scales: {
        x: { time: true, range: () => this.xRange() },
        y: { range: yRange },
      },
      axes: [
        { stroke: AXIS_STROKE, font: FONT, grid: { stroke: GRID_STROKE, width: 1 }, ticks: { stroke: GRID_STROKE, width: 1 }, values: timeAxisValues },
        {
          stroke: AXIS_STROKE,
          font: FONT,
          size: spec.axisSize ?? 50,
          grid: { stroke: GRID_STROKE, width: 1 },
          ticks: { stroke: GRID_STROKE, width: 1 },
          values: (_u, splits) => splits.map((v) => (v == null ? '' : fmt(v))),
        },
      ],
      series: [
        { value: (_u, v) => (v == null ? '—' : fmtDateTime(v * 1000)) },
        ...spec.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: s.color,
            width: 1.5,
            spanGaps: false,
            points: { show: false },
            value: (_u, v) => (v == null ? '—' : fmt(v)),
            ...(s.fill ? { fill: alpha(s.color, 0.12) } : {}),
          }),
        ),
      ],
      hooks: {
        setSelect: [
          (u) => {
            const { left, width: w } = u.select;
            if (w > 4) {
              const a = u.posToVal(left, 'x');
              const b = u.posToVal(left + w, 'x');
              // Clear first: setZoom redraws every chart, this one included.
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              this.setZoom([a, b]);
            } else {
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            }
          },
        ],
      },
    };
  }
}
