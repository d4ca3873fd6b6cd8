// Rules on labelled metrics: their validation as a table, the label set as an alarm's subject and
// back, and the engine (its live feed, its SQLite store, a real broker for its retained topics) on an
// injected clock: one alarm per label set, the label matcher, the bound on label sets per node and
// rule (said once in the log), and a label set that stops arriving cleared after the stale time.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../hub/alarms/engine.ts';
import { compileRule, defaultRules, labelsMatch, MAX_LABEL_SETS, validateRule } from '../../../hub/alarms/rules.ts';
import { LiveFeed, sampleEvent } from '../../../hub/live-feed.ts';
import { toPoint } from '../../../hub/storage/sample-point.ts';
import type { LabelledValue, Sample } from '../../../protocol/index.ts';
import { labelsSubject, subjectLabels, type AlarmRuleInput } from '../../../shared/alarm-types.ts';
import { sampleAt } from '../../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir } from '../../helpers/parts.ts';
import { recordingLog, WARN } from '../../helpers/recording-log.ts';

afterEach(runCleanups);

const S = 1000;

describe('labelled rule validation', () => {
  const base = { id: 'r', threshold: 90 };
  it.each<[string, Record<string, unknown>, { field: string; problem: RegExp }[]]>([
    ['a registry labelled metric', { metric: 'container_mem_pct' }, []],
    ['a matcher on its label', { metric: 'container_mem_pct', labels: { container: 'web-*' } }, []],
    ['on its other label', { metric: 'container_running', labels: { image: 'nginx:*' } }, []],
    ['a unit name with @ and .', { metric: 'service_failed', labels: { unit: 'getty@tty?.service' } }, []],
    ['a mount point', { metric: 'fs_readonly', labels: { mountpoint: '/var/*' } }, []],
    ['a node’s own metric, any label', { metric: 'custom:queue_depth', labels: { queue: 'mail', shard: '?' } }, []],
    ['a percentage past 100 (cores)', { metric: 'container_cpu_pct', threshold: 250 }, []],
    [
      'an unknown metric',
      { metric: 'container_memory' },
      [{ field: 'metric', problem: /unknown metric "container_memory"; known: .*container_mem_pct.*custom:NAME/ }],
    ],
    ['a bad custom name', { metric: 'custom:a-b' }, [{ field: 'metric', problem: /letters, digits and _/ }]],
    [
      'a label it does not carry',
      { metric: 'service_failed', labels: { container: 'x' } },
      [{ field: 'labels.container', problem: /carries the label unit, not "container"/ }],
    ],
    ['no labels at all', { metric: 'clock_synchronized', labels: { clock: 'x' } }, [{ field: 'labels.clock', problem: /carries no labels/ }]],
    [
      'an empty glob',
      { metric: 'container_mem_pct', labels: { container: '' } },
      [{ field: 'labels.container', problem: /must be a glob of 1–256 printable/ }],
    ],
    [
      'a glob with a control character',
      { metric: 'container_mem_pct', labels: { container: 'a\tb' } },
      [{ field: 'labels.container', problem: /must be a glob/ }],
    ],
    ['a glob too long', { metric: 'container_mem_pct', labels: { container: 'a'.repeat(257) } }, [{ field: 'labels.container', problem: /must be a glob/ }]],
    ['a glob not a text', { metric: 'container_mem_pct', labels: { container: 3 } }, [{ field: 'labels.container', problem: /got 3/ }]],
    ['labels not an object', { metric: 'container_mem_pct', labels: ['web'] }, [{ field: 'labels', problem: /must be an object of label: glob/ }]],
    ['labels on a scalar metric', { metric: 'mem_pct', labels: { container: 'x' } }, [{ field: 'labels', problem: /is only for a labelled metric/ }]],
    ['a bad label name on a custom metric', { metric: 'custom:q', labels: { '9x': 'a' } }, [{ field: 'labels.9x', problem: /a label name is/ }]],
    ['no threshold', { metric: 'service_failed', threshold: undefined }, [{ field: 'threshold', problem: /is required/ }]],
  ])('%s', (_, rule, expected) => {
    const problems = validateRule({ ...base, ...rule }, 'rules[0].');
    expect(problems.map((p) => p.field)).toEqual(expected.map((e) => `rules[0].${e.field}`));
    problems.forEach((p, i) => expect(p.problem).toMatch(expected[i]!.problem));
  });

  it('matches each label by its glob, a missing label as empty', () => {
    const rule = compileRule({ id: 'r', metric: 'container_mem_pct', threshold: 90, labels: { container: 'web-?', image: '*' } });
    expect(rule.series).toBe('container_mem_pct');
    expect(labelsMatch(rule, { container: 'web-1', image: 'nginx' })).toBe(true);
    expect(labelsMatch(rule, { container: 'web-1' })).toBe(true);
    expect(labelsMatch(rule, { container: 'web-12', image: 'nginx' })).toBe(false);
    expect(labelsMatch(rule, { container: 'web.1' })).toBe(false);
    const custom = compileRule({ id: 'c', metric: 'custom:queue_depth', threshold: 1 });
    expect(custom.series).toBe('queue_depth');
    expect(labelsMatch(custom, { anything: 'at all' })).toBe(true);
    expect(compileRule({ id: 'm', metric: 'mem_pct', threshold: 1 }).series).toBeNull();
  });

  it('ships rules for containers near their memory limit, failed units, read-only filesystems and worn eMMC', () => {
    const byId = Object.fromEntries(defaultRules().map((r) => [r.id, r]));
    expect(byId['container-memory']).toMatchObject({ metric: 'container_mem_pct', threshold: 90 });
    expect(byId['unit-failed']).toMatchObject({ metric: 'service_failed', threshold: 0.5, for: '0s' });
    expect(byId['readonly-fs']).toMatchObject({ metric: 'fs_readonly', threshold: 0.5, for: '0s' });
    expect(byId['storage-wear']).toMatchObject({ metric: 'storage_wear_pct', threshold: 90 });
  });
});

describe('a label set as a subject', () => {
  it.each<Record<string, string>>([
    {},
    { container: 'web-1', image: 'nginx:1.27' },
    { unit: 'getty@tty1.service' },
    { mountpoint: '/media/my disk', odd: 'a="b"\\c', empty: '' },
  ])('%j', (labels) => {
    const subject = labelsSubject(labels);
    expect(subjectLabels(subject)).toEqual(labels);
    // The same set in another order is the same subject.
    expect(labelsSubject(Object.fromEntries(Object.entries(labels).reverse()))).toBe(subject);
  });
  it('reads the names in order, values bare where they can be', () => {
    expect(labelsSubject({ image: 'nginx', container: 'web' })).toBe('container=web image=nginx');
    expect(labelsSubject({ mountpoint: '/my disk' })).toBe('mountpoint="/my disk"');
    expect(subjectLabels('/')).toBeNull();
  });
});

/** An engine on an injected clock; `feed(s, series)` publishes a live sample of `node` at second s. */
async function engineWith(rules: AlarmRuleInput[], log = quietLog) {
  const { url } = await startBroker();
  const dir = tempDir();
  const feed = new LiveFeed();
  const t0 = Date.now();
  let nowMs = t0;
  const engine = new AlarmEngine({
    brokerUrl: url,
    feed,
    log,
    dbPath: join(dir, 'remonitor.db'),
    rulesFile: join(dir, 'alarm-rules.json'),
    now: () => nowMs,
    tickMs: 20,
    minStaleMs: 10 * S,
    seedRules: () => rules,
    notifier: { pollMs: 3_600_000 },
  });
  await engine.start();
  cleanup(() => engine.stop());
  return {
    engine,
    feed(node: string, s: number, series: LabelledValue[]) {
      this.feedSample(node, s, { series });
    },
    feedSample(node: string, s: number, overrides: Partial<Sample>) {
      nowMs = t0 + s * S;
      const sample = sampleAt(s, nowMs, overrides);
      feed.publish(sampleEvent(node, sample, toPoint(sample)));
    },
    setClock(s: number) {
      nowMs = t0 + s * S;
    },
    /** Lets the engine's tick run at the current clock. */
    tick: () => new Promise((resolve) => setTimeout(resolve, 100)),
    active: (node: string) =>
      engine
        .active()
        .filter((a) => a.node === node)
        .map((a) => `${a.rule_id} ${a.subject} ${a.state}`),
  };
}

const mem = (container: string, value: number): LabelledValue => ({ name: 'container_mem_pct', labels: { container }, value });

describe('labelled rules in the engine', () => {
  it('judges each label set on its own with its own `for`, only those the matcher takes', async () => {
    const e = await engineWith([
      { id: 'mem', metric: 'container_mem_pct', threshold: 90, for: '30s', window: '10s', horizon: '0' },
      { id: 'web', metric: 'container_mem_pct', threshold: 90, for: '0s', window: '10s', horizon: '0', labels: { container: 'web*' } },
    ]);
    // web is over from 0 s, cache from 20 s; db never.
    for (let s = 0; s <= 60; s += 2) e.feed('pi-1', s, [mem('web', 97), mem('cache', s >= 20 ? 95 : 50), mem('db', 40)]);
    expect(e.active('pi-1').sort()).toEqual(['mem container=cache red', 'mem container=web red', 'web container=web red']);
    const history = (await e.engine.history(0)).reverse();
    // mem's `for` ran for each container from its own crossing.
    const at = (rule: string, subject: string) => history.find((t) => t.rule_id === rule && t.subject === subject)!.ts_ms - history[0]!.ts_ms;
    expect(at('web', 'container=web')).toBe(0);
    expect(at('mem', 'container=web')).toBe(30 * S);
    // cache's 10 s mean passes 90 at 28 s (the first window of 95s only).
    expect(at('mem', 'container=cache')).toBe(58 * S);
    // Silenced and acknowledged one label set at a time.
    await e.engine.silence({ node: 'pi-1', rule_id: 'mem', subject: 'container=cache', for: '1h', reason: 'resizing' });
    expect(await e.engine.ack('pi-1', 'mem', 'container=web', 'ops')).toBe(true);
    const mine = e.engine.active().filter((a) => a.rule_id === 'mem');
    expect(mine.map((a) => [a.subject, a.silenced_until_ms !== null, a.acked]).sort()).toEqual([
      ['container=cache', true, false],
      ['container=web', false, true],
    ]);
  });

  it('marks one label set flapping while the others go on as they were', async () => {
    const e = await engineWith([
      { id: 'mem', metric: 'container_mem_pct', threshold: 90, for: '0s', clear_for: '0s', window: '1s', horizon: '0', flap_changes: 4 },
    ]);
    // web crosses the threshold every 2 s (RED again at 12 s); db stays over.
    for (let s = 0; s <= 12; s++) e.feed('pi-1', s, [mem('web', s % 4 < 2 ? 97 : 50), mem('db', 97)]);
    const flapping = Object.fromEntries(e.engine.active().map((a) => [a.subject, a.flapping]));
    expect(flapping).toEqual({ 'container=web': true, 'container=db': false });
  });

  it('reads per-core and per-mount values from the sample’s lists, and a node’s own metric from its series', async () => {
    const e = await engineWith([
      { id: 'core', metric: 'cpu_core_pct', threshold: 90, for: '0s', window: '10s', horizon: '0' },
      { id: 'mount', metric: 'fs_used_pct', threshold: 80, for: '0s', window: '10s', horizon: '0', labels: { mountpoint: '/data*' } },
      { id: 'queue', metric: 'custom:queue_depth', threshold: 100, for: '0s', window: '10s', horizon: '0' },
    ]);
    const fs = (mount: string, used_pct: number) => ({ mount, size_bytes: 1e9, used_bytes: used_pct * 1e7, used_pct });
    e.engine.stats.evaluations = 0;
    e.feedSample('pi-1', 0, {
      cpu_core_pct: [10, 95, 20, 30],
      filesystems: [fs('/', 95), fs('/data', 85), fs('/database', 50)],
      series: [
        { name: 'queue_depth', labels: { queue: 'mail' }, value: 500 },
        { name: 'queue_depth', labels: { queue: 'sms' }, value: 3 },
        { name: 'other', labels: { queue: 'mail' }, value: 900 },
      ],
    });
    expect(e.active('pi-1').sort()).toEqual(['core cpu=1 red', 'mount mountpoint=/data red', 'queue queue=mail red']);
    // 4 cores, 2 of 3 mounts (the matcher), 2 queue label sets.
    expect(e.engine.stats.evaluations).toBe(8);
  });

  it('clears and forgets a label set that stops arriving while the node sends, and holds it while the node is silent', async () => {
    const e = await engineWith([{ id: 'mem', metric: 'container_mem_pct', threshold: 90, for: '0s', window: '10s', horizon: '0' }]);
    for (let s = 0; s <= 10; s += 1) e.feed('pi-1', s, [mem('web', 97), mem('db', 95)]);
    expect(e.active('pi-1').sort()).toEqual(['mem container=db red', 'mem container=web red']);
    // db is removed: 10 s of the node's samples (the stale time: max(10 s, 5 intervals)) keep it, then it clears.
    for (let s = 11; s <= 20; s += 1) e.feed('pi-1', s, [mem('web', 97)]);
    await e.tick();
    expect(e.active('pi-1').sort()).toEqual(['mem container=db red', 'mem container=web red']);
    e.feed('pi-1', 21.5, [mem('web', 97)]);
    await e.tick();
    expect(e.active('pi-1')).toEqual(['mem container=web red']);
    const cleared = (await e.engine.history(0)).find((t) => t.subject === 'container=db' && t.to === 'ok');
    expect(cleared).toMatchObject({ from: 'red', value: null, labels: { container: 'db' } });
    // The whole node goes silent: its label sets stay as they were (its offline rule speaks for it)…
    e.setClock(120);
    await e.tick();
    expect(e.active('pi-1')).toEqual(['mem container=web red']);
    // …until it sends again without them.
    e.feed('pi-1', 121, []);
    await e.tick();
    expect(e.active('pi-1')).toEqual([]);
  });

  it(`judges at most ${MAX_LABEL_SETS} label sets a node and rule, and says so once`, async () => {
    const { log, lines } = recordingLog();
    const e = await engineWith([{ id: 'mem', metric: 'container_mem_pct', threshold: 90, for: '0s', window: '10s', horizon: '0' }], log);
    const many = Array.from({ length: MAX_LABEL_SETS + 50 }, (_, i) => mem(`c${i}`, 99));
    for (let s = 0; s < 5; s++) e.feed('pi-1', s, many);
    e.feed('pi-2', 0, many.slice(0, 10));
    expect(e.active('pi-1')).toHaveLength(MAX_LABEL_SETS);
    expect(e.active('pi-2')).toHaveLength(10);
    const warned = lines.filter((l) => l.level === WARN && l.msg.includes('more label sets'));
    expect(warned).toEqual([expect.objectContaining({ node: 'pi-1', rule: 'mem', limit: MAX_LABEL_SETS })]);
  });
});
