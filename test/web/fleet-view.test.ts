// The fleet page's choice of nodes and order, as tables of cases: problems first, every sort key
// with unknown values last, the text and state filters, and the query string that keeps a view.
import { describe, expect, it } from 'vitest';
import type { NodeSummary } from '../../shared/api-types.ts';
import {
  countNodes,
  DEFAULT_VIEW,
  fleetTags,
  groupByTag,
  isGroup,
  formatViewState,
  matchesText,
  mergeSummary,
  nameKey,
  newNode,
  parseViewState,
  selectNodes,
  type FleetNode,
  type SortKey,
  type StateFilter,
  type ViewState,
} from '../../web/client/fleet-view.ts';

function node(
  name: string,
  o: {
    status?: NodeSummary['status'];
    cpu?: number;
    alarm?: 'red' | 'amber';
    stale?: boolean;
    silent?: boolean;
    version?: string;
    seen?: number;
    tags?: string[];
  } = {},
): FleetNode {
  const summary: NodeSummary & { stale?: boolean } = {
    name,
    status: o.status ?? 'online',
    last_seen_ms: o.seen ?? null,
    clock_skew_s: null,
    latest: o.cpu === undefined ? null : { ts_ms: 1, cpu_pct: o.cpu },
    info: o.version
      ? {
          v: 1,
          agent_version: o.version,
          hostname: `${name}.lan`,
          os: 'Raspbian',
          kernel: '6',
          arch: 'arm64',
          cpu_model: '',
          cpu_cores: 4,
          mem_total_bytes: 1,
          disks: [],
          boot_time_ms: 0,
          interval_ms: 1000,
        }
      : null,
    tags: o.tags ?? [],
    hub_tags: [],
    ...(o.stale === undefined ? {} : { stale: o.stale }),
  };
  const n = newNode(summary);
  n.alarm = o.alarm ?? null;
  n.silentAlarm = o.silent ?? false;
  return n;
}

const fleet = [
  node('pi-10', { cpu: 5, version: '1.2.0' }),
  node('pi-9', { cpu: 80, version: '1.10.0' }),
  node('gone-1', { status: 'offline', cpu: 1 }),
  node('gone-red', { status: 'offline', alarm: 'red', cpu: 99 }),
  node('hot', { alarm: 'red', cpu: 97 }),
  node('warm', { alarm: 'amber', cpu: 60 }),
  node('quiet', { stale: true, cpu: 2 }),
  node('silent', { silent: true }),
  node('new'),
];
const view = (o: Partial<ViewState>): ViewState => ({ ...DEFAULT_VIEW, ...o });
const names = (o: Partial<ViewState>) => selectNodes(fleet, view(o)).map((n) => n.name);

describe('fleet view', () => {
  it('puts problems first: RED (live before offline), AMBER, offline, stale, then the rest by name as read', () => {
    expect(names({})).toEqual(['hot', 'gone-red', 'warm', 'gone-1', 'quiet', 'silent', 'new', 'pi-9', 'pi-10']);
  });

  it.each<[SortKey, 'asc' | 'desc', string[]]>([
    ['cpu', 'desc', ['gone-red', 'hot', 'pi-9', 'warm', 'pi-10', 'quiet', 'gone-1', 'new', 'silent']],
    ['cpu', 'asc', ['gone-1', 'quiet', 'pi-10', 'warm', 'pi-9', 'hot', 'gone-red', 'new', 'silent']],
    ['name', 'asc', ['gone-1', 'gone-red', 'hot', 'new', 'pi-9', 'pi-10', 'quiet', 'silent', 'warm']],
    ['version', 'asc', ['pi-10', 'pi-9', 'gone-1', 'gone-red', 'hot', 'new', 'quiet', 'silent', 'warm']],
    ['version', 'desc', ['pi-9', 'pi-10', 'gone-1', 'gone-red', 'hot', 'new', 'quiet', 'silent', 'warm']],
  ])('sorts by %s %s, unknown values last either way', (sort, dir, expected) => {
    expect(names({ sort, dir })).toEqual(expected);
  });

  it.each<[StateFilter, string[]]>([
    ['red', ['hot', 'gone-red']],
    ['amber', ['warm']],
    ['alarm', ['hot', 'gone-red', 'warm']],
    ['offline', ['gone-red', 'gone-1']],
    ['stale', ['quiet', 'silent']],
    ['problems', ['hot', 'gone-red', 'warm', 'gone-1', 'quiet', 'silent']],
  ])('filters by state %s', (state, expected) => {
    expect(names({ state })).toEqual(expected);
  });

  it('filters by every word of the text, in name, host, OS and version', () => {
    expect(names({ q: 'PI-9' })).toEqual(['pi-9']);
    expect(names({ q: 'raspbian 1.2' })).toEqual(['pi-10']);
    expect(names({ q: 'pi-9.lan' })).toEqual(['pi-9']);
    expect(names({ q: 'nothing-like-it' })).toEqual([]);
  });

  it('matches the text a node has after a new list changed it, not the text it had when first matched', () => {
    const n = node('pi-3', { version: '1.0', tags: ['lab'] });
    expect(matchesText(n, 'lab')).toBe(true);
    mergeSummary(n, { name: 'pi-3', status: 'online', last_seen_ms: null, clock_skew_s: null, latest: null, info: n.info, tags: ['attic'] });
    expect([matchesText(n, 'lab'), matchesText(n, 'attic pi-3.lan')]).toEqual([false, true]);
  });

  it('orders names by the value of each run of digits, in any case', () => {
    const sorted = ['rack10-b2', 'Rack2-b10', 'rack2-b9', 'x', 'rack2', '007', 'rack10-b1', 'a99999999999999999999'].sort((a, b) =>
      nameKey(a) < nameKey(b) ? -1 : nameKey(a) > nameKey(b) ? 1 : 0,
    );
    expect(sorted).toEqual(['007', 'a99999999999999999999', 'rack2', 'rack2-b9', 'Rack2-b10', 'rack10-b1', 'rack10-b2', 'x']);
    expect(nameKey('Pi-7')).toBe(`pi-${'7'.padStart(16, '0')}`);
  });

  it('counts RED, AMBER, offline and stale nodes', () => {
    expect(countNodes(fleet)).toEqual({ total: 9, online: 7, offline: 2, unknown: 0, red: 2, amber: 1, stale: 2 });
  });

  it.each<[string, Partial<ViewState>]>([
    ['', {}],
    ['?view=table', { view: 'table' }],
    ['?sort=cpu', { sort: 'cpu', dir: 'desc' }],
    ['?sort=cpu&dir=asc&q=pi+4&state=red', { sort: 'cpu', dir: 'asc', q: 'pi 4', state: 'red' }],
    ['?view=cards&sort=name&dir=desc&state=stale', { view: 'cards', sort: 'name', dir: 'desc', state: 'stale' }],
    ['?tag=room%3Akitchen&group=tag', { tag: 'room:kitchen', group: 'tag' }],
  ])('keeps the view in the query string %j', (search, partial) => {
    expect(parseViewState(search)).toEqual(view(partial));
    expect(formatViewState(view(partial))).toBe(search);
  });

  it('reads unknown values in a shared link as the defaults', () => {
    expect(parseViewState('?view=grid&sort=colour&dir=up&state=burning&q=x')).toEqual(view({ q: 'x' }));
  });

  it('filters by tag, matches tag words in the text, and groups by tag with a header row per tag', () => {
    const tagged = [node('a', { tags: ['ci', 'room:kitchen'] }), node('b', { tags: ['ci'] }), node('c'), node('d', { tags: ['site-b'] })];
    const names = (s: Partial<ViewState>) => selectNodes(tagged, view({ sort: 'name', ...s })).map((n) => n.name);
    expect(names({ tag: 'ci' })).toEqual(['a', 'b']);
    expect(names({ tag: 'room' })).toEqual([]); // a tag is matched whole
    expect(names({ q: 'kitchen' })).toEqual(['a']);
    expect(names({ q: 'site-b' })).toEqual(['d']);
    const rows = groupByTag(selectNodes(tagged, view({ sort: 'name' })));
    expect(rows.map((r) => (isGroup(r) ? `[${r.group}:${r.count}]` : r.name))).toEqual([
      '[ci:2]',
      'a',
      'b',
      '[room:kitchen:1]',
      'a',
      '[site-b:1]',
      'd',
      '[:1]',
      'c',
    ]);
    expect(groupByTag(tagged, 'ci').map((r) => (isGroup(r) ? `[${r.group}]` : r.name))).toEqual(['[ci]', 'a', 'b']);
    expect(fleetTags(tagged)).toEqual(['ci', 'room:kitchen', 'site-b']);
  });
});
