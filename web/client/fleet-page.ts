// The fleet page (`/`): one card per node, built once and then updated in place. Sparklines are
// created when a card first scrolls into view, loaded a few at a time, then fed by the live stream.
import uPlot from 'uplot';
import type { NodeSummary, SamplePoint, StreamEvent } from '../../shared/api-types.ts';
import { CLOCK_TOLERANCE_MS } from '../../protocol/sample.ts';
import { api, clearError, limiter, showError } from './api.ts';
import './signed-in.ts';
import { COLORS, Columns, maxGapS, sparkOptions } from './charts.ts';
import { byId, h, setAttr, setText } from './dom.ts';
import { fmtAgo, fmtDateTime, fmtDuration, fmtPct, fmtTemp } from './format.ts';
import { LiveStream, liveIndicator } from './live.ts';
import { setupAddNode } from './add-node.ts';
import { markFleetCards } from './alarm-marks.ts';

const SPARK_WINDOW_S = 5 * 60;
const SPARK_POINTS = 150;
const SPARK_W = 150;
const SPARK_H = 30;
/** Sparkline loads in flight at once: the page stays responsive and the hub is not flooded. */
const loadLimit = limiter(4);
/** Nodes list reloads (new node seen, reconnect) at most this often. */
const REFRESH_MIN_GAP_MS = 3000;

type Status = NodeSummary['status'];

interface Card {
  name: string;
  el: HTMLAnchorElement;
  badge: HTMLElement;
  host: HTMLElement;
  cpu: HTMLElement;
  mem: HTMLElement;
  disk: HTMLElement;
  temp: HTMLElement;
  tempRow: HTMLElement;
  seen: HTMLElement;
  /** Shown while the node's clock is off by more than the tolerance. */
  clock: HTMLElement;
  cpuSpark: HTMLElement;
  memSpark: HTMLElement;
  status: Status;
  lastSeenMs: number | null;
  clockSkewS: number | null;
  latest: SamplePoint | null;
  info: NodeSummary['info'];
  /** [cpu_pct, mem_pct] over the last five minutes. */
  cols: Columns;
  plots: [uPlot, uPlot] | null;
  visible: boolean;
  /** 'idle' → 'queued' → 'loaded'; back to 'idle' when the card left the view before its turn. */
  load: 'idle' | 'queued' | 'loaded';
  sparkDirty: boolean;
  /** Text that matches the filter box: name, hostname, OS. */
  haystack: string;
}

const grid = byId('grid');
const empty = byId('empty');
const countEl = byId('count');
const filterInput = document.getElementById('filter') as HTMLInputElement | null;
const cards = new Map<string, Card>();
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const card = cardOf(entry.target);
      if (!card) continue;
      card.visible = entry.isIntersecting;
      if (!card.visible) continue;
      if (!card.plots) createSparks(card);
      if (card.load === 'idle') queueLoad(card);
      if (card.sparkDirty) drawSparks(card);
    }
  },
  { rootMargin: '200px 0px' },
);

function cardOf(el: Element): Card | undefined {
  const name = (el as HTMLElement).dataset['node'];
  return name === undefined ? undefined : cards.get(name);
}

function buildCard(s: NodeSummary): Card {
  const badge = h('span', { class: 'badge', 'data-field': 'status' });
  const host = h('div', { class: 'host', 'data-field': 'host' });
  const cpu = h('span', { class: 'value', 'data-field': 'cpu' });
  const mem = h('span', { class: 'value', 'data-field': 'mem' });
  const disk = h('span', { class: 'value', 'data-field': 'disk' });
  const temp = h('span', { class: 'value', 'data-field': 'temp' });
  const tempRow = h('span', { class: 'stat', 'data-metric': 'temp' }, h('span', { class: 'label', text: 'Temp' }), temp);
  const seen = h('span', { class: 'last-seen', 'data-field': 'last-seen' });
  const clock = h('span', { class: 'clock-skew', 'data-field': 'clock-skew' });
  clock.hidden = true;
  const cpuSpark = h('div', { class: 'spark', 'data-spark': 'cpu' });
  const memSpark = h('div', { class: 'spark', 'data-spark': 'mem' });
  const el = h(
    'a',
    { class: 'card', href: `/nodes/${encodeURIComponent(s.name)}`, 'data-node': s.name },
    h('div', { class: 'card-head' }, h('span', { class: 'name', text: s.name }), badge),
    host,
    h('div', { class: 'metric', 'data-metric': 'cpu' }, h('span', { class: 'label', text: 'CPU' }), cpu, cpuSpark),
    h('div', { class: 'metric', 'data-metric': 'mem' }, h('span', { class: 'label', text: 'Memory' }), mem, memSpark),
    h('div', { class: 'stats' }, h('span', { class: 'stat', 'data-metric': 'disk' }, h('span', { class: 'label', text: 'Disk' }), disk), tempRow),
    h('div', { class: 'card-foot' }, h('span', { class: 'label', text: 'last seen' }), seen, clock),
  );
  const card: Card = {
    name: s.name,
    el,
    badge,
    host,
    cpu,
    mem,
    disk,
    temp,
    tempRow,
    seen,
    clock,
    cpuSpark,
    memSpark,
    status: s.status,
    lastSeenMs: s.last_seen_ms,
    clockSkewS: s.clock_skew_s,
    latest: s.latest,
    info: s.info,
    cols: new Columns(2),
    plots: null,
    visible: false,
    load: 'idle',
    sparkDirty: false,
    haystack: '',
  };
  if (s.latest) card.cols.append(s.latest.ts_ms / 1000, [s.latest.cpu_pct, s.latest.mem_pct]);
  return card;
}

function renderCard(c: Card, now: number): void {
  setAttr(c.el, 'data-status', c.status);
  setAttr(c.badge, 'data-status', c.status);
  setText(c.badge, c.status);
  const info = c.info;
  const host = info ? [info.hostname, info.os, info.arch].filter((x) => x).join(' · ') : '';
  setText(c.host, host || 'no system info yet');
  c.haystack = `${c.name} ${host}`.toLowerCase();
  const p = c.latest;
  setText(c.cpu, fmtPct(p?.cpu_pct));
  setText(c.mem, fmtPct(p?.mem_pct));
  setText(c.disk, fmtPct(p?.disk_pct));
  // Temperature only when the node reports one: no sensor is not 0 °C.
  const hasTemp = p?.temp_c != null;
  if (c.tempRow.hidden === hasTemp) c.tempRow.hidden = !hasTemp;
  if (hasTemp) setText(c.temp, fmtTemp(p?.temp_c));
  renderSeen(c, now);
  renderClock(c);
}

/** The clock flag: the node's samples are stored at the hub's time while its clock is this far off. */
function renderClock(c: Card): void {
  const skew = c.clockSkewS;
  const off = skew != null && Math.abs(skew) * 1000 > CLOCK_TOLERANCE_MS;
  if (c.clock.hidden === off) c.clock.hidden = !off;
  if (!off) return;
  setText(c.clock, `⚠ clock ${fmtDuration(Math.abs(skew))} ${skew > 0 ? 'ahead' : 'behind'}`);
  const title = "this node's clock is off: its samples are stored at the time the hub received them";
  if (c.clock.title !== title) c.clock.title = title;
}

function renderSeen(c: Card, now: number): void {
  setText(c.seen, fmtAgo(c.lastSeenMs, now));
  const title = c.lastSeenMs == null ? 'no sample received yet' : fmtDateTime(c.lastSeenMs);
  if (c.seen.title !== title) c.seen.title = title;
}

function createSparks(c: Card): void {
  const data = c.cols;
  c.plots = [
    new uPlot(sparkOptions(SPARK_W, SPARK_H, COLORS.cpu, SPARK_WINDOW_S), data.view(0), c.cpuSpark),
    new uPlot(sparkOptions(SPARK_W, SPARK_H, COLORS.mem, SPARK_WINDOW_S), data.view(1), c.memSpark),
  ];
  c.sparkDirty = false;
}

function drawSparks(c: Card): void {
  if (!c.plots) return;
  c.cols.trimBefore(Date.now() / 1000 - SPARK_WINDOW_S - 30);
  c.plots[0].setData(c.cols.view(0));
  c.plots[1].setData(c.cols.view(1));
  c.sparkDirty = false;
}

function queueLoad(c: Card): void {
  c.load = 'queued';
  void loadLimit(async () => {
    // Scrolled past before its turn came: load it when it shows again.
    if (!c.visible || cards.get(c.name) !== c) {
      c.load = 'idle';
      return;
    }
    try {
      const res = await api.series(c.name, ['cpu_pct', 'mem_pct'], `-${SPARK_WINDOW_S / 60}m`, 'now', SPARK_POINTS);
      c.cols.replace(res.data);
      c.load = 'loaded';
      if (c.visible) drawSparks(c);
      else c.sparkDirty = true;
    } catch (err) {
      // One card's history failing is not worth a banner; its sparkline fills from the stream.
      c.load = 'loaded';
      console.warn(`remonitor: sparkline history of ${c.name}: ${(err as Error).message}`);
    }
  });
}

function renderCounts(): void {
  let online = 0;
  let offline = 0;
  for (const c of cards.values()) {
    if (c.status === 'online') online++;
    else if (c.status === 'offline') offline++;
  }
  const unknown = cards.size - online - offline;
  const parts = [`${cards.size} ${cards.size === 1 ? 'node' : 'nodes'}`, `${online} online`, `${offline} offline`];
  if (unknown > 0) parts.push(`${unknown} unknown`);
  setText(countEl, parts.join(', '));
  countEl.dataset['total'] = String(cards.size);
  countEl.dataset['online'] = String(online);
  countEl.dataset['offline'] = String(offline);
  empty.hidden = cards.size > 0;
}

function applyFilter(): void {
  const q = (filterInput?.value ?? '').trim().toLowerCase();
  for (const c of cards.values()) {
    const hide = q !== '' && !c.haystack.includes(q);
    if (c.el.hidden !== hide) c.el.hidden = hide;
  }
}

/** Merges a /api/nodes answer: new cards are inserted in name order, known ones updated, vanished ones removed. */
function applyNodes(nodes: NodeSummary[]): void {
  const now = Date.now();
  const seen = new Set<string>();
  let added = false;
  for (const s of nodes) {
    seen.add(s.name);
    let c = cards.get(s.name);
    if (!c) {
      c = buildCard(s);
      cards.set(s.name, c);
      added = true;
    } else {
      c.status = s.status;
      c.info = s.info;
      c.clockSkewS = s.clock_skew_s;
      // Keep whichever is newer: the stream may be ahead of the answer.
      if (s.last_seen_ms != null && (c.lastSeenMs == null || s.last_seen_ms > c.lastSeenMs)) c.lastSeenMs = s.last_seen_ms;
      if (s.latest && (!c.latest || s.latest.ts_ms >= c.latest.ts_ms)) c.latest = s.latest;
    }
    renderCard(c, now);
  }
  for (const [name, c] of cards) {
    if (seen.has(name)) continue;
    observer.unobserve(c.el);
    c.plots?.forEach((u) => u.destroy());
    c.el.remove();
    cards.delete(name);
  }
  if (added) {
    // Re-append in name order: moving existing nodes keeps them (and their canvases) intact.
    const sorted = [...cards.values()].sort((a, b) => collator.compare(a.name, b.name));
    const frag = document.createDocumentFragment();
    for (const c of sorted) frag.append(c.el);
    grid.append(frag);
    for (const c of sorted) observer.observe(c.el);
  }
  renderCounts();
  applyFilter();
}

let refreshing: Promise<void> | null = null;
let refreshAgain = false;
let lastRefresh = 0;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;

async function refresh(): Promise<void> {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  lastRefresh = Date.now();
  refreshing = (async () => {
    try {
      const res = await api.nodes();
      clearError('nodes');
      applyNodes(res.nodes);
      grid.setAttribute('aria-busy', 'false');
      document.body.dataset['ready'] = 'true';
    } catch (err) {
      showError(`Could not load the node list: ${(err as Error).message}`, 'nodes');
      refreshAgain = true; // keep trying, REFRESH_MIN_GAP_MS apart
    } finally {
      refreshing = null;
    }
  })();
  await refreshing;
  if (refreshAgain) {
    refreshAgain = false;
    scheduleRefresh();
  }
}

/** A reload soon, but never more than one per REFRESH_MIN_GAP_MS whatever the stream brings. */
function scheduleRefresh(): void {
  if (refreshTimer) return;
  const wait = Math.max(0, lastRefresh + REFRESH_MIN_GAP_MS - Date.now());
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    void refresh();
  }, wait);
}

function onEvents(events: StreamEvent[]): void {
  const now = Date.now();
  const dirty = new Set<Card>();
  let statusChanged = false;
  let unknownNode = false;
  for (const e of events) {
    const c = cards.get(e.node);
    if (!c) {
      unknownNode = true;
      continue;
    }
    if (e.type === 'status') {
      if (c.status !== e.status) statusChanged = true;
      // Coming back online may come with new system info (an upgraded agent, a new OS).
      if (e.status === 'online' && c.status !== 'online') unknownNode = true;
      c.status = e.status;
    } else {
      const p = e.point;
      if (!c.latest || p.ts_ms >= c.latest.ts_ms) c.latest = p;
      // Receipt time: "last seen" is when this page heard from the node, whatever the node's clock says.
      c.lastSeenMs = now;
      if (c.cols.append(p.ts_ms / 1000, [p.cpu_pct, p.mem_pct], maxGapS(c.info?.interval_ms, c.cols))) c.sparkDirty = true;
      if (e.clock_skew_s !== undefined) c.clockSkewS = e.clock_skew_s;
    }
    dirty.add(c);
  }
  for (const c of dirty) {
    renderCard(c, now);
    if (c.sparkDirty && c.visible) drawSparks(c);
  }
  if (statusChanged) renderCounts();
  if (unknownNode) scheduleRefresh();
}

let ticks = 0;
setInterval(() => {
  const now = Date.now();
  for (const c of cards.values()) renderSeen(c, now);
  // Sparklines of silent nodes slide too, so a node that stopped reporting shows its line ending.
  if (++ticks % 5 === 0) {
    for (const c of cards.values()) if (c.visible && c.plots && c.cols.lastT < now / 1000 - 5) drawSparks(c);
  }
}, 1000);

filterInput?.addEventListener('input', applyFilter);
setupAddNode();

const live = new LiveStream({
  onEvents,
  onState: liveIndicator(document.getElementById('live-state')),
  onReconnect: () => void refresh(),
});

void refresh().then(() => live.start());
markFleetCards(); // RED/AMBER on the cards, from /api/alarms
