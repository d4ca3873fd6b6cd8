// The session page (`/sessions/:id`): memory (RSS, anonymous, file-backed, swap) with the fitted
// slope drawn over it, CPU, and the leak verdict in words and numbers; polls for new samples while
// the session runs.
import type uPlot from 'uplot';
import type { SessionDetail, SessionSample } from '../../shared/session-types.ts';
import { ApiFailure, clearError, csrfHeaders, getJson, showError } from './api.ts';
import './signed-in.ts';
import { ChartGroup } from './charts.ts';
import { byId, h, setText } from './dom.ts';
import { fmtAgo, fmtBytes, fmtDateTime, fmtDuration } from './format.ts';

const MiB = 1024 * 1024;
const HEIGHT = 240;
const id = decodeURIComponent(/^\/sessions\/([^/]+)\/?$/.exec(location.pathname)?.[1] ?? '');

let session: SessionDetail | null = null;
let samples: SessionSample[] = [];
let memChart: uPlot | null = null;
let cpuChart: uPlot | null = null;
const group = new ChartGroup('remonitor-session');

const mib = (b: number | null | undefined) => (b == null ? null : b / MiB);

/**
 * uPlot columns: times, RSS, anon, file, swap, fitted line (MiB); CPU separately. The fitted line
 * covers only what was fitted, from the end of the warm-up to the last sample with a live process:
 * samples after the processes are gone carry no memory, and the line is not drawn over them.
 */
function memoryData(): uPlot.AlignedData {
  const fit = session?.analysis.fit ?? null;
  const t = samples.map((s) => s.ts_ms / 1000);
  const fitted = samples.map((s) =>
    fit && s.procs > 0 && s.ts_ms >= fit.from_ms && s.ts_ms <= fit.to_ms
      ? (fit.intercept_bytes + fit.slope_bytes_per_ms * (s.ts_ms - fit.from_ms)) / MiB
      : null,
  );
  // A sample with no live process (not started yet, or gone) is a gap, not zero memory.
  const col = (get: (s: SessionSample) => number | null) => samples.map((s) => (s.procs > 0 ? mib(get(s)) : null));
  return [t, col((s) => s.rss_bytes), col((s) => s.rss_anon_bytes), col((s) => s.rss_file_bytes), col((s) => s.swap_bytes), fitted];
}

function cpuData(): uPlot.AlignedData {
  return [samples.map((s) => s.ts_ms / 1000), samples.map((s) => (s.procs > 0 ? s.cpu_pct : null))];
}

function ensureCharts(): void {
  if (memChart) return;
  const memBody = byId('memory-chart');
  const width = Math.max(300, memBody.clientWidth);
  memChart = group.add(
    memBody,
    {
      key: 'memory',
      series: [
        { label: 'RSS', color: '#7c3aed', fill: true },
        { label: 'anonymous', color: '#a78bfa' },
        { label: 'file-backed', color: '#0284c7' },
        { label: 'swap', color: '#db2777' },
        { label: 'fitted slope', color: '#dc2626' },
      ],
      fmt: (v) => `${v.toFixed(1)} MiB`,
      fromZero: true,
      axisSize: 72,
    },
    width,
    HEIGHT,
    memoryData(),
  );
  cpuChart = group.add(
    byId('cpu-chart'),
    { key: 'cpu', series: [{ label: 'CPU', color: '#2563eb', fill: true }], fmt: (v) => `${v.toFixed(1)} %`, fromZero: true, axisSize: 56 },
    width,
    160,
    cpuData(),
  );
  window.addEventListener('resize', () => {
    const w = Math.max(300, byId('memory-chart').clientWidth);
    memChart?.setSize({ width: w, height: HEIGHT });
    cpuChart?.setSize({ width: w, height: 160 });
  });
}

function render(): void {
  if (!session) return;
  const s = session;
  document.title = `remonitor — ${s.analysis.verdict} — ${s.target}`;
  setText(byId('target'), s.target);
  const state = byId('state');
  state.dataset['state'] = s.state;
  setText(state, s.state);
  // A hub or agent session ends by itself only when its processes are gone; a recorded one when its command exits.
  const ended =
    s.state !== 'ended' || s.demo
      ? ''
      : ` · ended ${s.stopped_ms === null ? '' : `${fmtDateTime(s.stopped_ms)}: `}${s.source === 'record' ? 'the command exited' : 'its processes exited'}`;
  const where = byId('where');
  where.replaceChildren(
    'on ',
    s.demo ? h('span', { text: s.node }) : h('a', { href: `/nodes/${encodeURIComponent(s.node)}`, text: s.node }),
    ` · every ${fmtDuration(s.interval_ms / 1000).replace(/^0 s$/, `${s.interval_ms} ms`)} · started ${fmtDateTime(s.started_ms)} · ${s.source}${ended}`,
  );
  byId('demo-note').hidden = !s.demo;
  byId('stop').hidden = s.state !== 'running' || !!s.demo;
  for (const format of ['csv', 'json'] as const)
    (byId(`export-${format}`) as HTMLAnchorElement).href = `/api/sessions/${encodeURIComponent(s.id)}/export?format=${format}`;

  const a = s.analysis;
  const verdict = byId('verdict');
  // Worded and coloured by the verdict itself (hub/sessions/leak-verdict.ts), never decided here.
  verdict.dataset['verdict'] = a.verdict;
  setText(verdict, a.headline);
  const figures: [string, string, string][] = [
    ['slope', 'Slope', a.slope_mb_per_h == null ? '—' : `${a.slope_mb_per_h.toFixed(2)} MB/h`],
    ['r2', 'r²', a.r2 == null ? '—' : a.r2.toFixed(2)],
    ['growth', 'Growth', a.growth_bytes == null ? '—' : `${fmtBytes(a.growth_bytes)} (${a.growth_pct} %)`],
    ['peak', 'Peak RSS', fmtBytes(a.peak_rss_bytes)],
    ['samples', 'Samples', String(a.samples)],
    ['duration', 'Duration', fmtDuration(a.duration_ms / 1000)],
  ];
  byId('figures').replaceChildren(
    ...figures.map(([key, label, value]) => h('div', {}, h('dt', { text: label }), h('dd', { 'data-figure': key, text: value }))),
  );
  setText(byId('reason'), a.reason);

  const last = samples.findLast((x) => x.procs > 0);
  setText(byId('mem-now'), last ? fmtBytes(last.rss_bytes) : '—');
  setText(byId('cpu-now'), last?.cpu_pct == null ? '—' : `${last.cpu_pct.toFixed(1)} %`);
  byId('processes').replaceChildren(...s.processes.slice(0, 50).map((p) => h('li', { text: `${p.name} (pid ${p.pid})` })));
  byId('exits').replaceChildren(
    ...s.exits.map((e) => h('li', { class: 'exit', text: `${e.name} (pid ${e.pid}) exited ${fmtAgo(e.ts_ms)}, last RSS ${fmtBytes(e.last_rss_bytes)}` })),
  );

  ensureCharts();
  const from = (samples[0]?.ts_ms ?? s.started_ms) / 1000;
  const to = Math.max(from + 1, (samples.at(-1)?.ts_ms ?? Date.now()) / 1000);
  group.setWindow(from, to);
  const memory = memoryData();
  memChart!.setData(memory);
  cpuChart!.setData(cpuData());
  const figure = byId('memory-chart').closest('figure')!;
  figure.setAttribute('data-points', String(samples.length));
  // The x range (s) of the RSS drawn and of the fitted line drawn, for whoever checks the chart.
  const span = (col: number) => {
    const xs = memory[0].filter((_, i) => memory[col]![i] != null);
    return xs.length === 0 ? '' : `${xs[0]} ${xs.at(-1)}`;
  };
  figure.setAttribute('data-rss-range', span(1));
  figure.setAttribute('data-fit-range', span(5));
}

async function load(): Promise<void> {
  const since = samples.at(-1)?.ts_ms;
  const path = `/api/sessions/${encodeURIComponent(id)}${since === undefined ? '' : `?since=${since}`}`;
  const d = await getJson<SessionDetail>(path);
  samples = since === undefined ? d.samples : samples.concat(d.samples);
  session = { ...d, samples: [] };
  clearError('session');
  render();
}

async function main(): Promise<void> {
  if (!id) {
    showError('This address names no session.', 'session');
    return;
  }
  try {
    await load();
  } catch (err) {
    showError(err instanceof ApiFailure && err.status === 404 ? `No session “${id}”.` : `Could not load the session: ${(err as Error).message}`, 'session');
    document.body.dataset['ready'] = 'true';
    return;
  }
  document.body.dataset['ready'] = 'true';
  byId('stop').addEventListener('click', async () => {
    try {
      const res = await fetch(`/api/sessions/${encodeURIComponent(id)}/stop`, { method: 'POST', headers: csrfHeaders() });
      if (!res.ok) showError(`Could not stop the session: ${((await res.json()) as { error?: string }).error ?? res.statusText}`, 'stop');
      await load();
    } catch (err) {
      showError(`Could not stop the session: ${(err as Error).message}`, 'stop');
    }
  });
  // Live while running: ask for the samples newer than the last one held.
  const poll = async () => {
    if (session?.state === 'running') {
      try {
        await load();
      } catch (err) {
        showError(`Could not refresh the session: ${(err as Error).message}`, 'session');
      }
    }
    setTimeout(() => void poll(), Math.max(1000, Math.min(session?.interval_ms ?? 1000, 5000)));
  };
  setTimeout(() => void poll(), 1000);
}

void main();
