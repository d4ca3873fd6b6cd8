// The clock alarm: its rule (`clock_skew`, seconds either way) and its decision, as tables.
import { describe, expect, it } from 'vitest';
import { evaluateClockSkew, initialState, type AlarmState } from '../../../hub/alarms/evaluator.ts';
import { compileRule, defaultRules, validateRule } from '../../../hub/alarms/rules.ts';
import { CLOCK_TOLERANCE_MS } from '../../../protocol/index.ts';

describe('the clock_skew rule', () => {
  it.each<[string, unknown, string[]]>([
    ['needs no threshold', { id: 'clock', metric: 'clock_skew' }, []],
    ['takes one in seconds', { id: 'clock', metric: 'clock_skew', threshold: 30 }, []],
    ['refuses a threshold of 0 or less', { id: 'clock', metric: 'clock_skew', threshold: 0 }, ['threshold']],
  ])('%s', (_, input, fields) => {
    expect(validateRule(input).map((p) => p.field)).toEqual(fields);
  });

  it('defaults to the tolerance past which the hub corrects the time, at once, with no trend', () => {
    const rule = compileRule({ id: 'clock', metric: 'clock_skew' });
    expect([rule.threshold, rule.forMs, rule.horizonMs]).toEqual([CLOCK_TOLERANCE_MS / 1000, 0, 0]);
    expect(defaultRules().find((r) => r.metric === 'clock_skew')?.id).toBe('clock');
  });
});

describe('evaluateClockSkew', () => {
  // Each step: the skew of a live sample (s) → the state after it, with a threshold of 120 s.
  it.each<[string, number[], string[]]>([
    ['on time stays OK', [0.02, -0.5, 3], ['ok', 'ok', 'ok']],
    ['off by more, either way, is RED at once', [121, -3 * 86_400], ['red', 'red']],
    ['exactly the threshold is not off', [120, -120], ['ok', 'ok']],
    ['RED holds down to half the threshold, then clears', [200, 119, 61, 60, 119], ['red', 'red', 'red', 'ok', 'ok']],
    ['a clock set right clears it at once', [-1.7e9, 0.01], ['red', 'ok']],
  ])('%s', (_, skews, states) => {
    let state: AlarmState | null = null;
    const seen: string[] = [];
    skews.forEach((skew, i) => {
      state = evaluateClockSkew(state, skew, 120, 1000 * i);
      seen.push(state.state);
      expect(state.value).toBe(skew);
    });
    expect(seen).toEqual(states);
  });

  it('stamps the time a state was entered, and writes into the state it is given', () => {
    const state = initialState(0);
    expect(evaluateClockSkew(state, 500, 120, 10, state)).toBe(state);
    expect([state.state, state.since_ms, state.tt_ms]).toEqual(['red', 10, 0]);
    evaluateClockSkew(state, 400, 120, 20, state);
    expect(state.since_ms).toBe(10);
    evaluateClockSkew(state, 0, 120, 30, state);
    expect([state.state, state.since_ms, state.tt_ms]).toEqual(['ok', 30, null]);
  });
});
