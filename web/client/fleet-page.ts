// The fleet page (`/`): a virtualized table (fleet-table.ts) or one card per node, filtered and
// sorted as fleet-view.ts says, with the view kept in the query string. Both are fed by one model
// per node from /api/nodes, the live stream (one pass per animation frame) and /api/alarms. Cards
// are built only while the cards view is shown; their sparklines are created when a card first
// scrolls into view, loaded a few at a time, then fed by the live stream.
import uPlot from 'uplot';
import type { FleetNodeSummary, StreamEvent } from '../../shared/api-types.ts';
import { fromFleetColumns, type FleetColumns } from '../../shared/fleet-columns.ts';
import type { AlarmInfo } from '../../shared/alarm-types.ts';
import { CLOCK_TOLERANCE_MS } from '../../protocol/sample.ts';
import { api, clearError, getJson, limiter, showError } from './api.ts';
import './signed-in.ts';
import { COLORS, Columns, maxGapS, sparkOptions } from './charts.ts';
import { byId, h, setAttr, setText } from './dom.ts';
import { fmtAgo, fmtDateTime, fmtDuration, fmtPct, fmtTemp } from './format.ts';
import { LiveStream, liveIndicator } from './live.ts';
import { setupAddNode } from './add-node.ts';
import { describe as describeAlarm, poll as pollAlarms, worstByNode } from './alarm-marks.ts';
import { mountFleetTable, type FleetTable } from './fleet-table.ts';
import {
  countNodes,
  formatViewState,
  fleetTags,
  groupByTag,
  isStale,
  mergeSummary,
  newNode,
  parseViewState,
  selectNodes,
  setContainers,
  STATE_FILTERS,
  TABLE_ABOVE_NODES,
  type FleetNode,
  type StateFilter,
  type View,
  type ViewState,
} from './fleet-view.ts';

const SPARK_WINDOW_S = 5 * 60;
const SPARK_POINTS = 150;
const SPARK_W = 150;
const SPARK_H = 30;
/** Sparkline loads in flight at once: the page stays responsive and the hub is not flooded. */
const loadLimit = limiter(4);
/** Nodes list reloads (new node seen, reconnect) at most this often. */
const REFRESH_MIN_GAP_MS = 3000;
/** Live values re-sort and re-filter the list at most this often, so rows do not jump under the pointer every frame. */
const RESELECT_MIN_GAP_MS = 1000;

interface Card {
  node: FleetNode;
  el: HTMLAnchorElement;
  badge: HTMLElement;
  host: HTMLElement;
  tags: HTMLElement;
  alarm: HTMLElement;
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
  /** [cpu_pct, mem_pct] over the last five minutes. */
  cols: Columns;
  plots: [uPlot, uPlot] | null;
  visible: boolean;
  /** 'idle' → 'queued' → 'loaded'; back to 'idle' when the card left the view before its turn. */
  load: 'idle' | 'queued' | 'loaded';
  sparkDirty: boolean;
}

const grid = byId('grid');
const tableBox = byId('table-box');
const empty = byId('empty');
const countEl = byId('count');
const shownEl = byId('shown');
const toolbar = byId('fleet-toolbar');
const filterInput = byId<HTMLInputElement>('filter');
const stateSelect = byId<HTMLSelectElement>('state-filter');
const tagSelect = byId<HTMLSelectElement>('tag-filter');
const groupButton = byId<HTMLButtonElement>('group-by-tag');
const nodes = new Map<string, FleetNode>();
const cards = new Map<string, Card>();
let view: ViewState = parseViewState(location.search);
let shownView: View | null = null;
let table: FleetTable | null = null;
/** The nodes shown, in order, as last selected. */
let selected: FleetNode[] = [];

// ---- cards ---------------------------------------------------------------------------------

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

function buildCard(n: FleetNode): Card {
  const badge = h('span', { class: 'badge', 'data-field': 'status' });
  const host = h('div', { class: 'host', 'data-field': 'host' });
  const alarm = h('div', { class: 'card-alarm', 'data-field': 'alarm' });
  alarm.hidden = true;
  const tags = h('div', { class: 'card-tags', 'data-field': 'tags' });
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
    { class: 'card', href: `/nodes/${encodeURIComponent(n.name)}`, 'data-node': n.name },
    h('div', { class: 'card-head' }, h('span', { class: 'name', text: n.name }), badge),
    host,
    tags,
    alarm,
    h('div', { class: 'metric', 'data-metric': 'cpu' }, h('span', { class: 'label', text: 'CPU' }), cpu, cpuSpark),
    h('div', { class: 'metric', 'data-metric': 'mem' }, h('span', { class: 'label', text: 'Memory' }), mem, memSpark),
    h('div', { class: 'stats' }, h('span', { class: 'stat', 'data-metric': 'disk' }, h('span', { class: 'label', text: 'Disk' }), disk), tempRow),
    h('div', { class: 'card-foot' }, h('span', { class: 'label', text: 'last seen' }), seen, clock),
  );
  const card: Card = {
    node: n,
    el,
    badge,
    host,
    tags,
    alarm,
    cpu,
    mem,
    disk,
    temp,
    tempRow,
    seen,
    clock,
    cpuSpark,
    memSpark,
    cols: new Columns(2),
    plots: null,
    visible: false,
    load: 'idle',
    sparkDirty: false,
  };
  if (n.latest) card.cols.append(n.latest.ts_ms / 1000, [n.latest.cpu_pct, n.latest.mem_pct]);
  return card;
}

function renderCard(c: Card, now: number): void {
  const n = c.node;
  const status = isStale(n) ? 'stale' : n.status;
  setAttr(c.el, 'data-status', n.status);
  setAttr(c.badge, 'data-status', status);
  setText(c.badge, status);
  const info = n.info;
  const host = info ? [info.hostname, info.os, info.arch].filter((x) => x).join(' · ') : '';
  setText(c.host, host || 'no system info yet');
  renderTags(c);
  renderAlarm(c);
  const p = n.latest;
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

/** One chip per tag; rebuilt only when the tags changed. */
function renderTags(c: Card): void {
  const text = c.node.tags.join(' ');
  if (c.tags.dataset['tags'] === text) return;
  c.tags.dataset['tags'] = text;
  c.tags.replaceChildren(...c.node.tags.map((t) => h('span', { class: 'tag-chip', text: t })));
  c.tags.hidden = c.node.tags.length === 0;
}

/** The alarm's reason written on the card, not only in a tooltip. */
function renderAlarm(c: Card): void {
  const n = c.node;
  setAttr(c.el, 'data-alarm', n.alarm ?? 'ok');
  const title = n.alarmLines.join('\n');
  if (c.el.title !== title) c.el.title = title;
  const show = n.alarm !== null;
  if (c.alarm.hidden === show) c.alarm.hidden = !show;
  if (show) setText(c.alarm, n.alarmLines.length > 1 ? `${n.alarmLines[0]} (+${n.alarmLines.length - 1})` : (n.alarmLines[0] ?? ''));
}

/**
 * The clock flag: the node's samples are stored at the hub's time while its clock is this far off;
 * and the node's own word that its clock is not synchronised (NTP), which tells why, or warns first.
 */
function renderClock(c: Card): void {
  const skew = c.node.clockSkewS;
  const off = skew != null && Math.abs(skew) * 1000 > CLOCK_TOLERANCE_MS;
  const unsynced = c.node.clockSynchronized === false;
  const show = off || unsynced;
  if (c.clock.hidden === show) c.clock.hidden = !show;
  if (!show) return;
  const text = off
    ? `⚠ clock ${fmtDuration(Math.abs(skew))} ${skew > 0 ? 'ahead' : 'behind'}${unsynced ? ', not synchronised' : ''}`
    : '⚠ clock not synchronised';
  setText(c.clock, text);
  const title = [
    off ? "this node's clock is off: its samples are stored at the time the hub received them" : '',
    unsynced ? 'the node says its clock is not synchronised (NTP): check timedatectl or chrony on it' : '',
  ]
    .filter((x) => x)
    .join('; ');
  if (c.clock.title !== title) c.clock.title = title;
}

function renderSeen(c: Card, now: number): void {
  const seenMs = c.node.lastSeenMs;
  setText(c.seen, fmtAgo(seenMs, now));
  const title = seenMs == null ? 'no sample received yet' : fmtDateTime(seenMs);
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
    if (!c.visible || cards.get(c.node.name) !== c) {
      c.load = 'idle';
      return;
    }
    try {
      const res = await api.series(c.node.name, ['cpu_pct', 'mem_pct'], `-${SPARK_WINDOW_S / 60}m`, 'now', SPARK_POINTS);
      c.cols.replace(res.data);
      c.load = 'loaded';
      if (c.visible) drawSparks(c);
      else c.sparkDirty = true;
    } catch (err) {
      // One card's history failing is not worth a banner; its sparkline fills from the stream.
      c.load = 'loaded';
      console.warn(`remonitor: sparkline history of ${c.node.name}: ${(err as Error).message}`);
    }
  });
}

function dropCard(c: Card): void {
  observer.unobserve(c.el);
  c.plots?.forEach((u) => u.destroy());
  c.el.remove();
  cards.delete(c.node.name);
}

/** Cards of the selected nodes in their order; the others are hidden. Moving a card keeps its canvases. */
function layoutCards(): void {
  const now = Date.now();
  const show = new Set(selected);
  for (const c of cards.values()) {
    if (!nodes.has(c.node.name)) dropCard(c);
    else if (c.el.hidden === show.has(c.node)) c.el.hidden = !show.has(c.node);
  }
  // Compared first, moved only when out of order: a card taken out to be put back would be lost
  // whenever nothing else moved (one card shown).
  const children = grid.children;
  const order: HTMLElement[] = [];
  let inOrder = true;
  for (const n of selected) {
    let c = cards.get(n.name);
    if (!c) {
      c = buildCard(n);
      cards.set(n.name, c);
      renderCard(c, now);
      observer.observe(c.el);
      inOrder = false;
    }
    if (inOrder && children[order.length] !== c.el) inOrder = false;
    order.push(c.el);
  }
  if (!inOrder) grid.prepend(...order);
}

// ---- the view ------------------------------------------------------------------------------

const currentView = (): View => view.view ?? (nodes.size > TABLE_ABOVE_NODES ? 'table' : 'cards');
let lastSelect = 0;
let reselectTimer: ReturnType<typeof setTimeout> | null = null;

/** Filters and sorts again, and shows the result in the current view. */
function reselect(): void {
  if (reselectTimer) clearTimeout(reselectTimer);
  reselectTimer = null;
  lastSelect = Date.now();
  selected = selectNodes(nodes.values(), view);
  const v = currentView();
  if (v !== shownView) switchView(v);
  if (v === 'table') table!.setRows(view.group === 'tag' ? groupByTag(selected, view.tag) : selected);
  else layoutCards();
  setText(shownEl, selected.length === nodes.size ? '' : `${selected.length} of ${nodes.size} shown`);
}

/** A reselect soon: live values moved, but not more than once per RESELECT_MIN_GAP_MS. */
function reselectSoon(): void {
  if (reselectTimer) return;
  reselectTimer = setTimeout(reselect, Math.max(0, lastSelect + RESELECT_MIN_GAP_MS - Date.now()));
}

function switchView(v: View): void {
  shownView = v;
  document.body.dataset['view'] = v;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-view]')) b.setAttribute('aria-pressed', String(b.dataset['view'] === v));
  grid.hidden = v !== 'cards';
  tableBox.hidden = v !== 'table';
  if (v === 'table') {
    // The cards and their charts are not kept while they cannot be seen.
    for (const c of [...cards.values()]) dropCard(c);
    if (!table) {
      table = mountFleetTable('table-box', { onSort: (sort, dir) => setView({ sort, dir }) });
      showContainersColumn();
    }
    table.setSort(view.sort, view.dir);
    table.fitHeight();
  }
}

/** Changes the view (a control was used), writes it into the URL, and shows it. */
function setView(change: Partial<ViewState>): void {
  view = { ...view, ...change };
  history.replaceState(history.state, '', `${location.pathname}${formatViewState(view)}${location.hash}`);
  showControls();
  table?.setSort(view.sort, view.dir);
  renderCounts();
  reselect();
  if (currentView() === 'table') table?.draw(); // now, not at the next frame: the click answers at once
}

function showControls(): void {
  if (filterInput.value !== view.q) filterInput.value = view.q;
  if (stateSelect.value !== view.state) stateSelect.value = view.state;
  renderTagOptions();
  groupButton.setAttribute('aria-pressed', String(view.group === 'tag'));
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-state-filter]'))
    b.setAttribute('aria-pressed', String(b.dataset['stateFilter'] === view.state));
}

/** The tag filter lists every tag of the fleet, and the one in the URL even before a node has it. */
function renderTagOptions(): void {
  const tags = fleetTags(nodes.values());
  if (view.tag && !tags.includes(view.tag)) tags.push(view.tag);
  const have = [...tagSelect.options].slice(1).map((o) => o.value);
  if (have.length !== tags.length || have.some((t, i) => t !== tags[i])) {
    tagSelect.replaceChildren(tagSelect.options[0]!, ...tags.map((t) => h('option', { value: t, text: t })));
  }
  if (tagSelect.value !== view.tag) tagSelect.value = view.tag;
}

function renderCounts(): void {
  const c = countNodes(nodes.values());
  const parts = [`${c.total} ${c.total === 1 ? 'node' : 'nodes'}`, `${c.online} online`, `${c.offline} offline`];
  if (c.unknown > 0) parts.push(`${c.unknown} unknown`);
  setText(countEl, parts.join(', '));
  countEl.dataset['total'] = String(c.total);
  countEl.dataset['online'] = String(c.online);
  countEl.dataset['offline'] = String(c.offline);
  for (const key of ['red', 'amber', 'offline', 'stale'] as const) {
    const el = document.querySelector<HTMLElement>(`[data-count="${key}"]`);
    if (el) setText(el, String(c[key]));
  }
  // Stale comes from a field the hub may not send: its button shows only when some node is stale, or it is the filter.
  const staleButton = document.querySelector<HTMLElement>('[data-state-filter="stale"]');
  if (staleButton) staleButton.hidden = c.stale === 0 && view.state !== 'stale';
  empty.hidden = c.total > 0;
  toolbar.hidden = c.total === 0;
}

// ---- data ----------------------------------------------------------------------------------

/**
 * What the page asks of /api/nodes: the fleet fields as one array per field, the least to send and
 * parse. fleet.html preloads the same address, so the answer is on its way before this script runs.
 */
const NODES_URL = '/api/nodes?fields=fleet&shape=columns';

/** The containers column is there while some node runs containers. */
function showContainersColumn(): void {
  let any = false;
  for (const n of nodes.values())
    if (n.containers) {
      any = true;
      break;
    }
  table?.showColumn('containers', any);
}

/** Merges a /api/nodes answer: new nodes added, known ones updated, vanished ones removed. */
function applyNodes(list: FleetNodeSummary[]): void {
  const now = Date.now();
  const seen = new Set<string>();
  for (const s of list) {
    seen.add(s.name);
    const n = nodes.get(s.name);
    if (!n) nodes.set(s.name, newNode(s));
    else mergeSummary(n, s);
    const c = cards.get(s.name);
    if (c) renderCard(c, now);
  }
  for (const name of nodes.keys()) if (!seen.has(name)) nodes.delete(name);
  renderTagOptions();
  renderCounts();
  reselect();
  showContainersColumn();
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
      const res = await getJson<FleetColumns>(NODES_URL);
      clearError('nodes');
      applyNodes(fromFleetColumns(res));
      if (currentView() === 'table') table?.draw();
      byId('nodes').setAttribute('aria-busy', 'false');
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

/** One animation frame's worth of stream events (live.ts batches them). */
function onEvents(events: StreamEvent[]): void {
  const now = Date.now();
  const dirty = new Set<Card>();
  let statusChanged = false;
  let unknownNode = false;
  let containersSeen = false;
  for (const e of events) {
    const n = nodes.get(e.node);
    if (!n) {
      unknownNode = true;
      continue;
    }
    const c = cards.get(e.node);
    if (e.type === 'status') {
      if (n.status !== e.status) statusChanged = true;
      // Coming back online may come with new system info (an upgraded agent, a new OS).
      if (e.status === 'online' && n.status !== 'online') unknownNode = true;
      n.status = e.status;
    } else {
      const p = e.point;
      if (!n.latest || p.ts_ms >= n.latest.ts_ms) {
        n.latest = p;
        setContainers(n, e.containers);
        if (e.containers) containersSeen = true;
      }
      // Receipt time: "last seen" is when this page heard from the node, whatever the node's clock says.
      n.lastSeenMs = now;
      if (e.clock_skew_s !== undefined) n.clockSkewS = e.clock_skew_s;
      if (e.clock_synchronized !== undefined) n.clockSynchronized = e.clock_synchronized;
      if (c && c.cols.append(p.ts_ms / 1000, [p.cpu_pct, p.mem_pct], maxGapS(n.info?.interval_ms, c.cols))) c.sparkDirty = true;
    }
    if (c) dirty.add(c);
  }
  for (const c of dirty) {
    renderCard(c, now);
    if (c.sparkDirty && c.visible) drawSparks(c);
  }
  if (statusChanged) renderCounts();
  if (containersSeen) table?.showColumn('containers', true);
  if (events.length > 0) {
    table?.schedule();
    reselectSoon();
  }
  if (unknownNode) scheduleRefresh();
}

/** RED/AMBER per node from /api/alarms: the table's column, the cards' line, the header's counts. */
function onAlarms(alarms: AlarmInfo[]): void {
  const byNode = worstByNode(alarms);
  for (const n of nodes.values()) {
    const list = (byNode.get(n.name) ?? []).filter((a) => a.state === 'red' || a.state === 'amber');
    n.alarm = list[0]?.state === 'red' ? 'red' : list[0]?.state === 'amber' ? 'amber' : null;
    n.alarmLines = list.map(describeAlarm);
    n.silentAlarm = (byNode.get(n.name) ?? []).some((a) => a.state === 'offline');
    const c = cards.get(n.name);
    if (c) renderCard(c, Date.now());
  }
  renderCounts();
  reselect();
}

// ---- controls ------------------------------------------------------------------------------

for (const state of STATE_FILTERS) {
  const labels: Record<StateFilter, string> = {
    all: 'all nodes',
    problems: 'only problems',
    alarm: 'alarms (RED or AMBER)',
    red: 'RED',
    amber: 'AMBER',
    offline: 'offline',
    stale: 'stale',
  };
  stateSelect.append(h('option', { value: state, text: labels[state] }));
}
stateSelect.addEventListener('change', () => setView({ state: stateSelect.value as StateFilter }));
filterInput.addEventListener('input', () => setView({ q: filterInput.value }));
tagSelect.addEventListener('change', () => setView({ tag: tagSelect.value }));
// Groups are rows of the table: grouping shows the table.
groupButton.addEventListener('click', () => setView(view.group === 'tag' ? { group: null } : { group: 'tag', view: 'table' }));
for (const b of document.querySelectorAll<HTMLButtonElement>('[data-state-filter]')) {
  // A count filters to its nodes; clicked again, shows all.
  b.addEventListener('click', () => {
    const state = b.dataset['stateFilter'] as StateFilter;
    setView({ state: view.state === state ? 'all' : state });
  });
}
for (const b of document.querySelectorAll<HTMLButtonElement>('[data-view]')) b.addEventListener('click', () => setView({ view: b.dataset['view'] as View }));
showControls();

setInterval(() => {
  const now = Date.now();
  for (const c of cards.values()) renderSeen(c, now);
  table?.schedule();
  // Sparklines of silent nodes slide too, so a node that stopped reporting shows its line ending.
  if (Math.floor(now / 1000) % 5 === 0) {
    for (const c of cards.values()) if (c.visible && c.plots && c.cols.lastT < now / 1000 - 5) drawSparks(c);
  }
}, 1000);

setupAddNode();

const live = new LiveStream({
  onEvents,
  onState: liveIndicator(document.getElementById('live-state')),
  onReconnect: () => void refresh(),
});

void refresh().then(() => {
  live.start();
  pollAlarms('/api/alarms', onAlarms);
});
