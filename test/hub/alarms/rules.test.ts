// Rule validation as a table: every problem of a rule is reported at once, with its field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../../hub/alarms/rule-file.ts';
import { compileRule, defaultRules, globToRegExp, ruleAppliesTo, validateRule, validateRules } from '../../../hub/alarms/rules.ts';

const fields = (input: unknown) => validateRule(input).map((p) => p.field);

describe('validateRule', () => {
  it.each<[string, unknown, string[]]>([
    ['a minimal valid rule', { id: 'cpu', metric: 'cpu_pct', threshold: 90 }, []],
    [
      'every option',
      {
        id: 'disk-boot',
        metric: 'fs_pct:/boot',
        threshold: 70,
        for: '10m',
        window: '2m',
        horizon: '48h',
        trend_window: '2h',
        nodes: ['pi-1'],
        node_pattern: 'pi-*',
        enabled: true,
        notify: { webhook: 'https://hooks.example/x', ntfy: 'https://ntfy.sh/t', min_interval: '15m' },
        description: 'boot partition',
      },
      [],
    ],
    ['per-filesystem, process RSS and firmware metrics', { id: 'p', metric: 'proc_rss_bytes:influxd', threshold: 1e9 }, []],
    ['offline needs no threshold', { id: 'o', metric: 'offline' }, []],
    ['firmware bits need no threshold', { id: 'u', metric: 'undervoltage' }, []],
    ['not an object', [1], ['']],
    ['bad id', { id: 'has space', metric: 'cpu_pct', threshold: 1 }, ['id']],
    ['unknown metric', { id: 'a', metric: 'cpu_pcnt', threshold: 1 }, ['metric']],
    ['missing threshold', { id: 'a', metric: 'mem_pct' }, ['threshold']],
    ['percentage over 100', { id: 'a', metric: 'mem_pct', threshold: 120 }, ['threshold']],
    ['threshold of the wrong type', { id: 'a', metric: 'temp_c', threshold: '80' }, ['threshold']],
    ['bad durations', { id: 'a', metric: 'temp_c', threshold: 80, for: 'soon', horizon: '-1h', window: '1 minute' }, ['for', 'window', 'horizon']],
    ['trend window shorter than twice the window', { id: 'a', metric: 'temp_c', threshold: 80, window: '10m', trend_window: '15m' }, ['trend_window']],
    ['bad node list and pattern', { id: 'a', metric: 'cpu_pct', threshold: 80, nodes: ['ok', 'not ok'], node_pattern: 'pi/*' }, ['nodes[1]', 'node_pattern']],
    [
      'bad notify',
      { id: 'a', metric: 'cpu_pct', threshold: 80, notify: { webhook: 'ftp://x', ntfy: 'nope', min_interval: 'often', email: 'a@b' } },
      ['notify.webhook', 'notify.ntfy', 'notify.min_interval', 'notify.email'],
    ],
    ['unknown field and everything else at once', { id: '', metric: '', treshold: 80 }, ['id', 'metric', 'treshold']],
    ['each unknown field, not only the first', { id: 'a', metric: 'offline', severity: 'high', team: 'ops' }, ['severity', 'team']],
    ['id and metric missing', { threshold: 80 }, ['id', 'metric']],
    ['notify a list, not an object', { id: 'a', metric: 'offline', notify: [] }, ['notify']],
    ['a clear level checked once the threshold is valid', { id: 'a', metric: 'mem_pct', threshold: 80, clear_below: 90, for: 'soon' }, ['for', 'clear_below']],
  ])('%s', (_name, input, expected) => {
    expect(fields(input)).toEqual(expected);
  });

  it('says what is wrong with the value it got', () => {
    expect(validateRule({ threshold: 80, notify: [], nodes: 'pi-1' })).toEqual([
      { field: 'id', problem: 'is required' },
      { field: 'metric', problem: 'is required' },
      { field: 'nodes', problem: 'must be a list of node names, got "pi-1"' },
      { field: 'notify', problem: 'must be an object, got []' },
    ]);
    expect(validateRules({ rules: [] })).toEqual([{ field: 'rules', problem: 'must be a list of rules, got {"rules":[]}' }]);
  });

  it('reports a duplicate id in a list', () => {
    expect(
      validateRules([
        { id: 'a', metric: 'offline' },
        { id: 'a', metric: 'offline' },
      ]),
    ).toEqual([{ field: 'rules[1].id', problem: 'duplicate id "a"' }]);
  });

  it('ships valid defaults: 80 % on utilisation, every disk, offline and the Pi firmware bits', () => {
    expect(validateRules(defaultRules())).toEqual([]);
    const byMetric = Object.fromEntries(defaultRules().map((r) => [r.metric, r]));
    for (const m of ['cpu_pct', 'mem_pct', 'swap_pct', 'fs_pct']) expect(byMetric[m]?.threshold).toBe(80);
    for (const m of ['temp_c', 'offline', 'undervoltage', 'throttled']) expect(byMetric[m]).toBeDefined();
  });

  it('compiles durations and scope', () => {
    const r = compileRule({ id: 'x', metric: 'mem_pct', threshold: 80, for: '2m', node_pattern: 'pi-*', nodes: ['pi-1', 'nas'] });
    expect([r.forMs, r.windowMs, r.horizonMs, r.trendWindowMs]).toEqual([120_000, 60_000, 6 * 3_600_000, 7_200_000]);
    expect(ruleAppliesTo(r, 'pi-1')).toBe(true);
    expect(ruleAppliesTo(r, 'nas')).toBe(false);
    expect(ruleAppliesTo(r, 'pi-2')).toBe(false);
    expect(globToRegExp('ci-??.x*').test('ci-07.xyz')).toBe(true);
    expect(() => compileRule({ id: 'x', metric: 'nope' })).toThrow(/metric: unknown metric "nope"/);
  });
});

describe('rules file', () => {
  it('is seeded with the defaults, and a broken one is refused at start with every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'remonitor-rules-'));
    try {
      const path = join(dir, 'alarm-rules.json');
      expect(loadRules(path, defaultRules).map((r) => r.id)).toContain('disk');
      expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1);
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          rules: [
            { id: 'a', metric: 'mem_pct' },
            { id: 'b', metric: 'x', threshold: 1 },
          ],
        }),
      );
      expect(() => loadRules(path, defaultRules)).toThrow(/rules\[0\]\.threshold: is required.*rules\[1\]\.metric: unknown metric "x"/);
      writeFileSync(path, '{ not json');
      expect(() => loadRules(path, defaultRules)).toThrow(/not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
