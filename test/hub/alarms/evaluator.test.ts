// The alarm evaluator as a table of generated series: each case runs the evaluator over time, one
// evaluation per sample as the engine does, and checks the states it went through.
import { describe, expect, it } from 'vitest';
import { evaluate, initialState, type AlarmLevel, type AlarmState, type EvalRule } from '../../../hub/alarms/evaluator.ts';
import { SeriesWindow } from '../../../hub/alarms/series-window.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** A deterministic pseudo-random generator (mulberry32), so noisy cases are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Approximately normal noise (sum of 4 uniforms), standard deviation `sd`. */
function gauss(r: () => number, sd: number): number {
  return (r() + r() + r() + r() - 2) * sd * Math.sqrt(3);
}

// The default memory rule: 80 %, for 5 min, mean over 1 min, trend over 2 h, horizon 6 h.
const RULE: EvalRule = { threshold: 80, forMs: 5 * M, windowMs: 1 * M, horizonMs: 6 * H, trendWindowMs: 2 * H };

interface Run {
  states: AlarmLevel[];
  /** Every state the evaluator entered, in order, without repeats. */
  path: AlarmLevel[];
  /** tt_ms at the first AMBER evaluation, and when that was. */
  firstAmber: { t: number; tt: number | null } | null;
  last: AlarmState;
}

/** Feeds `value(t)` every `stepMs` for `durationMs` (null = no sample), evaluating after each sample. */
function run(value: (t: number) => number | null, durationMs: number, stepMs = 10 * S, rule: EvalRule = RULE): Run {
  const w = new SeriesWindow(rule.trendWindowMs + rule.windowMs);
  let state: AlarmState | null = null;
  const states: AlarmLevel[] = [];
  let firstAmber: Run['firstAmber'] = null;
  for (let t = 0; t <= durationMs; t += stepMs) {
    const v = value(t);
    if (v !== null) w.push(t, v);
    state = evaluate(w, rule, state, t);
    states.push(state.state);
    if (state.state === 'amber' && !firstAmber) firstAmber = { t, tt: state.tt_ms };
  }
  const path = states.filter((s, i) => i === 0 || states[i - 1] !== s);
  return { states, path, firstAmber, last: state! };
}

describe('evaluate', () => {
  it.each<[string, (t: number) => number | null, number, AlarmLevel[]]>([
    ['steady under the threshold', () => 60, 2 * H, ['ok']],
    ['a spike over the threshold, shorter than the window', (t) => (t >= 30 * M && t < 30 * M + 20 * S ? 100 : 50), 2 * H, ['ok']],
    ['a spike of 3 minutes, shorter than `for`', (t) => (t >= 30 * M && t < 33 * M ? 95 : 50), 2 * H, ['ok']],
    ['sustained over the threshold', (t) => (t < 20 * M ? 50 : 90), 1 * H, ['ok', 'red']],
    ['over, then back under: RED clears', (t) => (t < 20 * M ? 50 : t < 40 * M ? 90 : 50), 1 * H, ['ok', 'red', 'ok']],
    ['hovering just under the threshold after RED: hysteresis holds RED', (t) => (t < 20 * M ? 50 : t < 40 * M ? 90 : 79.5), 1 * H, ['ok', 'red']],
    [
      'noisy but flat around 70 %',
      (() => {
        const r = rng(1);
        return () => 70 + gauss(r, 4);
      })(),
      6 * H,
      ['ok'],
    ],
    [
      'flat around 68 % with slow wander (autocorrelated noise)',
      (() => {
        const r = rng(3);
        let ar = 0;
        return () => 68 + (ar = 0.97 * ar + gauss(r, 0.6));
      })(),
      12 * H,
      ['ok'],
    ],
    ['a burst, then recovery', (t) => (t >= 60 * M && t < 64 * M ? 78 : 50), 3 * H, ['ok']],
    ['a step up that then stays flat under the threshold', (t) => (t < 60 * M ? 50 : 70), 3 * H, ['ok']],
    ['sawtooth under the threshold (a log that fills and rotates every 10 min)', (t) => 40 + ((t % (10 * M)) / (10 * M)) * 30, 3 * H, ['ok']],
    ['falling steadily', (t) => 75 - t / H, 3 * H, ['ok']],
  ])('%s → %j', (_name, series, duration, expected) => {
    expect(run(series, duration).path).toEqual(expected);
  });

  it('a steady climb goes AMBER with a time-to-threshold close to the truth, then RED', () => {
    // 40 % → 80 % in 4 hours, 10 %/h, with noise.
    const r = rng(7);
    const result = run((t) => 40 + (10 * t) / H + gauss(r, 0.5), 5 * H);
    expect(result.path).toEqual(['ok', 'amber', 'red']);
    const { t, tt } = result.firstAmber!;
    const truth = 4 * H - t;
    expect(tt).not.toBeNull();
    expect(Math.abs(tt! - truth)).toBeLessThan(0.1 * truth);
    // AMBER comes well before the crossing, RED after it.
    expect(t).toBeLessThan(2.5 * H);
  });

  it('a climb too slow to cross within the horizon stays OK', () => {
    // 1 %/h from 50 %: crosses in 30 h, the horizon is 6 h.
    expect(run((t) => 50 + t / H, 6 * H).path).toEqual(['ok']);
  });

  it('gaps: no data holds the state and restarts the timers; sparse data does not fit', () => {
    // Over the threshold, but with a 10-minute hole before `for` elapsed: RED needs `for` after the gap.
    const gap = run((t) => (t < 10 * M ? 50 : t < 13 * M ? 90 : t < 23 * M ? null : 90), 40 * M);
    const redAt = gap.states.indexOf('red') * 10 * S;
    expect(redAt).toBeGreaterThanOrEqual(23 * M + 5 * M);
    // A climb seen only as 4 points: too few to trust, never AMBER.
    const sparse = run((t) => (t % (10 * M) === 0 ? 40 + (20 * t) / H : null), 2 * H);
    expect(sparse.path).toEqual(['ok']);
    // Silence after RED: the state is held, the value is unknown.
    const silent = run((t) => (t < 30 * M ? 95 : null), 1 * H);
    expect(silent.last.state).toBe('red');
    expect(silent.last.value).toBeNull();
  });

  it('AMBER restored after a hub restart is held until there is enough data to judge, then judged', () => {
    const restored: AlarmState = { ...initialState(0), state: 'amber', since_ms: -3 * H };
    const w = new SeriesWindow(RULE.trendWindowMs);
    let state = restored;
    // Ten minutes of flat data: far too little for a 2 h trend window, so AMBER is kept…
    for (let t = 0; t <= 10 * M; t += 10 * S) {
      w.push(t, 60);
      state = evaluate(w, RULE, state, t);
    }
    expect(state.state).toBe('amber');
    // …until an hour of it shows no trend.
    for (let t = 10 * M + 10 * S; t <= 70 * M; t += 10 * S) {
      w.push(t, 60);
      state = evaluate(w, RULE, state, t);
    }
    expect(state.state).toBe('ok');
  });

  it('a rule without a horizon never predicts', () => {
    const r = run((t) => 40 + (10 * t) / H, 3 * H, 10 * S, { ...RULE, horizonMs: 0 });
    expect(r.path).toEqual(['ok']);
  });

  it('firmware bits: one on-sample in the window is not enough with threshold 0.5; a lasting bit is RED at once with for 0', () => {
    const bit: EvalRule = { threshold: 0.5, forMs: 0, windowMs: 1 * M, horizonMs: 0, trendWindowMs: 2 * M };
    expect(run((t) => (t === 10 * M ? 1 : 0), 30 * M, 10 * S, bit).path).toEqual(['ok']);
    expect(run((t) => (t >= 10 * M && t < 20 * M ? 1 : 0), 30 * M, 10 * S, bit).path).toEqual(['ok', 'red', 'ok']);
  });

  it('written over the previous state (as the engine keeps it), every step equals the new-object result', () => {
    // A slow climb (AMBER), over the threshold (RED), a gap with no data, back down (OK): every
    // branch of the evaluator writes its fields.
    const value = (t: number) => (t < 3.5 * H ? 50 + (10 * t) / H : t < 3.7 * H ? null : t < 4.5 * H ? 95 : 50);
    const w = new SeriesWindow(RULE.trendWindowMs + RULE.windowMs);
    let fresh: AlarmState | null = null;
    const kept = initialState(0);
    const levels = new Set<AlarmLevel>();
    for (let t = 0; t <= 6 * H; t += 10 * S) {
      const v = value(t);
      if (v !== null) w.push(t, v);
      fresh = evaluate(w, RULE, fresh, t);
      expect(evaluate(w, RULE, kept, t, undefined, kept)).toBe(kept);
      expect(kept).toEqual(fresh);
      levels.add(kept.state);
    }
    expect(levels).toEqual(new Set(['ok', 'amber', 'red']));
  });
});
