// The fleet table: one fixed-height row per node, virtualized. Only the rows in the scroll box (and
// a few either side) exist in the DOM; a spacer as tall as every row keeps the scroll bar true, and
// the rows are re-used as the box scrolls. A thousand or ten thousand nodes cost the same to draw.
// Grouped by tag, a group's header is one more row of the same height, so the same holds.
import { byId, h, setAttr, setText } from './dom.ts';
import type { FleetColumnName } from '../../protocol/metrics.ts';
import { fmtAgo, fmtDateTime } from './format.ts';
import { firstDir, isGroup, isStale, type FleetNode, type SortDir, type SortKey, type TableRow, type TagGroup } from './fleet-view.ts';
import { columnText, METRIC_COLUMNS, type MetricColumn } from './metric-columns.ts';

/** Row height, px: rows are placed at index × ROW_H, so every row has exactly this height. */
export const ROW_H = 34;
/** Rows drawn beyond each edge of the box, so a fast scroll shows no blank before the next frame. */
const OVERSCAN = 6;
/** The box never gets shorter than this, px, whatever is above it. */
const MIN_BOX_H = 240;

interface Column {
  key: SortKey;
  label: string;
  /** Narrowest width, px; `grow` shares out the room left over (fr), else the column stays at `min`. */
  min: number;
  grow?: number;
  numeric?: boolean;
  text: (n: FleetNode, now: number) => string;
  title?: (n: FleetNode, now: number) => string;
  /** A title written when the pointer first comes over the cell, then kept current: a date needs a formatter, which the first draw does without. */
  hoverTitle?: (n: FleetNode) => string;
  /** Shown only while some node has a value for it (showColumn). */
  optional?: boolean;
}

const statusText = (n: FleetNode): string => (isStale(n) ? 'stale' : n.status);

/** Narrowest width of each metric column, px. */
const METRIC_MIN_W: Record<FleetColumnName, number> = { cpu: 70, mem: 76, disk: 70, temp: 76, load: 58, net: 196 };
const metricColumn = ({ column, label, title }: MetricColumn): Column => ({
  key: column,
  label,
  min: METRIC_MIN_W[column],
  numeric: true,
  text: (n) => columnText(n.latest, column),
  ...(title === null ? {} : { title: () => title }),
});

/** Containers the cell names after their count; the rest are in its title. */
const CONTAINERS_SHOWN = 2;
const fmtContainer = (c: { name: string; cpu_pct: number | null }): string => (c.cpu_pct == null ? c.name : `${c.name} ${c.cpu_pct.toFixed(0)} %`);
const fmtContainers = (n: FleetNode): string => {
  const c = n.containers;
  return c ? [String(c.running), c.top.slice(0, CONTAINERS_SHOWN).map(fmtContainer).join(', ')].filter((x) => x).join(' · ') : '';
};
const containersTitle = (n: FleetNode): string => {
  const c = n.containers;
  if (!c) return 'no container running';
  const more = c.running - c.top.length;
  return `${c.running} running, busiest first:\n${c.top.map(fmtContainer).join('\n')}${more > 0 ? `\n… and ${more} more` : ''}`;
};

const COLUMNS: Column[] = [
  {
    key: 'name',
    label: 'Node',
    min: 150,
    grow: 1.6,
    text: (n) => n.name,
    title: (n) => [n.name, n.info?.hostname, n.info?.os, n.info?.arch].filter((x) => x).join(' · '),
  },
  { key: 'status', label: 'Status', min: 84, text: statusText },
  { key: 'alarms', label: 'Alarms', min: 150, grow: 2, text: (n) => n.alarmLines[0] ?? '', title: (n) => n.alarmLines.join('\n') },
  ...METRIC_COLUMNS.map(metricColumn),
  { key: 'containers', label: 'Containers', min: 180, grow: 1.2, optional: true, text: fmtContainers, title: containersTitle },
  {
    key: 'seen',
    label: 'Last seen',
    min: 96,
    numeric: true,
    text: (n, now) => fmtAgo(n.lastSeenMs, now),
    hoverTitle: (n) => (n.lastSeenMs == null ? 'no sample received yet' : fmtDateTime(n.lastSeenMs)),
  },
  { key: 'version', label: 'Agent', min: 96, text: (n) => n.info?.agent_version ?? '—' },
  { key: 'tags', label: 'Tags', min: 120, grow: 1, text: (n) => n.tags.join(' '), title: (n) => n.tags.join(', ') },
];

const groupLabel = (g: TagGroup): string => `${g.group || 'untagged'} · ${g.count} ${g.count === 1 ? 'node' : 'nodes'}`;

interface Row {
  el: HTMLAnchorElement;
  cells: HTMLElement[];
  node: TableRow | null;
}

export interface FleetTableOptions {
  /** A header was clicked: sort by `key` in `dir`. */
  onSort: (key: SortKey, dir: SortDir) => void;
}

export class FleetTable {
  readonly el: HTMLElement;
  private readonly box: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly headers = new Map<SortKey, HTMLButtonElement>();
  private rows: readonly TableRow[] = [];
  private readonly pool: Row[] = [];
  private frame = 0;
  /** Rows drawn beyond each edge: none until the first rows are painted, so the first frame lays out only those in view. */
  private overscan = 0;
  private overscanQueued = false;
  private sort: SortKey = 'problems';
  private dir: SortDir = 'asc';
  /** The optional columns shown now. */
  private readonly shown = new Set<SortKey>();

  constructor(private readonly opts: FleetTableOptions) {
    const head = h('div', { class: 'ft-head', role: 'row' });
    for (const col of COLUMNS) {
      const b = h('button', { type: 'button', class: col.numeric ? 'ft-th num' : 'ft-th', role: 'columnheader', 'data-sort': col.key, text: col.label });
      b.addEventListener('click', () => {
        const dir: SortDir = this.sort === col.key ? (this.dir === 'asc' ? 'desc' : 'asc') : firstDir(col.key);
        this.opts.onSort(col.key, dir);
      });
      this.headers.set(col.key, b);
      head.append(b);
    }
    this.spacer = h('div', { class: 'ft-body', role: 'rowgroup' });
    this.box = h('div', { class: 'ft-box' }, head, this.spacer);
    this.el = h('div', { class: 'fleet-table', role: 'table', 'aria-label': 'Nodes' }, this.box);
    this.layoutColumns();
    this.box.addEventListener('scroll', () => this.schedule(), { passive: true });
    addEventListener('resize', () => {
      this.fitHeight();
      this.schedule();
    });
    // The header grows when its parts arrive ("signed in as") or wrap: the box then starts lower.
    const header = document.querySelector('header.top');
    if (header) new ResizeObserver(() => this.fitHeight()).observe(header);
  }

  /** Shows or hides an optional column (its header, its cells, its width). */
  showColumn(key: SortKey, show: boolean): void {
    if (this.shown.has(key) === show) return;
    if (show) this.shown.add(key);
    else this.shown.delete(key);
    this.layoutColumns();
    this.schedule();
  }

  private isShown(col: Column): boolean {
    return !col.optional || this.shown.has(col.key);
  }

  private layoutColumns(): void {
    const cols = COLUMNS.filter((c) => this.isShown(c));
    this.el.style.setProperty('--ft-cols', cols.map((c) => (c.grow ? `minmax(${c.min}px, ${c.grow}fr)` : `${c.min}px`)).join(' '));
    this.el.style.setProperty('--ft-min-w', `${cols.reduce((sum, c) => sum + c.min, 0)}px`);
    COLUMNS.forEach((col, i) => {
      const hidden = !this.isShown(col);
      this.headers.get(col.key)!.hidden = hidden;
      for (const row of this.pool) row.cells[i]!.hidden = hidden;
    });
  }

  /** The nodes to show, in order (with group headers when grouped); drawn at the next frame. */
  setRows(rows: readonly TableRow[]): void {
    this.rows = rows;
    this.el.setAttribute('aria-rowcount', String(rows.length + 1));
    this.spacer.style.height = `${rows.length * ROW_H}px`;
    this.schedule();
  }

  setSort(key: SortKey, dir: SortDir): void {
    this.sort = key;
    this.dir = dir;
    for (const [k, b] of this.headers) {
      const sorted = k === key;
      setAttr(b, 'aria-sort', sorted ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
      b.dataset['dir'] = sorted ? dir : '';
    }
  }

  /** The box reaches down to the bottom of the window, so the page itself does not scroll. */
  fitHeight(): void {
    if (!this.el.isConnected) return;
    const top = this.box.getBoundingClientRect().top + scrollY;
    this.box.style.maxHeight = `${Math.max(MIN_BOX_H, Math.floor(innerHeight - top - 12))}px`;
  }

  /** Redraws the rows on screen at the next frame (values changed, the box scrolled). */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws now: the rows that intersect the box. */
  draw(): void {
    if (!this.el.isConnected) return;
    const headH = this.spacer.offsetTop;
    const viewH = this.box.clientHeight;
    const top = Math.max(0, this.box.scrollTop - headH);
    const first = Math.max(0, Math.floor(top / ROW_H) - this.overscan);
    const last = Math.min(this.rows.length, Math.ceil((top + viewH) / ROW_H) + this.overscan);
    const count = Math.max(0, last - first);
    if (count > 0 && !this.overscanQueued) {
      this.overscanQueued = true;
      // After the frame that paints these rows: a task queued from its animation frame runs once it is painted.
      requestAnimationFrame(() =>
        setTimeout(() => {
          this.overscan = OVERSCAN;
          this.schedule();
        }),
      );
    }
    while (this.pool.length < count) this.pool.push(this.newRow());
    const now = Date.now();
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i]!;
      const node = i < count ? this.rows[first + i] : undefined;
      if (!node) {
        if (!row.el.hidden) row.el.hidden = true;
        row.node = null;
        continue;
      }
      if (row.el.hidden) row.el.hidden = false;
      row.el.style.transform = `translateY(${(first + i) * ROW_H}px)`;
      setAttr(row.el, 'aria-rowindex', String(first + i + 2));
      this.fill(row, node, now);
    }
  }

  private newRow(): Row {
    const row: Row = { el: h('a', { class: 'ft-row', role: 'row' }), cells: [], node: null };
    for (const c of COLUMNS) {
      const cell = h('span', { class: c.numeric ? 'ft-td num' : 'ft-td', role: 'cell', 'data-col': c.key });
      cell.hidden = !this.isShown(c);
      const hoverTitle = c.hoverTitle;
      if (hoverTitle)
        cell.addEventListener('pointerenter', () => {
          if (row.node && !isGroup(row.node)) cell.title = hoverTitle(row.node);
        });
      row.cells.push(cell);
    }
    row.el.append(...row.cells);
    row.el.style.height = `${ROW_H}px`;
    this.spacer.append(row.el);
    return row;
  }

  private fill(row: Row, item: TableRow, now: number): void {
    if (isGroup(item)) {
      this.fillGroup(row, item);
      return;
    }
    const n = item;
    if (row.node !== n) {
      if (row.node && isGroup(row.node)) {
        row.el.classList.remove('ft-group');
        delete row.el.dataset['group'];
        setAttr(row.el, 'role', 'row');
      }
      row.node = n;
      row.el.dataset['node'] = n.name;
      row.el.href = `/nodes/${encodeURIComponent(n.name)}`;
    }
    setAttr(row.el, 'data-status', statusText(n));
    setAttr(row.el, 'data-alarm', n.alarm ?? 'ok');
    for (let i = 0; i < COLUMNS.length; i++) {
      const col = COLUMNS[i]!;
      const cell = row.cells[i]!;
      if (cell.hidden) continue;
      setText(cell, col.text(n, now));
      // A hover title stays unwritten until the pointer first comes over its cell.
      const title = col.hoverTitle ? cell.title && col.hoverTitle(n) : (col.title?.(n, now) ?? '');
      if (cell.title !== title) cell.title = title;
    }
  }

  /** A group's header: its label in the first cell, the rest empty; no link. */
  private fillGroup(row: Row, g: TagGroup): void {
    if (row.node === g) return;
    row.node = g;
    row.el.removeAttribute('href');
    delete row.el.dataset['node'];
    row.el.dataset['group'] = g.group;
    row.el.classList.add('ft-group');
    for (const key of ['data-status', 'data-alarm']) row.el.removeAttribute(key);
    row.cells.forEach((cell, i) => {
      setText(cell, i === 0 ? groupLabel(g) : '');
      if (cell.title) cell.title = '';
    });
  }
}

/** The element with id `id` holds the table (fleet.html). */
export function mountFleetTable(id: string, opts: FleetTableOptions): FleetTable {
  const table = new FleetTable(opts);
  byId(id).append(table.el);
  return table;
}
