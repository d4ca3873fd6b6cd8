// Rules that fire below their threshold (`"when": "below"`): their validation as a table, the
// evaluator mirrored (`for`, hysteresis by `clear_above`, AMBER on a falling trend, none on a rising
// one), the messages, the shipped below-rules judged as the agent's values come, and the engine
// (its live feed, its SQLite store, a real broker) on an injected clock: flapping and silences alike.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../hub/alarms/engine.ts';
import { LiveFeed, sampleEvent } from '../../../hub/live-feed.ts';
import { toPoint } from '../../../hub/storage/sample-point.ts';
import type { LabelledValue } from '../../../protocol/index.ts';
import { sampleAt } from '../../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir } from '../../helpers/parts.ts';
import type { AlarmMessage } from '../../../hub/alarms/channels/channel.ts';
import { renderText, transitionLine } from '../../../hub/alarms/channels/channel.ts';
import { evaluate, type AlarmLevel, type AlarmState, type EvalRule } from '../../../hub/alarms/evaluator.ts';
import { compileRule, defaultRules, validateRule } from '../../../hub/alarms/rules.ts';
import { SeriesWindow } from '../../../hub/alarms/series-window.ts';
import type { AlarmTransition } from '../../../shared/alarm-types.ts';

afterEach(runCleanups);

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('below-rule validation', () => {
  const base = { id: 'r', metric: 'container_running', threshold: 0.5 };
  it.each<[string, Record<string, unknown>, { field: string; problem: RegExp }[]]>([
    ['below', { when: 'below' }, []],
    ['above, said', { when: 'above' }, []],
    ['below with clear_above', { when: 'below', clear_above: 0.8 }, []],
    ['a weak Wi-Fi signal', { metric: 'wifi_signal_dbm', threshold: -75, when: 'below', clear_above: -70 }, []],
    ['an unknown direction', { when: 'under' }, [{ field: 'when', problem: /must be "above" or "below", got "under"/ }]],
    ['a direction not a text', { when: true }, [{ field: 'when', problem: /must be "above" or "below", got true/ }]],
    [
      'clear_below on a below-rule',
      { when: 'below', clear_below: 0.2 },
      [{ field: 'clear_below', problem: /is for a rule that fires above its threshold; this one is "when": "below" and clears above clear_above/ }],
    ],
    [
      'clear_above on an above-rule',
      { clear_above: 0.8 },
      [{ field: 'clear_above', problem: /is for a rule "when": "below"; this one fires above its threshold and clears below clear_below/ }],
    ],
    ['clear_above at the threshold', { when: 'below', clear_above: 0.5 }, [{ field: 'clear_above', problem: /must be above the threshold \(0.5\)/ }]],
    ['clear_above not a number', { when: 'below', clear_above: 'high' }, [{ field: 'clear_above', problem: /must be a finite number, got "high"/ }]],
    ['below on offline', { metric: 'offline', threshold: undefined, when: 'below' }, [{ field: 'when', problem: /"below" is not for metric "offline"/ }]],
    ['below on a firmware bit', { metric: 'throttled', threshold: undefined, when: 'below' }, [{ field: 'when', problem: /not for metric "throttled"/ }]],
  ])('%s', (_, rule, expected) => {
    const problems = validateRule({ ...base, ...rule }, 'rules[0].');
    expect(problems.map((p) => p.field)).toEqual(expected.map((e) => `rules[0].${e.field}`));
    problems.forEach((p, i) => expect(p.problem).toMatch(expected[i]!.problem));
  });

  it('compiles the direction and the clear level on its side', () => {
    const below = compileRule({ id: 'b', metric: 'wifi_signal_dbm', threshold: -80, when: 'below' });
    expect([below.below, below.clearAt]).toEqual([true, -76]);
    expect(compileRule({ id: 'b', metric: 'mem_pct', threshold: 10, when: 'below', clear_above: 15 }).clearAt).toBe(15);
    const above = compileRule({ id: 'a', metric: 'mem_pct', threshold: 80 });
    expect([above.below, above.clearAt]).toEqual([false, 76]);
  });
});

/** Feeds `value(t)` every `stepMs`, evaluating after each sample; the states entered, without repeats. */
function path(
  rule: EvalRule,
  value: (t: number) => number,
  durationMs: number,
  stepMs = 10 * S,
): { path: AlarmLevel[]; last: AlarmState; firstAmber: number | null } {
  const w = new SeriesWindow(rule.trendWindowMs + rule.windowMs);
  let state: AlarmState | null = null;
  const states: AlarmLevel[] = [];
  let firstAmber: number | null = null;
  for (let t = 0; t <= durationMs; t += stepMs) {
    w.push(t, value(t));
    state = evaluate(w, rule, state, t);
    states.push(state.state);
    if (state.state === 'amber' && firstAmber === null) firstAmber = state.tt_ms;
  }
  return { path: states.filter((s, i) => i === 0 || states[i - 1] !== s), last: state!, firstAmber };
}

describe('evaluate below', () => {
  // Free memory in MB: RED below 100 for 2 minutes, clears above 120 after a minute there.
  const RULE: EvalRule = { threshold: 100, below: true, clearAt: 120, forMs: 2 * M, clearForMs: 1 * M, windowMs: 1 * M, horizonMs: 0, trendWindowMs: 2 * H };

  it.each<[string, (t: number) => number, number, AlarmLevel[]]>([
    ['steady above the threshold', () => 500, 30 * M, ['ok']],
    ['above an above-rule would fire, never below', () => 10_000, 30 * M, ['ok']],
    ['a dip shorter than `for`', (t) => (t >= 10 * M && t < 11 * M ? 20 : 500), 30 * M, ['ok']],
    ['sustained below', (t) => (t < 10 * M ? 500 : 50), 30 * M, ['ok', 'red']],
    ['below, then back above the clear level: RED clears', (t) => (t < 10 * M ? 500 : t < 20 * M ? 50 : 500), 40 * M, ['ok', 'red', 'ok']],
    // Between the threshold and clear_above RED holds: hysteresis mirrored.
    ['below, then back between threshold and clear_above', (t) => (t < 10 * M ? 500 : t < 20 * M ? 50 : 110), 40 * M, ['ok', 'red']],
  ])('%s', (_, value, duration, expected) => {
    expect(path(RULE, value, duration).path).toEqual(expected);
  });

  it('predicts a falling trend below the threshold (AMBER) with the time to get there, and not a rising one', () => {
    // Falls 100 MB an hour from 1000: 100 is reached at 9 h; watched with a 6 h horizon over 2 h.
    const rule: EvalRule = { threshold: 100, below: true, forMs: 2 * M, windowMs: 1 * M, horizonMs: 6 * H, trendWindowMs: 2 * H };
    const falling = path(rule, (t) => 1000 - (100 * t) / H, 5 * H, 30 * S);
    expect(falling.path).toEqual(['ok', 'amber']);
    // Entered with the crossing about 6 h ahead (within the horizon, at about 3 h of data).
    expect(falling.firstAmber! / H).toBeGreaterThan(5);
    expect(falling.firstAmber! / H).toBeLessThanOrEqual(6);
    expect(falling.last.slope_per_h).toBeCloseTo(-100, 3);
    expect(path(rule, (t) => 300 + (100 * t) / H, 5 * H, 30 * S).path).toEqual(['ok']);
  });
});

describe('below-rule messages', () => {
  const t: AlarmTransition = {
    ts_ms: 1_700_000_000_000,
    node: 'pi-4',
    rule_id: 'web-down',
    subject: 'container=web',
    metric: 'container_running',
    from: 'ok',
    to: 'red',
    value: 0,
    threshold: 1,
    tt_ms: null,
  };
  it('says the threshold is one to stay above', () => {
    expect(transitionLine(t, 1, 'below')).toBe('pi-4: container_running container=web ok → red at 0 (threshold below 1)');
    expect(transitionLine({ ...t, to: 'amber', value: 3, tt_ms: 30 * M }, 1, 'below')).toBe(
      'pi-4: container_running container=web ok → amber at 3, threshold below 1 predicted in 30 min',
    );
    const message: AlarmMessage = {
      v: 1,
      status: 'firing',
      level: 'red',
      repeat: false,
      title: 'x',
      rule: { id: 'web-down', metric: 'container_running', threshold: 1, when: 'below', description: null },
      firing: [t, { ...t, node: 'pi-5' }],
      resolved: [{ ...t, node: 'pi-6', from: 'red', to: 'ok', value: 1 }],
      url: null,
    };
    expect(renderText(message)).toBe(
      'RED 2 nodes: container_running below 1 — pi-4 container=web, pi-5 container=web\nresolved 1 node: container_running back above 1 — pi-6 container=web',
    );
  });
});

describe('the shipped below-rules', () => {
  const byId = Object.fromEntries(defaultRules().map((r) => [r.id, compileRule(r)]));

  it('fire for a container the agent reports 0 (exited, paused, restarting) for a minute, and clear when it runs again', () => {
    const rule = byId['container-stopped']!;
    expect([rule.metric, rule.below, rule.threshold, rule.horizonMs]).toEqual(['container_running', true, 0.5, 0]);
    // The agent's 10 s samples: running, stopped at 5 min, running again at 10 min.
    const run = path(rule, (t) => (t >= 5 * M && t < 10 * M ? 0 : 1), 15 * M);
    expect(run.path).toEqual(['ok', 'red', 'ok']);
    // A restart of 20 s is not an alarm.
    expect(path(rule, (t) => (t >= 5 * M && t < 5 * M + 20 * S ? 0 : 1), 15 * M).path).toEqual(['ok']);
  });

  it('fire at once for a drive whose S.M.A.R.T. health failed', () => {
    const rule = byId['smart-failed']!;
    expect([rule.metric, rule.below, rule.forMs]).toEqual(['smart_healthy', true, 0]);
    expect(path(rule, (t) => (t >= 5 * M ? 0 : 1), 10 * M).path).toEqual(['ok', 'red']);
  });
});

describe('below-rules in the engine', () => {
  it('marks a container that stops and starts every few seconds flapping, and silences one that stays stopped', async () => {
    const { url } = await startBroker();
    const dir = tempDir();
    const feed = new LiveFeed();
    const t0 = Date.now();
    let nowMs = t0;
    const engine = new AlarmEngine({
      brokerUrl: url,
      feed,
      log: quietLog,
      dbPath: join(dir, 'remonitor.db'),
      rulesFile: join(dir, 'alarm-rules.json'),
      now: () => nowMs,
      tickMs: 20,
      minStaleMs: 10 * S,
      seedRules: () => [
        { id: 'down', metric: 'container_running', when: 'below', threshold: 0.5, for: '0s', clear_for: '0s', window: '1s', horizon: '0', flap_changes: 4 },
      ],
      notifier: { pollMs: 3_600_000 },
    });
    await engine.start();
    cleanup(() => engine.stop());
    const running = (container: string, value: number): LabelledValue => ({ name: 'container_running', labels: { container }, value });
    // web restarts every 2 s (stopped again at 12 s); db stays stopped; cache runs.
    for (let s = 0; s <= 12; s++) {
      nowMs = t0 + s * S;
      const sample = sampleAt(s, nowMs, { series: [running('web', s % 4 < 2 ? 0 : 1), running('db', 0), running('cache', 1)] });
      feed.publish(sampleEvent('pi-1', sample, toPoint(sample)));
    }
    const byContainer = () => Object.fromEntries(engine.active().map((a) => [a.subject, a]));
    expect(Object.fromEntries(Object.entries(byContainer()).map(([k, a]) => [k, [a.state, a.flapping]]))).toEqual({
      'container=web': ['red', true],
      'container=db': ['red', false],
    });
    await engine.silence({ node: 'pi-1', rule_id: 'down', subject: 'container=db', for: '1h', reason: 'retired' });
    expect(byContainer()['container=db']!.silenced_until_ms).toBe(nowMs + 60 * M);
    expect(byContainer()['container=web']!.silenced_until_ms).toBeNull();
  });
});
