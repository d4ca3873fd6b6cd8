// The alarm decision, a pure function of (series window, rule, previous state, now): no clock, no
// I/O, so the whole behaviour is a table of cases (test/hub/alarms/evaluator.test.ts).
//
// RED   the mean over the rule's short `window` is past the threshold (above it; below it for a
//       rule `"when": "below"`), and has been for `for`.
//       Hysteresis: it clears only when the mean has stayed on the safe side of `clear_below` (of
//       `clear_above` for a below-rule) for `clear_for` (defaults: threshold ∓ 5 % of |threshold|,
//       and min(`for`, 1 min); defaultClearAt and defaultClearForMs), so a value hovering at the
//       threshold does not raise and clear it with every sample.
//       A below-rule is the mirror image of an above-rule throughout: past means below, a trend
//       heading there is a falling one (AMBER below, as sound as a rising one is above).
// AMBER not RED, but a least-squares line through the last `trend_window` of data crosses the
//       threshold within `horizon`. Guards against noise (the parameters below, TREND_DEFAULTS):
//       - at least `minPoints` points spanning at least `minSpanFraction` of the trend window;
//       - a slope heading for the threshold, and a goodness of fit r² ≥ `r2Enter` (a noisy flat series has r² ≈ 0);
//       - the slope of each half of the window agrees (≥ `halfSlopeRatio` of the whole): a step
//         or a burst makes a sloped line through data that is flat on both sides of it;
//       - the condition has held for the rule's `for` before AMBER is entered;
//       - no further ahead than `maxExtrapolation` × the trend window, whatever the horizon:
//         slow wander (autocorrelated noise) looks like a trend over a short window, and a
//         30-minute line extrapolated 6 hours flags it (bench/alarms-accuracy.ts measured 40 %
//         false AMBER that way, 0 % with a 2 h window for a 6 h horizon);
//       - hysteresis: once AMBER it stays while r² ≥ `r2Exit` and the crossing is within
//         `exitHorizonFactor` × horizon; when the fit degrades below that (and the mean is not over
//         the threshold) for `clear_for`, AMBER clears. Too little data to judge (a restarted hub,
//         a gap) holds it: only the data may clear it.
//       The predicted time to threshold is (threshold − fitted value now) / slope.
// OK    otherwise. With no data in the short window the state is held (the node's `offline`
//       rule speaks for silence), and the timers of pending changes restart; so do they after a
//       gap between two points longer than max(window, `staleMs`), since `for` cannot be said to
//       have held through a gap (a process out of the top lists, a filesystem unmounted).
// Flapping (too many changes in a while) is the engine's, flapping.ts: it only mutes notifications.
import type { AlarmRule } from './rules.ts';
import type { WindowView } from './series-window.ts';

export type AlarmLevel = 'ok' | 'amber' | 'red' | 'offline';

export interface AlarmState {
  state: AlarmLevel;
  /** When the current state was entered, ms. */
  since_ms: number;
  /** Mean over the short window at the last evaluation; null without recent data. */
  value: number | null;
  /** Predicted ms until the threshold is crossed: 0 when over, null when no trend predicts it. */
  tt_ms: number | null;
  /** Fitted slope, units per hour, and its r², when a fit was made. */
  slope_per_h: number | null;
  r2: number | null;
  /** Time of the newest data seen, ms; a longer gap than the stale limit restarts the timers below. */
  lastDataMs: number | null;
  /** Since when each condition has held without a break (ms), for `for` and hysteresis. */
  overSince: number | null;
  underSince: number | null;
  predictSince: number | null;
  calmSince: number | null;
}

export interface TrendParams {
  minPoints: number;
  minSpanFraction: number;
  r2Enter: number;
  r2Exit: number;
  exitHorizonFactor: number;
  halfSlopeRatio: number;
  /** A gap between points longer than max(window, this) restarts the timers, ms. */
  staleMs: number;
  /** A line is trusted at most this many trend windows ahead, whatever the horizon. */
  maxExtrapolation: number;
}

export const TREND_DEFAULTS: TrendParams = {
  minPoints: 10,
  minSpanFraction: 0.5,
  r2Enter: 0.6,
  r2Exit: 0.4,
  exitHorizonFactor: 1.5,
  halfSlopeRatio: 0.33,
  // As Prometheus takes a series for stale after 5 minutes without a sample.
  staleMs: 5 * 60_000,
  maxExtrapolation: 4,
};

/** The rule as the evaluator reads it; `below`, `clearAt` and `clearForMs` default as compileRule fills them in. */
export type EvalRule = Pick<AlarmRule, 'threshold' | 'forMs' | 'windowMs' | 'horizonMs' | 'trendWindowMs'> &
  Partial<Pick<AlarmRule, 'below' | 'clearAt' | 'clearForMs'>>;

/** RED clears past threshold ∓ this fraction of |threshold| unless the rule says `clear_below` (`clear_above`). */
export const CLEAR_MARGIN_FRACTION = 0.05;
/** `clear_for` defaults to `for`, but never more than this: leaving a state needs less proof than entering it. */
export const MAX_DEFAULT_CLEAR_FOR_MS = 60_000;

/** Where RED clears by default: below the threshold by the margin, or above it for a below-rule. */
export function defaultClearAt(threshold: number, below = false): number {
  return threshold + (below ? 1 : -1) * Math.abs(threshold) * CLEAR_MARGIN_FRACTION;
}

export function defaultClearForMs(forMs: number): number {
  return Math.min(forMs, MAX_DEFAULT_CLEAR_FOR_MS);
}

export function initialState(now: number): AlarmState {
  return {
    state: 'ok',
    since_ms: now,
    value: null,
    tt_ms: null,
    slope_per_h: null,
    r2: null,
    lastDataMs: null,
    overSince: null,
    underSince: null,
    predictSince: null,
    calmSince: null,
  };
}

interface Prediction {
  predicting: boolean;
  /** Too few points or too short a span to judge a trend (after a restart, after a gap). */
  insufficient: boolean;
  tt_ms: number | null;
  slope_per_h: number | null;
  r2: number | null;
}

// Shared, never changed: evaluated on every sample, most evaluations end here.
const NO_PREDICTION: Readonly<Prediction> = Object.freeze({ predicting: false, insufficient: false, tt_ms: null, slope_per_h: null, r2: null });
const TOO_LITTLE_DATA: Readonly<Prediction> = Object.freeze({ ...NO_PREDICTION, insufficient: true });

function predict(window: WindowView, rule: EvalRule, prevLevel: AlarmLevel, now: number, p: TrendParams): Readonly<Prediction> {
  if (rule.horizonMs <= 0) return NO_PREDICTION;
  const from = now - rule.trendWindowMs;
  const fit = window.fit(from);
  if (!fit) return TOO_LITTLE_DATA;
  const result: Prediction = { predicting: false, insufficient: false, tt_ms: null, slope_per_h: fit.slope * 3_600_000, r2: fit.r2 };
  if (fit.n < p.minPoints || fit.spanMs < rule.trendWindowMs * p.minSpanFraction) return { ...result, insufficient: true };
  // +1: heading up to an above-rule's threshold; −1: down to a below-rule's.
  const toward = rule.below ? -1 : 1;
  if (!(toward * fit.slope > 0)) return result;
  const holding = prevLevel === 'amber';
  if (fit.r2 < (holding ? p.r2Exit : p.r2Enter)) return result;
  const tt = Math.max(0, (rule.threshold - fit.valueAt(now)) / fit.slope);
  result.tt_ms = tt;
  const reach = Math.min(rule.horizonMs, rule.trendWindowMs * p.maxExtrapolation);
  if (tt > reach * (holding ? p.exitHorizonFactor : 1)) return result;
  // Both halves must head there too: a step, or a burst, draws a sloped line through data that is
  // flat on either side of it. A real trend rises (falls) in each half.
  const middle = now - rule.trendWindowMs / 2;
  const minHalf = Math.max(3, p.minPoints / 2);
  for (const half of [window.fit(middle), window.fit(from, middle)]) {
    if (!half || half.n < minHalf || toward * half.slope < toward * fit.slope * p.halfSlopeRatio) return result;
  }
  result.predicting = true;
  return result;
}

/**
 * The next state of one alarm (one rule on one node's series): a new object, or written over `into`
 * (which may be `prev`). The engine keeps one state per alarm for as long as the node lives: a new
 * one per sample lived until the node's next sample, long enough for V8 to copy it out of the young
 * generation every time, and the collector's work grew with the fleet.
 */
export function evaluate(
  window: WindowView,
  rule: EvalRule,
  prev: AlarmState | null,
  now: number,
  params: TrendParams = TREND_DEFAULTS,
  into?: AlarmState,
): AlarmState {
  const before = prev ?? initialState(now);
  const { mean, count } = window.mean(now - rule.windowMs, now);
  if (count === 0) {
    // No recent data: hold the state, restart the timers (a gap proves nothing either way).
    return stateOf(into, before.state, before.since_ms, null, null, before.slope_per_h, before.r2, before.lastDataMs, null, null, null, null);
  }
  // After a gap the timers start again from this point, as when the gap was seen (above).
  const restart = before.lastDataMs !== null && now - before.lastDataMs > Math.max(rule.windowMs, params.staleMs) ? now : null;
  const wasRed = before.state === 'red';
  // "Over" is past the threshold, "under" back on the safe side of the clear level, whichever way the rule looks.
  const below = rule.below ?? false;
  const clearAt = rule.clearAt ?? defaultClearAt(rule.threshold, below);
  const isOver = below ? mean < rule.threshold : mean > rule.threshold;
  const isUnder = below ? mean > clearAt : mean < clearAt;
  const pred = isOver ? { ...predict(window, rule, before.state, now, params), tt_ms: 0 } : predict(window, rule, before.state, now, params);
  const overSince = isOver ? (restart ?? before.overSince ?? now) : null;
  const underSince = isUnder ? (restart ?? before.underSince ?? now) : null;
  const predictSince = pred.predicting ? (restart ?? before.predictSince ?? now) : null;
  // AMBER is not left for want of data (a restarted hub, a gap): only when the data says so.
  const calmSince = !isOver && !pred.predicting && !pred.insufficient ? (restart ?? before.calmSince ?? now) : null;
  const held = (since: number | null, ms: number) => since !== null && now - since >= ms;
  const clearMs = rule.clearForMs ?? defaultClearForMs(rule.forMs);

  let next: AlarmLevel;
  if (held(overSince, rule.forMs)) next = 'red';
  else if (wasRed) next = held(underSince, clearMs) ? (pred.predicting ? 'amber' : 'ok') : 'red';
  else if (before.state === 'amber') next = held(calmSince, clearMs) ? 'ok' : 'amber';
  else next = held(predictSince, rule.forMs) ? 'amber' : 'ok';

  const sinceMs = next === before.state ? before.since_ms : now;
  return stateOf(into, next, sinceMs, mean, next === 'red' ? 0 : pred.tt_ms, pred.slope_per_h, pred.r2, now, overSince, underSince, predictSince, calmSince);
}

/** An AlarmState of these fields: `into` overwritten, or a new one. Everything `prev` says is read before. */
function stateOf(
  into: AlarmState | undefined,
  state: AlarmLevel,
  since_ms: number,
  value: number | null,
  tt_ms: number | null,
  slope_per_h: number | null,
  r2: number | null,
  lastDataMs: number | null,
  overSince: number | null,
  underSince: number | null,
  predictSince: number | null,
  calmSince: number | null,
): AlarmState {
  if (!into) return { state, since_ms, value, tt_ms, slope_per_h, r2, lastDataMs, overSince, underSince, predictSince, calmSince };
  into.state = state;
  into.since_ms = since_ms;
  into.value = value;
  into.tt_ms = tt_ms;
  into.slope_per_h = slope_per_h;
  into.r2 = r2;
  into.lastDataMs = lastDataMs;
  into.overSince = overSince;
  into.underSince = underSince;
  into.predictSince = predictSince;
  into.calmSince = calmSince;
  return into;
}

/**
 * The `offline` rule: offline once the node has said so, or been silent for `staleMs`, for the
 * rule's `for` (default 0: at once; a node that reboots every night may be given a few minutes);
 * back to OK as soon as it is heard from.
 */
export function evaluateOffline(prev: AlarmState | null, offline: boolean, now: number, forMs = 0): AlarmState {
  const before = prev ?? initialState(now);
  const overSince = offline ? (before.overSince ?? now) : null;
  const next: AlarmLevel = offline && (before.state === 'offline' || now - overSince! >= forMs) ? 'offline' : 'ok';
  return { ...before, state: next, since_ms: next === before.state ? before.since_ms : now, value: offline ? 1 : 0, overSince };
}

/**
 * The `clock_skew` rule: RED once the node's clock has been off by more than `thresholdS` (either
 * way) on every live sample for the rule's `for` (default 0: the first such sample); OK again once
 * it is back within half of it, so that a clock drifting across the threshold does not raise and
 * clear it with every sample's network delay.
 */
export function evaluateClockSkew(prev: AlarmState | null, skewS: number, thresholdS: number, now: number, into?: AlarmState, forMs = 0): AlarmState {
  const before = prev ?? initialState(now);
  const wasRed = before.state === 'red';
  const off = Math.abs(skewS) > (wasRed ? thresholdS / 2 : thresholdS);
  const overSince = off ? (before.overSince ?? now) : null;
  const next: AlarmLevel = off && (wasRed || now - overSince! >= forMs) ? 'red' : 'ok';
  // Written into `into` when given (the engine passes the alarm's state: one per live sample, no garbage).
  const out = into ?? { ...before };
  out.since_ms = next === before.state ? before.since_ms : now;
  out.state = next;
  out.value = skewS;
  out.tt_ms = next === 'red' ? 0 : null;
  out.overSince = overSince;
  return out;
}
