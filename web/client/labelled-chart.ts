// The node page's labelled chart: a picker of the labelled metrics the node reports (per core, per
// mount, per interface, per container, its own metrics) and one chart with a line per label set,
// in the page's chart group so its window, zoom and cursor follow the other charts.
import type uPlot from 'uplot';
import { LABELLED_METRICS, type MetricUnit } from '../../protocol/metrics.ts';
import type { LabelledListResponse, LabelledSeriesResponse } from '../../shared/api-types.ts';
import { getJson } from './api.ts';
import type { ChartGroup, ChartSpec } from './charts.ts';
import { byId, h } from './dom.ts';
import { fmtBytes, fmtPct, fmtRate } from './format.ts';

const CHART_HEIGHT = 170;
/** The live range reloads this often: the chart shows minutes, so a few points a reload. */
const LIVE_RELOAD_MS = 15_000;
/** Line colours in turn, one per label set. */
const PALETTE = ['#2563eb', '#059669', '#d97706', '#db2777', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#4f46e5', '#ea580c'];

const FORMAT: Partial<Record<MetricUnit, (v: number) => string>> = { percent: fmtPct, bytes: fmtBytes, bytes_per_second: fmtRate };
const plain = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));

/** One label set as a series label: its values ("0", "/boot", "eth0"), or its pairs when it has several. */
const labelText = (labels: Record<string, string>) => {
  const entries = Object.entries(labels);
  return entries.length === 1 ? entries[0]![1] : entries.map(([k, v]) => `${k}=${v}`).join(' ');
};

export class LabelledChart {
  private readonly select: HTMLSelectElement;
  private readonly body: HTMLElement;
  private readonly panel: HTMLElement;
  private u: uPlot | null = null;
  private seq = 0;
  /** Labels a series must carry to be drawn (show()); the legend brings the others back. */
  private focus: Record<string, string> | null = null;

  constructor(
    private readonly node: string,
    private readonly group: ChartGroup,
    private from: string,
  ) {
    const host = byId('labelled');
    this.select = h('select', { 'aria-label': 'Labelled metric' });
    this.body = h('div', { class: 'chart-body' });
    this.panel = h(
      'figure',
      { class: 'chart', 'data-chart': 'labelled' },
      h('figcaption', {}, h('span', { class: 'chart-title', text: 'Per core, mount, interface' }), this.select),
      this.body,
    );
    host.append(this.panel);
    this.select.addEventListener('change', () => {
      this.focus = null;
      void this.load();
    });
    void this.list().catch((err: Error) => {
      // A hub that keeps no labelled series (PostgreSQL, for now) says so; the page goes on without it.
      host.hidden = true;
      console.warn(`labelled series: ${err.message}`);
    });
    setInterval(() => {
      if (this.from === '-15m' && !document.hidden && this.select.value) void this.load().catch(() => {});
    }, LIVE_RELOAD_MS);
  }

  /** Follows the page's range (`-15m`, `-1h`, `-24h`, `-7d`). */
  setRange(from: string): void {
    if (from === this.from && this.u) return;
    this.from = from;
    void this.load().catch(() => {});
  }

  /** Picks `metric` and draws only the series whose labels include `focus` (a container's, say). */
  async show(metric: string, focus: Record<string, string> | null = null): Promise<void> {
    if (![...this.select.options].some((o) => o.value === metric)) this.select.append(h('option', { value: metric, text: metric }));
    this.select.value = metric;
    this.focus = focus;
    this.panel.scrollIntoView({ block: 'nearest' });
    await this.load();
  }

  private async list(): Promise<void> {
    const { metrics } = await getJson<LabelledListResponse>(`/api/nodes/${encodeURIComponent(this.node)}/labelled`);
    // The registry's order first, then the node's own metrics by name.
    const rank = (name: string) => {
      const i = LABELLED_METRICS.findIndex((m) => m.name === name);
      return i < 0 ? LABELLED_METRICS.length : i;
    };
    metrics.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
    this.select.replaceChildren(...metrics.map((m) => h('option', { value: m.name, text: m.description ? `${m.description} (${m.name})` : m.name })));
    byId('labelled').hidden = metrics.length === 0;
    if (metrics.length > 0) await this.load();
  }

  private async load(): Promise<void> {
    const metric = this.select.value;
    if (!metric) return;
    const seq = ++this.seq;
    const width = Math.max(200, Math.floor(this.body.clientWidth));
    const res = await getJson<LabelledSeriesResponse>(
      `/api/nodes/${encodeURIComponent(this.node)}/labelled/${encodeURIComponent(metric)}?from=${this.from}&to=now&points=${width}`,
    );
    if (seq !== this.seq) return;
    const unit = LABELLED_METRICS.find((m) => m.name === metric)?.unit;
    const fmt = (unit && FORMAT[unit]) || plain;
    const spec: ChartSpec = {
      key: 'labelled',
      series: res.labels.map((l, i) => ({ label: labelText(l), color: PALETTE[i % PALETTE.length]! })),
      fmt,
      ...(unit === 'percent' ? { yRange: [0, 100] as [number, number] } : { fromZero: true }),
      axisSize: 72,
    };
    if (this.u) this.group.remove(this.u);
    this.body.replaceChildren();
    this.u = this.group.add(this.body, spec, width, CHART_HEIGHT, res.data as uPlot.AlignedData);
    const focus = this.focus;
    if (focus) {
      const u = this.u;
      res.labels.forEach((l, i) => {
        if (Object.entries(focus).some(([k, v]) => l[k] !== v)) u.setSeries(i + 1, { show: false });
      });
    }
    this.panel.dataset['focus'] = focus ? labelText(focus) : '';
    this.panel.dataset['metric'] = metric;
    this.panel.dataset['series'] = String(res.labels.length);
    this.panel.dataset['points'] = String(res.data[0].length);
  }
}
