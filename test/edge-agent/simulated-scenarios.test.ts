// The simulator's scenarios as samples: each crosses the shipped alarm rules' thresholds from the
// start (so the rules' `for` alone decides when the alarm shows), leads up to it in the history
// before the start, and a node without a scenario is untouched by them.
import { describe, expect, it } from 'vitest';
import { SimulatedNode } from '../../edge-agent/simulated-node.ts';
import { parseScenarios, SCENARIO_NAMES, throttledBits } from '../../edge-agent/simulated-scenarios.ts';
import { TREND_POINTS } from '../../hub/alarms/engine.ts';
import { evaluate, type AlarmState } from '../../hub/alarms/evaluator.ts';
import { compileRule, defaultRules } from '../../hub/alarms/rules.ts';
import { AlarmWindow } from '../../hub/alarms/series-window.ts';
import { decodeSample, encodeSample } from '../../protocol/index.ts';

const START = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;
const node = (scenario?: (typeof SCENARIO_NAMES)[number]) => new SimulatedNode('n', 7, START, { scenario });
/** The samples of one node every `stepMs` over [from, to), relative to the start. */
function samples(n: SimulatedNode, fromMs: number, toMs: number, stepMs = 1000) {
  const out = [];
  for (let t = fromMs; t < toMs; t += stepMs) out.push(decodeSample(encodeSample(n.next(START + t)))); // through the wire format
  return out;
}
const rootPct = (s: ReturnType<typeof samples>[number]) => s.filesystems!.find((f) => f.mount === '/')!.used_pct;

describe('parseScenarios', () => {
  it.each<[string, unknown]>([
    ['disk-fill,leak', ['disk-fill', 'leak']],
    [' hot , dies ', ['hot', 'dies']],
    ['none', []],
    [SCENARIO_NAMES.join(','), SCENARIO_NAMES],
    ['leak,flood', { problem: 'unknown scenario "flood"; known: disk-fill, leak, hot, dies, clock, warming, or none' }],
    ['leak,leak', { problem: 'scenario "leak" is listed twice' }],
  ])('%s', (raw, expected) => expect(parseScenarios(raw)).toEqual(expected));
});

describe('scenarios', () => {
  it('disk-fill: the root filesystem is over 80 % from the start and fills at 3 %/min to full; below it a week before', () => {
    const live = samples(node('disk-fill'), 0, 10 * MIN, 10_000);
    expect(Math.min(...live.map(rootPct))).toBeGreaterThan(80);
    expect(rootPct(live[6]!)).toBeCloseTo(83.5, 0);
    expect(rootPct(live.at(-1)!)).toBe(100);
    const history = samples(node('disk-fill'), -7 * 1440 * MIN, 0, 1440 * MIN);
    expect(rootPct(history[0]!)).toBeCloseTo(73.5, 0);
    expect(history.every((s) => rootPct(s) < 80)).toBe(true);
  });

  it('leak: memory over 80 % from the start and rising, the "node" process holding it; an hour of leaking before', () => {
    const live = samples(node('leak'), 0, 5 * MIN, 5000);
    expect(Math.min(...live.map((s) => s.mem_pct!))).toBeGreaterThan(80);
    expect(live.at(-1)!.mem_pct!).toBeGreaterThan(live[0]!.mem_pct! + 2);
    const leaker = live.filter((s) => s.top_mem).map((s) => s.top_mem![0]!);
    expect(leaker.every((p) => p.name === 'node' && p.rss_bytes > 0.45 * 2 * 2 ** 30)).toBe(true);
    expect(samples(node('leak'), -2 * 60 * MIN, -60 * MIN, MIN).every((s) => s.mem_pct! < 40)).toBe(true);
  });

  it('hot: CPU near 100 % and 84–86 °C from the start with the firmware capping the clock; warming for 10 minutes before', () => {
    const live = samples(node('hot'), 0, 3 * MIN);
    expect(live.every((s) => s.temp_c! >= 84 && s.temp_c! <= 86 && s.cpu_pct! >= 92)).toBe(true);
    expect(live.every((s) => (s.throttled! & 0b1010) === 0b1010 && (s.throttled! & (0b1010 << 16)) !== 0)).toBe(true);
    const warming = samples(node('hot'), -10 * MIN, 0, MIN).map((s) => s.temp_c!);
    expect(warming[0]).toBeLessThan(62);
    expect(warming).toEqual([...warming].sort((a, b) => a - b));
    expect(throttledBits(70, 0)).toBe(0);
    expect(throttledBits(86, 0)).toBe(0b1110 | (0b1110 << 16));
    expect(throttledBits(70, throttledBits(86, 0))).toBe(0b1110 << 16); // "has occurred" stays
  });

  it('dies: online for 30 s, then never again', () => {
    const n = node('dies');
    expect([0, 10_000, 29_999].map((t) => n.online(START + t))).toEqual([true, true, true]);
    expect([30_000, 60_000, 3_600_000].map((t) => n.online(START + t))).toEqual([false, false, false]);
  });

  it('clock: ts_ms is 10 minutes behind', () => {
    expect(node('clock').next(START).ts_ms).toBe(START - 10 * MIN);
  });

  it('startAt moves the scenario: the live part takes over where the history led', () => {
    const n = node('disk-fill');
    const before = rootPct(decodeSample(encodeSample(n.next(START - 1000))));
    n.startAt(START + 5 * MIN);
    expect(rootPct(decodeSample(encodeSample(n.next(START + 5 * MIN))))).toBeCloseTo(before, 1);
  });

  it('warming: the default temperature rule, judged as the engine does on 1 Hz samples, goes AMBER from the trend after about 7 minutes and RED after about 28', () => {
    const rule = compileRule(defaultRules().find((r) => r.id === 'temperature')!);
    const window = new AlarmWindow(rule.windowMs, rule.trendWindowMs, TREND_POINTS);
    const n = node('warming');
    let state: AlarmState | null = null;
    const firstAt: Partial<Record<AlarmState['state'], number>> = {};
    for (let t = 0; t <= 35 * MIN; t += 1000) {
      const sample = n.next(START + t);
      window.push(START + t, sample.temp_c!);
      state = evaluate(window, rule, state, START + t);
      firstAt[state.state] ??= t;
      if (sample.temp_c! >= 80) expect(sample.throttled! & 0b1010).toBe(0b1010);
    }
    // The trend needs half its 10-minute window of data, then holds for the rule's 2 minutes.
    expect(firstAt.amber).toBeGreaterThanOrEqual(7 * MIN);
    expect(firstAt.amber).toBeLessThan(8 * MIN);
    expect(firstAt.red).toBeGreaterThan(25 * MIN);
    expect(firstAt.red).toBeLessThan(30 * MIN);
  });

  it('leaves a node without a scenario as it was: no throttled bits, its own clock', () => {
    const plain = samples(node(), 0, MIN);
    expect(plain.every((s) => s.throttled === undefined)).toBe(true);
    expect(plain[0]!.ts_ms).toBe(START);
  });
});
