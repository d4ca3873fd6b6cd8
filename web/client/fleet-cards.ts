// The fleet page's cards view: one card per node, with CPU and memory sparklines (uPlot). Loaded by
// fleet-page.ts only when the cards view is first shown, so the table view never loads uPlot or the
// charts. Cards are built only while the view is shown; their sparklines are created when a card
// first scrolls into view, loaded a few at a time, then fed by the live stream.
import uPlot from 'uplot';
import type { FleetNodeSummary } from '../../shared/api-types.ts';
import { CLOCK_TOLERANCE_MS } from '../../protocol/sample.ts';
import { api, limiter } from './api.ts';
import { COLORS, Columns, maxGapS, sparkOptions } from './charts.ts';
import { h, setAttr, setText } from './dom.ts';
import { fmtAgo, fmtDateTime, fmtDuration } from './format.ts';
import { isStale, type FleetNode } from './fleet-view.ts';
import { columnMetrics, columnText, columnValue } from './metric-columns.ts';

const SPARK_WINDOW_S = 5 * 60;
const SPARK_POINTS = 150;
const SPARK_W = 150;
const SPARK_H = 30;
/** Sparkline loads in flight at once: the page stays responsive and the hub is not flooded. */
const loadLimit = limiter(4);

type FleetPoint = NonNullable<FleetNodeSummary['latest']>;

/** The sparklines' metrics: the CPU column's, then the memory column's (one each). */
const SPARK_METRICS = [...columnMetrics('cpu'), ...columnMetrics('mem')];
const sparkValues = (p: FleetPoint): (number | undefined)[] => SPARK_METRICS.map((m) => p[m]);

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
  /** The CPU and memory columns' metrics (SPARK_METRICS) over the last five minutes. */
  cols: Columns;
  plots: [uPlot, uPlot] | null;
  visible: boolean;
  /** 'idle' → 'queued' → 'loaded'; back to 'idle' when the card left the view before its turn. */
  load: 'idle' | 'queued' | 'loaded';
  sparkDirty: boolean;
}

/** The cards in `grid`, one per node of the fleet shown, keyed by node name. */
export class FleetCards {
  private readonly cards = new Map<string, Card>();
  private readonly observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const card = this.cardOf(entry.target);
        if (!card) continue;
        card.visible = entry.isIntersecting;
        if (!card.visible) continue;
        if (!card.plots) createSparks(card);
        if (card.load === 'idle') this.queueLoad(card);
        if (card.sparkDirty) drawSparks(card);
      }
    },
    { rootMargin: '200px 0px' },
  );

  constructor(private readonly grid: HTMLElement) {}

  /** Cards of `selected` in their order; the others are hidden, and those of nodes no longer `known` dropped. Moving a card keeps its canvases. */
  layout(selected: readonly FleetNode[], known: (name: string) => boolean): void {
    const now = Date.now();
    const show = new Set(selected);
    for (const c of [...this.cards.values()]) {
      if (!known(c.node.name)) this.drop(c);
      else if (c.el.hidden === show.has(c.node)) c.el.hidden = !show.has(c.node);
    }
    // Compared first, moved only when out of order: a card taken out to be put back would be lost
    // whenever nothing else moved (one card shown).
    const children = this.grid.children;
    const order: HTMLElement[] = [];
    let inOrder = true;
    for (const n of selected) {
      let c = this.cards.get(n.name);
      if (!c) {
        c = buildCard(n);
        this.cards.set(n.name, c);
        renderCard(c, now);
        this.observer.observe(c.el);
        inOrder = false;
      }
      if (inOrder && children[order.length] !== c.el) inOrder = false;
      order.push(c.el);
    }
    if (!inOrder) this.grid.prepend(...order);
  }

  /** A sample of `n` arrived: its sparklines take it (drawn by `render`). */
  sample(n: FleetNode, p: FleetPoint): void {
    const c = this.cards.get(n.name);
    if (c?.cols.append(p.ts_ms / 1000, sparkValues(p), maxGapS(n.info?.interval_ms, c.cols))) c.sparkDirty = true;
  }

  /** Writes again the cards of these nodes (all of them without a list), and their sparklines that moved and can be seen. */
  render(names?: Iterable<string>): void {
    const now = Date.now();
    const list = names ? [...names].map((name) => this.cards.get(name)) : [...this.cards.values()];
    for (const c of list) {
      if (!c) continue;
      renderCard(c, now);
      if (c.sparkDirty && c.visible) drawSparks(c);
    }
  }

  /** Once a second: "last seen" moves on, and sparklines of silent nodes slide (every 5 s) so a node that stopped shows its line ending. */
  tick(now: number): void {
    for (const c of this.cards.values()) renderSeen(c, now);
    if (Math.floor(now / 1000) % 5 === 0) {
      for (const c of this.cards.values()) if (c.visible && c.plots && c.cols.lastT < now / 1000 - 5) drawSparks(c);
    }
  }

  /** Every card and its charts go: they are not kept while the view is not shown. */
  clear(): void {
    for (const c of [...this.cards.values()]) this.drop(c);
  }

  private cardOf(el: Element): Card | undefined {
    const name = (el as HTMLElement).dataset['node'];
    return name === undefined ? undefined : this.cards.get(name);
  }

  private drop(c: Card): void {
    this.observer.unobserve(c.el);
    c.plots?.forEach((u) => u.destroy());
    c.el.remove();
    this.cards.delete(c.node.name);
  }

  private queueLoad(c: Card): void {
    c.load = 'queued';
    void loadLimit(async () => {
      // Scrolled past before its turn came: load it when it shows again.
      if (!c.visible || this.cards.get(c.node.name) !== c) {
        c.load = 'idle';
        return;
      }
      try {
        const res = await api.series(c.node.name, SPARK_METRICS, `-${SPARK_WINDOW_S / 60}m`, 'now', SPARK_POINTS);
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
  if (n.latest) card.cols.append(n.latest.ts_ms / 1000, sparkValues(n.latest));
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
  setText(c.cpu, columnText(p, 'cpu'));
  setText(c.mem, columnText(p, 'mem'));
  setText(c.disk, columnText(p, 'disk'));
  // Temperature only when the node reports one: no sensor is not 0 °C.
  const hasTemp = columnValue(p, 'temp') !== undefined;
  if (c.tempRow.hidden === hasTemp) c.tempRow.hidden = !hasTemp;
  if (hasTemp) setText(c.temp, columnText(p, 'temp'));
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
