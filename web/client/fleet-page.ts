// The fleet page (`/`): a virtualized table (fleet-table.ts) or one card per node, filtered and
// sorted as fleet-view.ts says, with the view kept in the query string. Both are fed by one model
// per node from /api/nodes, the live stream (one pass per animation frame) and /api/alarms. The
// cards view (fleet-cards.ts, with uPlot) is loaded when first shown: the table view never needs it.
import type { FleetNodeSummary, StreamEvent } from '../../shared/api-types.ts';
import { fromFleetColumns, type FleetColumns } from '../../shared/fleet-columns.ts';
import type { AlarmInfo } from '../../shared/alarm-types.ts';
import { clearError, getJson, showError } from './api.ts';
import './signed-in.ts';
import { byId, h, setText } from './dom.ts';
import type { FleetCards } from './fleet-cards.ts';
import { LiveStream, liveIndicator } from './live.ts';
import { setupAddNode } from './add-node.ts';
import { describe as describeAlarm, poll as pollAlarms, worstByNode } from './alarm-marks.ts';
import { mountFleetTable, type FleetTable } from './fleet-table.ts';
import { holdZoneNaming } from './time-zone-switch.ts';
import {
  countNodes,
  formatViewState,
  fleetTags,
  groupByTag,
  haystackOf,
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

/** Nodes list reloads (new node seen, reconnect) at most this often. */
const REFRESH_MIN_GAP_MS = 3000;
/** Live values re-sort and re-filter the list at most this often, so rows do not jump under the pointer every frame. */
const RESELECT_MIN_GAP_MS = 1000;

// Marks of the first load (script running, list parsed, list applied, ready): bench/fleet-page.ts reads them.
performance.mark('fleet:script');
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
/** The cards view, once loaded (fleet-cards.ts): the table view never loads it. */
let cards: FleetCards | null = null;
let cardsLoading: Promise<void> | null = null;
let view: ViewState = parseViewState(location.search);
let shownView: View | null = null;
let table: FleetTable | null = null;
/** The nodes shown, in order, as last selected. */
let selected: FleetNode[] = [];

// ---- cards ---------------------------------------------------------------------------------

/** uPlot's styles: the cards' charts need them, the table does not, so fleet.html does not ask for them. */
const UPLOT_CSS = '/assets/uPlot.min.css';

/** Adds the stylesheet at `href` to the page once; resolves when it applies, rejects (and removes it) if it cannot load. */
function stylesheet(href: string): Promise<void> {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return Promise.resolve();
  const link = h('link', { rel: 'stylesheet', href });
  const applied = new Promise<void>((resolve, reject) => {
    link.addEventListener('load', () => resolve(), { once: true });
    link.addEventListener('error', () => {
      link.remove(); // the next try adds it again
      reject(new Error(`cannot load ${href}`));
    });
  });
  document.head.append(link);
  return applied;
}

/** Lays the selected nodes out as cards, loading the cards view (uPlot and its styles) the first time. */
function showCards(): void {
  if (cards) {
    cards.layout(selected, (name) => nodes.has(name));
    return;
  }
  cardsLoading ??= Promise.all([import('./fleet-cards.ts'), stylesheet(UPLOT_CSS)]).then(
    ([{ FleetCards }]) => {
      clearError('cards');
      cards = new FleetCards(grid);
      if (shownView === 'cards') cards.layout(selected, (name) => nodes.has(name));
    },
    (err: Error) => {
      cardsLoading = null; // the next reselect tries again
      showError(`Could not load the cards view: ${err.message}`, 'cards');
    },
  );
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
  else showCards();
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
    cards?.clear();
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
  const seen = new Set<string>();
  for (const s of list) {
    seen.add(s.name);
    const n = nodes.get(s.name);
    if (!n) nodes.set(s.name, newNode(s));
    else mergeSummary(n, s);
  }
  cards?.render(seen);
  for (const name of nodes.keys()) if (!seen.has(name)) nodes.delete(name);
  renderTagOptions();
  renderCounts();
  reselect();
  showContainersColumn();
}

const whenIdle = (fn: () => void): void => {
  if ('requestIdleCallback' in window) requestIdleCallback(fn);
  else setTimeout(fn, 50);
};

/**
 * Every node's filter text, made in slices while the page is idle once the list is drawn: a list
 * leaves them to be made (ten thousand cost tens of ms), and the first keystroke then finds them.
 */
function indexTextWhenIdle(): void {
  const pending = [...nodes.values()];
  const step = () => {
    const until = performance.now() + 8;
    while (pending.length > 0 && performance.now() < until) haystackOf(pending.pop()!);
    if (pending.length > 0) whenIdle(step);
  };
  whenIdle(step);
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
      const first = document.body.dataset['ready'] !== 'true';
      if (first) performance.mark('fleet:nodes-parsed');
      clearError('nodes');
      applyNodes(fromFleetColumns(res));
      if (first) performance.mark('fleet:nodes-applied');
      // Ready once the view shown is drawn: the cards view's module may still be on its way.
      if (cardsLoading) await cardsLoading;
      if (currentView() === 'table') table?.draw();
      byId('nodes').setAttribute('aria-busy', 'false');
      document.body.dataset['ready'] = 'true';
      if (first) performance.mark('fleet:ready');
      indexTextWhenIdle();
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
  const touched = new Set<string>();
  let statusChanged = false;
  let unknownNode = false;
  let containersSeen = false;
  for (const e of events) {
    const n = nodes.get(e.node);
    if (!n) {
      unknownNode = true;
      continue;
    }
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
      cards?.sample(n, p);
    }
    if (cards) touched.add(e.node);
  }
  cards?.render(touched);
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
  }
  cards?.render();
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
  cards?.tick(Date.now());
  table?.schedule();
}, 1000);

setupAddNode();

const live = new LiveStream({
  onEvents,
  onState: liveIndicator(document.getElementById('live-state')),
  onReconnect: () => void refresh(),
});

const firstList = refresh();
// The header's zone is named once the list is drawn, not while it is on its way.
holdZoneNaming(firstList);
void firstList.then(() => {
  live.start();
  pollAlarms('/api/alarms', onAlarms);
});
