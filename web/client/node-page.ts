// The node page (`/nodes/:node`): system info, synced time-series charts over a chosen range
// (Live follows the stream), and the top processes by CPU and by memory.
import type uPlot from 'uplot';
import { PROCESS_COUNT_METRIC, UPTIME_METRIC, type NodeDetailResponse, type SamplePoint, type SeriesMetric, type StreamEvent } from '../../shared/api-types.ts';
import { CHART_GROUPS, METRIC_SPECS, type ChartGroupName, type MetricUnit } from '../../protocol/metrics.ts';
import { ApiFailure, api, clearError, showError } from './api.ts';
import './signed-in.ts';
import { ChartGroup, Columns, maxGapS, type ChartSpec } from './charts.ts';
import { renderNodeTags } from './node-tags-editor.ts';
import { byId, h, setAttr, setText } from './dom.ts';
import { fmtAgo, fmtBytes, fmtDateTime, fmtDuration, fmtPct, fmtRate, fmtTemp } from './format.ts';
import { LiveStream, liveIndicator } from './live.ts';
import { setupExportLinks } from './export-links.ts';
import { NodeAlarmOverlay } from './alarm-marks.ts';
import { mountNodeControls, setWatchCell, type NodeControls } from './node-controls.ts';
import { onZoneChange } from './time-format.ts';
import { mountNodeRemoval } from './node-remove.ts';
import { LabelledChart } from './labelled-chart.ts';
import { ContainerList } from './container-list.ts';

/** The columns every load asks for: each metric the registry draws, in its order (the Columns index of each). */
const METRICS: readonly SeriesMetric[] = METRIC_SPECS.filter((m) => m.chart !== null).map((m) => m.name as SeriesMetric);

type RangeKey = 'live' | '1h' | '24h' | '7d';
const RANGES: Record<RangeKey, { from: string; seconds: number }> = {
  live: { from: '-15m', seconds: 15 * 60 },
  '1h': { from: '-1h', seconds: 3600 },
  '24h': { from: '-24h', seconds: 86400 },
  '7d': { from: '-7d', seconds: 7 * 86400 },
};

interface ChartDef {
  key: ChartGroupName;
  title: string;
  /** Drawn only once the node has reported a value. */
  optional: boolean;
  /** Indices into METRICS, one per series. */
  cols: number[];
  spec: ChartSpec;
  /** The current value shown beside the title. */
  value: (p: SamplePoint) => string;
}

/** How each unit is formatted and scaled on a chart's axis and beside its title. */
const UNIT_STYLE: Record<MetricUnit, { fmt: (v: number | null | undefined) => string; chart: Pick<ChartSpec, 'yRange' | 'fromZero' | 'axisSize'> }> = {
  percent: { fmt: fmtPct, chart: { yRange: [0, 100], axisSize: 48 } },
  bytes_per_second: { fmt: fmtRate, chart: { fromZero: true, axisSize: 72 } },
  bytes: { fmt: fmtBytes, chart: { fromZero: true, axisSize: 72 } },
  celsius: { fmt: fmtTemp, chart: { axisSize: 56 } },
  seconds: { fmt: fmtDuration, chart: { fromZero: true, axisSize: 64 } },
  count: { fmt: (v) => (v == null ? '—' : String(Math.round(v))), chart: { fromZero: true, axisSize: 48 } },
  load: { fmt: (v) => (v == null ? '—' : v.toFixed(2)), chart: { fromZero: true, axisSize: 48 } },
};

/** One chart per group of the registry (protocol/metrics.ts), each metric of the group a series. */
const CHARTS: ChartDef[] = CHART_GROUPS.map((g): ChartDef => {
  const members = METRIC_SPECS.filter((m) => m.chart?.group === g.group);
  const style = UNIT_STYLE[members[0]!.unit];
  const single = members.length === 1;
  return {
    key: g.group,
    title: g.title,
    optional: 'optional' in g && g.optional,
    cols: members.map((m) => METRICS.indexOf(m.name as SeriesMetric)),
    spec: {
      key: g.group,
      // One series is filled under its line; several stay lines, so none hides another.
      series: members.map((m) => ({ label: m.chart!.label, color: m.chart!.color, fill: single })),
      fmt: (v) => style.fmt(v),
      ...style.chart,
    },
    value: (p) =>
      single ? style.fmt(p[members[0]!.name as SeriesMetric]) : members.map((m) => `${m.chart!.label} ${style.fmt(p[m.name as SeriesMetric])}`).join('  '),
  };
});

const CHART_HEIGHT = 170;

interface Chart {
  def: ChartDef;
  panel: HTMLElement;
  body: HTMLElement;
  valueEl: HTMLElement;
  u: uPlot;
}

// ---- page state -------------------------------------------------------------------------------

const nodeName = nodeFromPath(location.pathname);
/** Alarm thresholds and predicted crossings drawn on the charts (alarm-marks.ts). */
const alarmOverlay = nodeName === null ? null : new NodeAlarmOverlay(nodeName);
if (nodeName !== null) mountNodeRemoval(nodeName);
let detail: NodeDetailResponse | null = null;
/** The per core / mount / interface chart (labelled-chart.ts), made once the node is known. */
let labelled: LabelledChart | null = null;
let containerList: ContainerList | null = null;
let latest: SamplePoint | null = null;
let lastSeenMs: number | null = null;
let uptimeAt: { s: number; atMs: number } | null = null;
let procs: NodeDetailResponse['processes'] = null;
let range: RangeKey = parseRange(new URLSearchParams(location.search).get('range'));
let cols = new Columns(METRICS.length);
let loadSeq = 0;
let loadAbort: AbortController | null = null;
let loadedWidth = 0;
/** The averaging bucket of the loaded history, null when raw. */
let loadedStepS: number | null = null;
const charts = new Map<ChartGroupName, Chart>();
const group = new ChartGroup('remonitor-node', (zoomed) => {
  byId('zoom-reset').hidden = !zoomed;
});

/** Pause/resume and the interval picker; it also knows the agent's current sample interval. */
let controls: NodeControls | null = null;

const chartsEl = byId('charts');
const statusEl = byId('status');
const seenEl = byId('last-seen');

function nodeFromPath(path: string): string | null {
  const m = /^\/nodes\/([^/]+)\/?$/.exec(path);
  if (!m?.[1]) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

function parseRange(v: string | null): RangeKey {
  return v !== null && Object.hasOwn(RANGES, v) ? (v as RangeKey) : 'live';
}

// ---- header and info ----------------------------------------------------------------------------

function renderStatus(status: NodeDetailResponse['status']): void {
  setAttr(statusEl, 'data-status', status);
  setText(statusEl, status);
  document.body.dataset['status'] = status;
}

function renderInfo(): void {
  const info = detail?.info ?? null;
  const list = byId('info-list');
  const rows: [string, string, string][] = info
    ? [
        ['hostname', 'Hostname', info.hostname || '—'],
        ['os', 'OS', [info.os, info.arch].filter((x) => x).join(' · ') || '—'],
        ['kernel', 'Kernel', info.kernel || '—'],
        ['cpu', 'CPU', `${info.cpu_model || 'unknown CPU'} × ${info.cpu_cores || '?'}`],
        ['memory', 'Memory', fmtBytes(info.mem_total_bytes || null)],
        ['agent', 'Agent', info.agent_version ? `v${info.agent_version}` : '—'],
        ['booted', 'Booted', fmtDateTime(info.boot_time_ms || null)],
        ['uptime', 'Uptime', ''],
      ]
    : [['uptime', 'Uptime', '']];
  if (!info) rows.push(['none', 'System', 'the node has not sent its system info yet']);
  list.replaceChildren(...rows.map(([key, label, value]) => h('div', {}, h('dt', { text: label }), h('dd', { 'data-info': key, text: value }))));
  if (detail) renderNodeTags(list, detail);
  renderClock(Date.now());
}

/** The parts that move with the clock: last seen, uptime, age of the process list. */
function renderClock(now: number): void {
  setText(seenEl, `last seen ${fmtAgo(lastSeenMs, now)}`);
  seenEl.title = lastSeenMs == null ? '' : fmtDateTime(lastSeenMs);
  const uptimeEl = document.querySelector<HTMLElement>('[data-info="uptime"]');
  if (uptimeEl) {
    let text = '—';
    if (uptimeAt) {
      // Count on between samples while the node is up; an offline node's uptime stays as last reported.
      const extra = detail?.status === 'online' ? Math.max(0, (now - uptimeAt.atMs) / 1000) : 0;
      text = fmtDuration(uptimeAt.s + extra);
    }
    setText(uptimeEl, text);
  }
  const meta = byId('procs-meta');
  if (procs) {
    const count = procs[PROCESS_COUNT_METRIC];
    const total = count == null ? '' : `${count} processes · `;
    setText(meta, `${total}as of ${fmtAgo(procs.ts_ms, now)}`);
    meta.title = fmtDateTime(procs.ts_ms);
  } else {
    setText(meta, 'no process list received yet');
  }
}

function setUptime(p: SamplePoint | null, now: number): void {
  const uptimeS = p?.[UPTIME_METRIC];
  if (uptimeS != null) uptimeAt = { s: uptimeS, atMs: now };
  else if (!uptimeAt && detail?.info?.boot_time_ms) uptimeAt = { s: (now - detail.info.boot_time_ms) / 1000, atMs: now };
}

// ---- processes ------------------------------------------------------------------------------------

function renderProcs(): void {
  for (const [which, list] of [
    ['cpu', procs?.top_cpu ?? []],
    ['mem', procs?.top_mem ?? []],
  ] as const) {
    const tbody = document.querySelector<HTMLTableSectionElement>(`table[data-procs="${which}"] tbody`);
    if (!tbody) continue;
    // Reuse rows: only the text changes between updates.
    while (tbody.rows.length > Math.max(list.length, 1)) tbody.deleteRow(-1);
    if (list.length === 0) {
      const row = tbody.rows[0] ?? tbody.insertRow();
      row.replaceChildren(h('td', { colspan: 6, class: 'empty', text: 'no data' }));
      row.removeAttribute('data-pid');
      continue;
    }
    list.forEach((p, i) => {
      let row = tbody.rows[i];
      if (!row || row.cells.length !== 6) {
        const fresh = h('tr', {}, ...['pid num', 'name', 'num', 'num', 'num', 'act'].map((cls) => h('td', { class: cls })));
        if (row) row.replaceWith(fresh);
        else tbody.append(fresh);
        row = fresh;
      }
      setAttr(row, 'data-pid', String(p.pid));
      const cells = row.cells;
      setText(cells[0]!, String(p.pid));
      setText(cells[1]!, p.name);
      cells[1]!.title = p.name;
      setText(cells[2]!, fmtPct(p.cpu_pct));
      setText(cells[3]!, fmtBytes(p.rss_bytes));
      setText(cells[4]!, String(p.threads));
      setWatchCell(cells[5]!, p);
    });
  }
}

// ---- charts ---------------------------------------------------------------------------------------

function chartWidth(): number {
  const probe = chartsEl.querySelector<HTMLElement>('.chart-body') ?? chartsEl;
  return Math.max(200, Math.floor(probe.clientWidth));
}

function ensureChart(def: ChartDef): Chart {
  const existing = charts.get(def.key);
  if (existing) return existing;
  const valueEl = h('span', { class: 'chart-value', 'data-field': def.key });
  const body = h('div', { class: 'chart-body' });
  const panel = h(
    'figure',
    { class: 'chart', 'data-chart': def.key },
    h('figcaption', {}, h('span', { class: 'chart-title', text: def.title }), valueEl),
    body,
  );
  chartsEl.append(panel);
  const u = group.add(body, def.spec, Math.max(200, body.clientWidth), CHART_HEIGHT, cols.view(...def.cols));
  const chart: Chart = { def, panel, body, valueEl, u };
  alarmOverlay?.attach(def.key, u, panel);
  charts.set(def.key, chart);
  return chart;
}

/** An optional chart (temperature) exists only for a node that has reported its metric. */
function syncOptionalCharts(): void {
  for (const def of CHARTS) {
    if (!def.optional || charts.has(def.key)) continue;
    if (def.cols.some((c) => cols.hasValues(c) || (latest != null && latest[METRICS[c]!] != null))) ensureChart(def);
  }
  byId('no-temp').hidden = charts.has('temp');
}

function redraw(): void {
  if (range === 'live') {
    const end = Math.max(Date.now() / 1000, cols.lastT);
    group.setWindow(end - RANGES.live.seconds, end);
    cols.trimBefore(end - RANGES.live.seconds - 60);
  }
  for (const c of charts.values()) {
    c.u.setData(cols.view(...c.def.cols));
    // How many points the chart holds, for people reading the DOM (and the browser test).
    c.panel.dataset['points'] = String(c.u.data[0]?.length ?? 0);
  }
}

function renderValues(): void {
  for (const c of charts.values()) setText(c.valueEl, latest ? c.def.value(latest) : '—');
}

async function loadRange(): Promise<void> {
  const seq = ++loadSeq;
  loadAbort?.abort();
  const abort = (loadAbort = new AbortController());
  const r = RANGES[range];
  labelled?.setRange(r.from);
  const width = chartWidth();
  chartsEl.setAttribute('aria-busy', 'true');
  try {
    const res = await api.series(nodeName!, METRICS, r.from, 'now', width, abort.signal);
    if (seq !== loadSeq) return;
    loadedWidth = width;
    loadedStepS = res.step_s;
    // The answer's columns in METRICS order, whatever order the server used.
    const byMetric = (m: SeriesMetric) => {
      const i = res.metrics.indexOf(m);
      return i >= 0 ? (res.data[i + 1] ?? []) : res.data[0].map(() => null);
    };
    // Live keeps the samples that arrived while the answer was on its way; a fixed range starts afresh.
    if (range !== 'live') cols = new Columns(METRICS.length);
    cols.replace([res.data[0], ...METRICS.map(byMetric)]);
    if (range !== 'live') group.setWindow(res.from_ms / 1000, res.to_ms / 1000);
    const step = byId('resolution');
    setText(step, res.step_s ? `averaged over ${fmtDuration(res.step_s)}` : res.data[0].length ? 'raw samples' : 'no samples in this range');
    clearError('series');
    syncOptionalCharts();
    redraw();
    renderValues();
  } catch (err) {
    if (abort.signal.aborted) return;
    showError(`Could not load the charts: ${(err as Error).message}`, 'series');
  } finally {
    if (seq === loadSeq) chartsEl.setAttribute('aria-busy', 'false');
  }
}

function selectRange(next: RangeKey): void {
  range = next;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) b.setAttribute('aria-pressed', String(b.dataset['range'] === next));
  const url = new URL(location.href);
  if (next === 'live') url.searchParams.delete('range');
  else url.searchParams.set('range', next);
  history.replaceState(null, '', url);
  // The old range stays drawn (dimmed by aria-busy) until the new one arrives.
  if (range === 'live') {
    const now = Date.now() / 1000;
    group.setWindow(now - RANGES.live.seconds, now);
  }
  if (group.zoomed) group.setZoom(null);
  redraw();
  void loadRange();
}

let resizeFrame = 0;
function onResize(): void {
  if (resizeFrame) return;
  resizeFrame = requestAnimationFrame(() => {
    resizeFrame = 0;
    for (const c of charts.values()) {
      const w = Math.max(200, Math.floor(c.body.clientWidth));
      if (w !== c.u.width) c.u.setSize({ width: w, height: CHART_HEIGHT });
    }
    // Much wider than the data was fetched for: fetch again so one point still maps to about one pixel.
    if (range !== 'live' && loadedWidth > 0 && chartWidth() > loadedWidth * 1.3) void loadRange();
  });
}

// ---- live -------------------------------------------------------------------------------------------

function onEvents(events: StreamEvent[]): void {
  const now = Date.now();
  let sampled = false;
  for (const e of events) {
    if (e.node !== nodeName || !detail) continue;
    if (e.type === 'status') {
      const was = detail.status;
      detail.status = e.status;
      renderStatus(e.status);
      // Back online: the agent has sent its info again (it may have been upgraded); read it.
      if (e.status === 'online' && was !== 'online') void reloadDetail();
      continue;
    }
    const p = e.point;
    if (!latest || p.ts_ms >= latest.ts_ms) latest = p;
    lastSeenMs = now;
    setUptime(p, now);
    if (e.processes) {
      procs = { ts_ms: p.ts_ms, ...e.processes };
      renderProcs();
    }
    if (range === 'live') {
      // Bucketed history (step_s) is coarser than the samples: the gap threshold follows the coarser.
      const gap = Math.max(maxGapS(controls?.intervalMs() ?? detail.info?.interval_ms, cols), (loadedStepS ?? 0) * 2.5);
      cols.append(
        p.ts_ms / 1000,
        METRICS.map((m) => p[m]),
        gap,
      );
    }
    sampled = true;
  }
  if (!sampled) return;
  if (!charts.has('temp')) syncOptionalCharts();
  if (range === 'live') redraw();
  renderValues();
  renderClock(now);
}

async function reloadDetail(): Promise<void> {
  try {
    const d = await api.node(nodeName!);
    applyDetail(d);
  } catch (err) {
    showError(`Could not reload the node: ${(err as Error).message}`, 'detail');
  }
}

function applyDetail(d: NodeDetailResponse): void {
  detail = d;
  const now = Date.now();
  if (d.latest && (!latest || d.latest.ts_ms >= latest.ts_ms)) latest = d.latest;
  if (d.last_seen_ms != null && (lastSeenMs == null || d.last_seen_ms > lastSeenMs)) lastSeenMs = d.last_seen_ms;
  if (d.processes && (!procs || d.processes.ts_ms >= procs.ts_ms)) procs = d.processes;
  setUptime(d.latest, d.latest ? Math.min(now, d.latest.ts_ms) : now);
  controls?.announce(d.info?.interval_ms);
  clearError('detail');
  renderStatus(d.status);
  renderInfo();
  renderProcs();
  renderValues();
  containerList?.update(d);
}

// ---- start --------------------------------------------------------------------------------------------

function showNotFound(message: string): void {
  byId('content').hidden = true;
  byId('live-state').hidden = true;
  const nf = byId('not-found');
  setText(byId('not-found-text'), message);
  nf.hidden = false;
  document.title = 'remonitor — unknown node';
  setText(byId('node-name'), nodeName ?? 'unknown node');
  renderStatus('unknown');
  document.body.dataset['ready'] = 'true';
}

async function main(): Promise<void> {
  if (nodeName === null) {
    showNotFound('This address names no node.');
    return;
  }
  document.title = `remonitor — ${nodeName}`;
  setText(byId('node-name'), nodeName);
  setupExportLinks(nodeName);
  controls = mountNodeControls(nodeName);
  let d: NodeDetailResponse;
  try {
    d = await api.node(nodeName);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) {
      showNotFound(`No node named “${nodeName}” has reported to this hub.`);
    } else if (err instanceof ApiFailure && err.status === 400) {
      showNotFound(`Not a valid node name: ${err.message}.`);
    } else {
      showError(`Could not load ${nodeName}: ${(err as Error).message}`, 'detail');
      setTimeout(() => void main(), 5000);
    }
    return;
  }
  byId('content').hidden = false;
  applyDetail(d);

  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    b.addEventListener('click', () => selectRange(parseRange(b.dataset['range'] ?? null)));
    b.setAttribute('aria-pressed', String(b.dataset['range'] === range));
  }
  byId('zoom-reset').addEventListener('click', () => group.setZoom(null));
  if (range === 'live') {
    const now = Date.now() / 1000;
    group.setWindow(now - RANGES.live.seconds, now);
  }
  for (const def of CHARTS) if (!def.optional) ensureChart(def);
  labelled = new LabelledChart(nodeName!, group, RANGES[range].from);
  containerList = new ContainerList(nodeName!, (metric, focus) => void labelled?.show(metric, focus).catch(() => {}));
  containerList.update(d);
  // The note takes the temperature chart's place in the grid; a late temperature chart goes after it.
  chartsEl.append(byId('no-temp'));
  syncOptionalCharts();
  renderValues();
  window.addEventListener('resize', onResize);
  onZoneChange(() => {
    renderInfo();
    renderClock(Date.now());
  });

  const live = new LiveStream({
    onEvents,
    onState: liveIndicator(document.getElementById('live-state')),
    // Missed events while away: reload what the stream would have brought.
    onReconnect: () => {
      void reloadDetail();
      if (range === 'live') void loadRange();
    },
  });
  live.start();
  setInterval(() => {
    const now = Date.now();
    renderClock(now);
    // The live window slides even when no sample comes (an offline node shows its gap growing).
    if (range === 'live') redraw();
  }, 1000);
  await loadRange();
  document.body.dataset['ready'] = 'true';
}

void main();
