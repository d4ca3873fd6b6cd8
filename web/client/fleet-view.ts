// Which nodes the fleet page shows and in what order: the node model, sorting (problems first by
// default), the text, state and tag filters, grouping by tag, and the query string that keeps them
// (?view=&sort=&dir=&q=&state=&tag=&group=).
// No DOM here: fleet-table.ts and fleet-page.ts draw.
import { FLEET_COLUMNS } from '../../protocol/metrics.ts';
import type { ContainersSummary, FleetNodeSummary } from '../../shared/api-types.ts';
import { columnValue } from './metric-columns.ts';

/** What the fleet page knows of one node, from /api/nodes, the live stream and /api/alarms. */
export interface FleetNode {
  name: string;
  status: FleetNodeSummary['status'];
  /** /api/nodes says the node is online but silent (a field the API may not give). */
  staleReported: boolean;
  /** Its `offline` alarm fires while its status says online: silent past the rule's limit. */
  silentAlarm: boolean;
  lastSeenMs: number | null;
  clockSkewS: number | null;
  /** false when the node says its clock is not synchronised (NTP); null when it does not say. */
  clockSynchronized: boolean | null;
  latest: FleetPoint | null;
  info: FleetNodeSummary['info'];
  /** Its tags, sorted (NodeSummary.tags: the agent's and the hub's). */
  tags: string[];
  /** Its running containers, from /api/nodes and the live stream; null when it has none. */
  containers: ContainersSummary | null;
  /** The worst RED/AMBER alarm, and one line per active alarm. */
  alarm: 'red' | 'amber' | null;
  alarmLines: string[];
  /** Lower-case text the filter box matches (haystackOf): null until a filter first asks, or after what it holds changed. */
  haystack: string | null;
  /** The name as a key that sorts with `<` the way people read numbers: fleet-9 before fleet-10. */
  nameKey: string;
}

type FleetPoint = NonNullable<FleetNodeSummary['latest']>;

export function newNode(s: FleetNodeSummary): FleetNode {
  const n: FleetNode = {
    name: s.name,
    status: s.status,
    staleReported: false,
    silentAlarm: false,
    lastSeenMs: s.last_seen_ms,
    clockSkewS: s.clock_skew_s,
    clockSynchronized: s.clock_synchronized ?? null,
    latest: s.latest,
    info: s.info,
    tags: s.tags ?? [],
    containers: null,
    alarm: null,
    alarmLines: [],
    haystack: null,
    nameKey: nameKey(s.name),
  };
  mergeSummary(n, s);
  return n;
}

/** Takes a /api/nodes answer into `n`, keeping what the stream brought if it is newer. */
export function mergeSummary(n: FleetNode, s: FleetNodeSummary): void {
  n.status = s.status;
  n.info = s.info;
  n.tags = s.tags ?? []; // an older hub's answer has none
  n.clockSkewS = s.clock_skew_s;
  n.clockSynchronized = s.clock_synchronized ?? null;
  // `stale` is not in every hub's answer: absent means not stale.
  n.staleReported = s.stale === true;
  if (s.last_seen_ms != null && (n.lastSeenMs == null || s.last_seen_ms > n.lastSeenMs)) n.lastSeenMs = s.last_seen_ms;
  if (s.latest && (!n.latest || s.latest.ts_ms >= n.latest.ts_ms)) {
    n.latest = s.latest;
    n.containers = s.containers ?? null;
  }
  indexText(n);
}

/** The live stream's containers of a node (a sample brings them when it has any). */
export function setContainers(n: FleetNode, containers: ContainersSummary | undefined): void {
  const next = containers ?? null;
  const names = (c: ContainersSummary | null) => c?.top.map((t) => t.name).join(' ') ?? '';
  const renamed = names(n.containers) !== names(next);
  n.containers = next;
  if (renamed) indexText(n);
}

/** The filter's text changes: made again when next matched (a first load makes none, ten thousand cost tens of ms). */
function indexText(n: FleetNode): void {
  n.haystack = null;
}

/** Lower-case text the filter box matches: name, hostname, OS, arch, agent version, addresses, tags, containers. */
export function haystackOf(n: FleetNode): string {
  if (n.haystack !== null) return n.haystack;
  const i = n.info;
  const words = [n.name, i?.hostname, i?.os, i?.arch, i?.agent_version, ...(i?.ip_addresses ?? []), ...n.tags];
  if (n.containers) for (const c of n.containers.top) words.push(c.name);
  n.haystack = words
    .filter((x) => x)
    .join(' ')
    .toLowerCase();
  return n.haystack;
}

/** The containers column sorts by how many run, then by the busiest one's CPU. */
const containersRank = (c: ContainersSummary | null): number | null => (c ? c.running * 1000 + Math.min(999, c.top[0]?.cpu_pct ?? 0) : null);

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * Lower case, every run of digits zero-padded to 16: a plain string comparison then orders numbers
 * by value. A loop, not replace(/\d+/g, pad): a first load makes one per node.
 */
export function nameKey(name: string): string {
  const s = name.toLowerCase();
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; ) {
    if (!isDigit(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < s.length && isDigit(s.charCodeAt(end))) end++;
    out += s.slice(from, i) + '0'.repeat(Math.max(0, 16 - (end - i))) + s.slice(i, end);
    from = i = end;
  }
  return from === 0 ? s : out + s.slice(from);
}

export const isStale = (n: FleetNode): boolean => n.status !== 'offline' && (n.staleReported || n.silentAlarm);

/** 0 RED, 1 AMBER, 2 offline, 3 stale, 4 the rest. */
export function severity(n: FleetNode): number {
  if (n.alarm === 'red') return 0;
  if (n.alarm === 'amber') return 1;
  if (n.status === 'offline') return 2;
  if (isStale(n)) return 3;
  return 4;
}

export const SORT_KEYS = ['problems', 'name', 'status', 'alarms', ...FLEET_COLUMNS.map((c) => c.column), 'containers', 'seen', 'version', 'tags'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

export const STATE_FILTERS = ['all', 'problems', 'alarm', 'red', 'amber', 'offline', 'stale'] as const;
export type StateFilter = (typeof STATE_FILTERS)[number];

export type View = 'table' | 'cards';
/** With more nodes than this, the table is the default view. */
export const TABLE_ABOVE_NODES = 30;

export interface ViewState {
  /** null: chosen by the number of nodes (TABLE_ABOVE_NODES). */
  view: View | null;
  sort: SortKey;
  dir: SortDir;
  q: string;
  state: StateFilter;
  /** Only nodes carrying this tag; '' any. */
  tag: string;
  /** 'tag': the table shows a header row per tag, each followed by its nodes (groupByTag). */
  group: 'tag' | null;
}

export const DEFAULT_VIEW: Readonly<ViewState> = Object.freeze({ view: null, sort: 'problems', dir: 'asc', q: '', state: 'all', tag: '', group: null });

/** Numbers read best from the highest down; names and versions from A. */
export const firstDir = (key: SortKey): SortDir =>
  key === 'name' || key === 'version' || key === 'status' || key === 'problems' || key === 'tags' ? 'asc' : 'desc';

const oneOf = <T extends string>(list: readonly T[], value: string | null): T | null =>
  value !== null && (list as readonly string[]).includes(value) ? (value as T) : null;

/** The view from a query string; a value that is not one of the known ones falls back to its default (a shared link may be old). */
export function parseViewState(search: string): ViewState {
  const p = new URLSearchParams(search);
  const sort = oneOf(SORT_KEYS, p.get('sort')) ?? DEFAULT_VIEW.sort;
  return {
    view: oneOf(['table', 'cards'] as const, p.get('view')),
    sort,
    dir: oneOf(['asc', 'desc'] as const, p.get('dir')) ?? firstDir(sort),
    q: (p.get('q') ?? '').slice(0, 200),
    state: oneOf(STATE_FILTERS, p.get('state')) ?? DEFAULT_VIEW.state,
    tag: (p.get('tag') ?? '').slice(0, 64),
    group: oneOf(['tag'] as const, p.get('group')),
  };
}

/** The query string of a view ('' or '?…'), leaving out what is the default. */
export function formatViewState(s: ViewState): string {
  const p = new URLSearchParams();
  if (s.view) p.set('view', s.view);
  if (s.sort !== DEFAULT_VIEW.sort) p.set('sort', s.sort);
  if (s.sort !== DEFAULT_VIEW.sort && s.dir !== firstDir(s.sort)) p.set('dir', s.dir);
  if (s.q) p.set('q', s.q);
  if (s.state !== DEFAULT_VIEW.state) p.set('state', s.state);
  if (s.tag) p.set('tag', s.tag);
  if (s.group) p.set('group', s.group);
  const q = p.toString();
  return q ? `?${q}` : '';
}

export function matchesState(n: FleetNode, state: StateFilter): boolean {
  switch (state) {
    case 'all':
      return true;
    case 'problems':
      return severity(n) < 4;
    case 'alarm':
      return n.alarm !== null;
    case 'red':
    case 'amber':
      return n.alarm === state;
    case 'offline':
      return n.status === 'offline';
    case 'stale':
      return isStale(n);
  }
}

const wordsOf = (q: string): string[] =>
  q
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w);

/** Every one of `words` (lower case) appears in the node's text. */
const hasWords = (n: FleetNode, words: readonly string[]): boolean => words.length === 0 || words.every((w) => haystackOf(n).includes(w));

/** Every word of `q` appears in the node's text. */
export function matchesText(n: FleetNode, q: string): boolean {
  return hasWords(n, wordsOf(q));
}

const STATUS_ORDER: Record<string, number> = { online: 0, unknown: 1, offline: 2 };

/** The value a column sorts by; null/undefined for unknown, which sorts last both ways. */
export function sortValue(n: FleetNode, key: SortKey): number | string | null | undefined {
  const p = n.latest;
  switch (key) {
    case 'problems':
      return problemRank(n);
    case 'name':
      return n.name;
    case 'status':
      return (STATUS_ORDER[n.status] ?? 1) + (isStale(n) ? 0.5 : 0);
    case 'alarms':
      return 4 - severity(n);
    case 'containers':
      return containersRank(n.containers);
    case 'seen':
      return n.lastSeenMs;
    case 'version':
      return n.info?.agent_version || null;
    case 'tags':
      return n.tags.length ? n.tags.join(' ') : null;
    default:
      // A metric column (protocol/metrics.ts, FLEET_COLUMNS).
      return columnValue(p, key);
  }
}

/** Problems first: RED, AMBER, offline, stale, the rest; within one severity live nodes before offline ones. */
export function problemRank(n: FleetNode): number {
  return severity(n) * 2 + (n.status === 'offline' ? 1 : 0);
}

// Made when text is first compared (a sort by version or tags): the default sort compares numbers,
// and a page's first Intl object costs tens of ms.
let collator: Intl.Collator | null = null;
const compareText = (a: string, b: string): number => (collator ??= new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })).compare(a, b);
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const compareNames = (a: FleetNode, b: FleetNode): number => byString(a.nameKey, b.nameKey);

/** A comparator for Array.sort: by `key` in `dir`, unknown values last, ties by name. */
export function comparator(key: SortKey, dir: SortDir): (a: FleetNode, b: FleetNode) => number {
  const compare = keyedComparator(dir, key === 'problems');
  return (a, b) => compare({ node: a, value: sortValue(a, key) }, { node: b, value: sortValue(b, key) });
}

interface Keyed {
  node: FleetNode;
  value: number | string | null | undefined;
}

function keyedComparator(dir: SortDir, alwaysAscending: boolean): (a: Keyed, b: Keyed) => number {
  const sign = alwaysAscending || dir === 'asc' ? 1 : -1;
  return (a, b) => {
    const va = a.value;
    const vb = b.value;
    const aUnknown = va == null || (typeof va === 'number' && Number.isNaN(va));
    const bUnknown = vb == null || (typeof vb === 'number' && Number.isNaN(vb));
    if (aUnknown !== bUnknown) return aUnknown ? 1 : -1;
    let c = 0;
    if (!aUnknown && !bUnknown) c = typeof va === 'number' && typeof vb === 'number' ? va - vb : compareText(String(va), String(vb));
    return c !== 0 ? c * sign : compareNames(a.node, b.node);
  };
}

/** The nodes the view shows, in its order. */
export function selectNodes(nodes: Iterable<FleetNode>, s: ViewState): FleetNode[] {
  // Each node's sort value is read once, not once per comparison.
  const keyed: Keyed[] = [];
  const words = wordsOf(s.q);
  for (const n of nodes)
    if (matchesState(n, s.state) && (s.tag === '' || n.tags.includes(s.tag)) && hasWords(n, words)) keyed.push({ node: n, value: sortValue(n, s.sort) });
  keyed.sort(keyedComparator(s.dir, s.sort === 'problems'));
  return keyed.map((k) => k.node);
}

/** A header row of the table grouped by tag: the tag ('' for nodes without one) and its nodes' count. */
export interface TagGroup {
  group: string;
  count: number;
}

export type TableRow = FleetNode | TagGroup;

export const isGroup = (row: TableRow): row is TagGroup => 'group' in row;

/**
 * `nodes` (in their order) under a header per tag, tags in name order, then those without a tag
 * under '' ("untagged"). A node with several tags is listed under each. With `only`, just that
 * tag's group (the tag filter). Every row, header or node, is one row of the same height.
 */
export function groupByTag(nodes: readonly FleetNode[], only = ''): TableRow[] {
  const byTag = new Map<string, FleetNode[]>();
  const untagged: FleetNode[] = [];
  for (const n of nodes) {
    if (n.tags.length === 0 && !only) untagged.push(n);
    for (const t of n.tags) {
      if (only && t !== only) continue;
      let list = byTag.get(t);
      if (!list) byTag.set(t, (list = []));
      list.push(n);
    }
  }
  const rows: TableRow[] = [];
  const add = (group: string, list: FleetNode[]) => {
    rows.push({ group, count: list.length });
    for (const n of list) rows.push(n); // not push(...list): ten thousand arguments
  };
  for (const tag of [...byTag.keys()].sort()) add(tag, byTag.get(tag)!);
  if (untagged.length) add('', untagged);
  return rows;
}

/** Every tag some node carries, sorted, for the tag filter. */
export function fleetTags(nodes: Iterable<FleetNode>): string[] {
  const tags = new Set<string>();
  for (const n of nodes) for (const t of n.tags) tags.add(t);
  return [...tags].sort();
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  unknown: number;
  red: number;
  amber: number;
  stale: number;
}

export function countNodes(nodes: Iterable<FleetNode>): FleetCounts {
  const c: FleetCounts = { total: 0, online: 0, offline: 0, unknown: 0, red: 0, amber: 0, stale: 0 };
  for (const n of nodes) {
    c.total++;
    if (n.status === 'online') c.online++;
    else if (n.status === 'offline') c.offline++;
    else c.unknown++;
    if (n.alarm === 'red') c.red++;
    else if (n.alarm === 'amber') c.amber++;
    if (isStale(n)) c.stale++;
  }
  return c;
}
