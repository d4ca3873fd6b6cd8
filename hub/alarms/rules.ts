// Alarm rules: their shape as people write them (JSON, durations as "5m"), validation that reports
// every problem at once with the field and the bad value, the compiled form the engine uses, and
// the defaults a fresh hub ships with.
import {
  CLOCK_TOLERANCE_MS,
  LABELLED_METRICS,
  labelledMetricSpec,
  MAX_SERIES_LABELS,
  METRICS,
  MAX_TAGS,
  nodeNameProblem,
  parseDuration,
  SERIES_NAME,
  tagProblem,
} from '../../protocol/index.ts';
import { channelProblems, ntfyChannelUrl } from './channels/index.ts';
import { destinationProblem } from './destination.ts';
import { defaultClearAt, defaultClearForMs } from './evaluator.ts';
import type { AlarmRuleInput, RuleMetric, RuleNotify } from '../../shared/alarm-types.ts';

/**
 * What a rule watches:
 * - any metric of the registry that allows alarms (protocol/metrics.ts);
 * - `fs_pct`: each filesystem's use % separately (one alarm per mount), or `fs_pct:/mount` one mount;
 * - `proc_rss_bytes:NAME`: resident memory of the process named NAME (summed over its instances),
 *   seen when it is in the sample's top lists;
 * - `undervoltage` / `throttled`: the Raspberry Pi firmware bits (1 while the condition is on now);
 * - any labelled metric of the registry (LABELLED_METRICS: a container's, a unit's, a mount's…), or
 *   `custom:NAME`, a node's own metric NAME (--textfile-dir, --exec): one alarm per label set, the
 *   label sets chosen by `labels` (a glob per label; none: all of them, at most MAX_LABEL_SETS a node);
 * - `offline`: the node's status went offline or it stopped sending;
 * - `clock_skew`: the node's clock is off by more than `threshold` seconds (default: the tolerance
 *   past which the hub stores its samples at corrected times, hub/ingest/sample-time.ts).
 */
export type { RuleMetric };

export type { AlarmRuleInput, RuleNotify };

/** A rule ready for evaluation: every duration in ms, every default filled in. */
export interface AlarmRule {
  id: string;
  metric: RuleMetric;
  threshold: number;
  forMs: number;
  windowMs: number;
  horizonMs: number;
  trendWindowMs: number;
  /** RED when the mean is below the threshold (`"when": "below"`) rather than above it. */
  below: boolean;
  /** RED clears once the mean has stayed on the safe side of this (below it; above it for a below-rule) for `clearForMs` (AMBER: without a prediction). */
  clearAt: number;
  clearForMs: number;
  /** Flapping: `flapChanges` state changes within `flapWindowMs` (0: never); it ends after `flapStableMs` without one. */
  flapChanges: number;
  flapWindowMs: number;
  flapStableMs: number;
  /** A labelled metric's series name (a registry name, or NAME of `custom:NAME`); null for other rules. */
  series: string | null;
  /** The label sets it judges: each label's value must match its glob (a label the value lacks counts as ''); empty: all. */
  labelMatchers: readonly (readonly [string, RegExp])[];
  nodes: string[] | null;
  nodePattern: RegExp | null;
  /** The node must carry one of these tags (protocol/info.ts, combineTags); null: any node. */
  tags: string[] | null;
  enabled: boolean;
  notify: RuleNotifyCompiled;
  /** The input it came from, as the API lists it. */
  input: AlarmRuleInput;
}

export interface RuleNotifyCompiled {
  /** Channel URLs, the `webhook` and `ntfy` fields among them, each once. */
  channels: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  sendResolved: boolean;
}

export interface RuleProblem {
  field: string;
  problem: string;
}

export const RULE_DEFAULTS = {
  for: '5m',
  window: '1m',
  horizon: '6h',
  // A third of the horizon: long enough that wander is not taken for a trend (see evaluator.ts).
  trend_window: '2h',
  // Four changes in half an hour is two full cycles: no real fault comes and goes that fast.
  flap_changes: 4,
  flap_window: '30m',
  flap_stable: '10m',
  group_wait: '10s',
  group_interval: '5m',
  repeat_interval: '4h',
} as const;

const NOTIFY_KEYS = ['channels', 'webhook', 'ntfy', 'group_wait', 'group_interval', 'min_interval', 'repeat_interval', 'send_resolved'];
/** Channels one rule may list. */
const MAX_CHANNELS = 20;
/** Repeats no more often than this, so a typo cannot make a pager of every channel. */
const MIN_REPEAT_MS = 60_000;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BOOLEAN_METRICS = ['undervoltage', 'throttled'];
/** Firmware bits are 0 or 1: the mean over the window passes 0.5 when the bit was on most of it. */
const BIT_THRESHOLD = 0.5;
/** The state changes one alarm remembers for flapping, at most. */
const MAX_FLAP_CHANGES = 100;
/** The registry's metrics that rules may watch. */
const ALARM_SERIES: readonly string[] = METRICS.filter((m) => m.alarms).map((m) => m.name);
const SPECIAL = ['offline', 'clock_skew', 'fs_pct', ...BOOLEAN_METRICS];
/** `custom:NAME`: a node's own metric, named as the agent sends it. */
const CUSTOM_PREFIX = 'custom:';
/** Label sets one rule judges on one node, at most: a label holding a request id would make a new one every sample. */
export const MAX_LABEL_SETS = 200;
/** A label's glob, at most as long as a label value may be on the wire. */
const MAX_GLOB_CHARS = 256;
/** Metrics judged by a rule of their own rather than on a series (no window or trend; `for` delays them, default 0). */
const STATE_METRICS = ['offline', 'clock_skew'];
const INPUT_KEYS = new Set([
  'id',
  'metric',
  'threshold',
  'for',
  'window',
  'horizon',
  'trend_window',
  'when',
  'clear_below',
  'clear_above',
  'clear_for',
  'flap_changes',
  'flap_window',
  'flap_stable',
  'labels',
  'nodes',
  'node_pattern',
  'tags',
  'enabled',
  'notify',
  'description',
]);

export function metricProblem(metric: unknown): string | null {
  if (typeof metric !== 'string' || metric === '') return `must be a metric name, got ${JSON.stringify(metric)}`;
  if (ALARM_SERIES.includes(metric) || SPECIAL.includes(metric)) return null;
  if (/^fs_pct:\/\S{0,255}$/.test(metric)) return null;
  if (/^proc_rss_bytes:[^\s]{1,64}$/.test(metric)) return null;
  if (labelledMetricSpec(metric)) return null;
  if (metric.startsWith(CUSTOM_PREFIX)) {
    const name = metric.slice(CUSTOM_PREFIX.length);
    return SERIES_NAME.test(name) ? null : `custom:NAME takes a metric name of letters, digits and _ (as the agent sends it), got ${JSON.stringify(name)}`;
  }
  return `unknown metric ${JSON.stringify(metric)}; known: ${[...ALARM_SERIES, ...SPECIAL].join(', ')}, fs_pct:/MOUNT, proc_rss_bytes:NAME, the labelled ${LABELLED_METRICS.map((m) => m.name).join(', ')}, custom:NAME`;
}

/** The series a labelled rule watches: a labelled metric's name, or NAME of `custom:NAME`; null for any other metric. */
export function labelledSeries(metric: string): string | null {
  if (ALARM_SERIES.includes(metric)) return null; // a scalar of the registry, whatever else is sent under its name
  if (labelledMetricSpec(metric)) return metric;
  return metric.startsWith(CUSTOM_PREFIX) ? metric.slice(CUSTOM_PREFIX.length) : null;
}

/** The labels a labelled metric's values carry; null: any (a node's own metric). */
function carriedLabels(series: string, metric: string): readonly string[] | null {
  const spec = labelledMetricSpec(series);
  if (!spec || metric.startsWith(CUSTOM_PREFIX)) return null;
  return [spec.label, ...(spec.otherLabels ?? [])].filter((l) => l !== '');
}

/** Problems of a rule's `labels`: only on a labelled metric, only labels it carries, each a glob. */
function labelsProblems(labels: unknown, metric: string, add: (field: string, problem: string) => void): void {
  const series = labelledSeries(metric);
  if (series === null) {
    add('labels', `is only for a labelled metric (${LABELLED_METRICS.map((m) => m.name).join(', ')}, custom:NAME); ${JSON.stringify(metric)} has no labels`);
    return;
  }
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    add('labels', `must be an object of label: glob, e.g. {"container": "web*"}, got ${JSON.stringify(labels)?.slice(0, 80)}`);
    return;
  }
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_SERIES_LABELS) add('labels', `may name at most ${MAX_SERIES_LABELS} labels, got ${entries.length}`);
  const carried = carriedLabels(series, metric);
  for (const [name, glob] of entries) {
    if (carried !== null && !carried.includes(name))
      add(
        `labels.${name}`,
        carried.length
          ? `${metric} carries the label${carried.length > 1 ? 's' : ''} ${carried.join(', ')}, not ${JSON.stringify(name)}`
          : `${metric} carries no labels, not ${JSON.stringify(name)}`,
      );
    else if (carried === null && !SERIES_NAME.test(name)) add(`labels.${name}`, 'a label name is letters, digits and _, not starting with a digit or __');
    if (typeof glob !== 'string' || glob === '' || glob.length > MAX_GLOB_CHARS || /\p{Cc}/u.test(glob))
      add(`labels.${name}`, `must be a glob of 1–${MAX_GLOB_CHARS} printable characters (* any run, ? one), got ${JSON.stringify(glob)?.slice(0, 80)}`);
  }
}

/** `pi-*` → /^pi-.*$/. Only `*` and `?` are special, so a node name or a label value never needs escaping. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+*?^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/** Whether a labelled rule judges the value with these labels. */
export function labelsMatch(rule: Pick<AlarmRule, 'labelMatchers'>, labels: Readonly<Record<string, string>>): boolean {
  for (const [name, re] of rule.labelMatchers) if (!re.test(labels[name] ?? '')) return false;
  return true;
}

/** Every problem of one rule; empty when it is valid. `at` prefixes field names (`rules[3].`). */
export function validateRule(input: unknown, at = ''): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const add = (field: string, problem: string) => problems.push({ field: `${at}${field}`, problem });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    add('', `a rule must be a JSON object, got ${Array.isArray(input) ? 'an array' : JSON.stringify(input)}`);
    return problems;
  }
  const r = input as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!INPUT_KEYS.has(key)) add(key, `unknown field; known: ${[...INPUT_KEYS].join(', ')}`);
  if (typeof r['id'] !== 'string' || !ID.test(r['id']))
    add('id', `must be 1–64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(r['id'])}`);
  const metricErr = metricProblem(r['metric']);
  if (metricErr) add('metric', metricErr);
  const metric = typeof r['metric'] === 'string' ? r['metric'] : '';
  if (r['threshold'] !== undefined && (typeof r['threshold'] !== 'number' || !Number.isFinite(r['threshold']))) {
    add('threshold', `must be a finite number, got ${JSON.stringify(r['threshold'])}`);
  }
  if (r['threshold'] === undefined && !STATE_METRICS.includes(metric) && !BOOLEAN_METRICS.includes(metric) && !metricErr) {
    add('threshold', `is required for metric ${JSON.stringify(metric)}`);
  }
  if (metric === 'clock_skew' && typeof r['threshold'] === 'number' && r['threshold'] <= 0) {
    add('threshold', `seconds of clock skew must be above 0, got ${r['threshold']}`);
  }
  if (r['labels'] !== undefined && !metricErr) labelsProblems(r['labels'], metric, add);
  if (typeof r['threshold'] === 'number' && isPercent(metric) && (r['threshold'] <= 0 || r['threshold'] > 100)) {
    add('threshold', `a percentage must be above 0 and at most 100, got ${r['threshold']}`);
  }
  whenProblems(r, metric, add);
  noiseProblems(r, metric, add);
  for (const key of ['for', 'window', 'horizon', 'trend_window'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    if ((typeof v !== 'string' && typeof v !== 'number') || parseDuration(v) === null)
      add(key, `must be a duration like "30s", "5m", "6h", got ${JSON.stringify(v)}`);
  }
  const window = durationOr(r['window'], RULE_DEFAULTS.window);
  const trend = durationOr(r['trend_window'], RULE_DEFAULTS.trend_window);
  if (window !== null && window <= 0) add('window', 'must be longer than 0');
  if (window !== null && trend !== null && trend < window * 2) add('trend_window', `must be at least twice the window (${window} ms), got ${trend} ms`);
  if (r['nodes'] !== undefined) {
    if (!Array.isArray(r['nodes'])) add('nodes', `must be a list of node names, got ${JSON.stringify(r['nodes'])}`);
    else
      r['nodes'].forEach((n, i) => {
        const p = nodeNameProblem(n);
        if (p) add(`nodes[${i}]`, p);
      });
  }
  if (r['node_pattern'] !== undefined && (typeof r['node_pattern'] !== 'string' || !/^[A-Za-z0-9._*?-]{1,64}$/.test(r['node_pattern']))) {
    add('node_pattern', `must be a node name glob of A-Z a-z 0-9 . _ - * ?, got ${JSON.stringify(r['node_pattern'])}`);
  }
  if (r['tags'] !== undefined) {
    if (!Array.isArray(r['tags']) || r['tags'].length === 0 || r['tags'].length > MAX_TAGS)
      add('tags', `must be a list of 1–${MAX_TAGS} tags, got ${JSON.stringify(r['tags'])?.slice(0, 80)}`);
    else
      r['tags'].forEach((t, i) => {
        const p = tagProblem(t);
        if (p) add(`tags[${i}]`, p);
      });
  }
  if (r['enabled'] !== undefined && typeof r['enabled'] !== 'boolean') add('enabled', `must be true or false, got ${JSON.stringify(r['enabled'])}`);
  if (r['description'] !== undefined && (typeof r['description'] !== 'string' || r['description'].length > 500))
    add('description', 'must be a text of at most 500 characters');
  const notify = r['notify'];
  if (notify !== undefined) {
    if (typeof notify !== 'object' || notify === null || Array.isArray(notify)) add('notify', `must be an object, got ${JSON.stringify(notify)}`);
    else notifyProblems(notify as Record<string, unknown>, (field, problem) => add(`notify${field}`, problem));
  }
  return problems;
}

/** Problems of `when`: the direction a rule looks, above (the default) or below its threshold. */
function whenProblems(r: Record<string, unknown>, metric: string, add: (field: string, problem: string) => void): void {
  const when = r['when'];
  if (when === undefined) return;
  if (when !== 'above' && when !== 'below') add('when', `must be "above" or "below", got ${JSON.stringify(when)?.slice(0, 80)}`);
  // offline and clock_skew are judged by rules of their own, the firmware bits are on when set.
  else if (when === 'below' && (STATE_METRICS.includes(metric) || BOOLEAN_METRICS.includes(metric)))
    add('when', `"below" is not for metric ${JSON.stringify(metric)}, which fires when its condition is on`);
}

/** Problems of the fields that keep an alarm quiet: hysteresis (`clear_below` / `clear_above`, `clear_for`) and flapping. */
function noiseProblems(r: Record<string, unknown>, metric: string, add: (field: string, problem: string) => void): void {
  for (const key of ['clear_below', 'clear_above', 'clear_for'] as const) {
    // offline and clock_skew have no series to average: nothing for these to judge.
    if (r[key] !== undefined && STATE_METRICS.includes(metric)) add(key, `is not used by metric ${JSON.stringify(metric)}, got ${JSON.stringify(r[key])}`);
  }
  // One clear level, named for the side it is on: an above-rule clears below, a below-rule above.
  const below = r['when'] === 'below';
  const [key, other] = below ? (['clear_above', 'clear_below'] as const) : (['clear_below', 'clear_above'] as const);
  if (r[other] !== undefined && !STATE_METRICS.includes(metric))
    add(
      other,
      below
        ? `is for a rule that fires above its threshold; this one is "when": "below" and clears above clear_above, got ${JSON.stringify(r[other])}`
        : `is for a rule "when": "below"; this one fires above its threshold and clears below clear_below, got ${JSON.stringify(r[other])}`,
    );
  const clearAt = r[key];
  if (clearAt !== undefined && (typeof clearAt !== 'number' || !Number.isFinite(clearAt))) add(key, `must be a finite number, got ${JSON.stringify(clearAt)}`);
  else if (typeof clearAt === 'number') {
    const threshold = typeof r['threshold'] === 'number' ? r['threshold'] : BOOLEAN_METRICS.includes(metric) ? BIT_THRESHOLD : null;
    if (threshold !== null && !below && clearAt >= threshold) add(key, `must be below the threshold (${threshold}), got ${clearAt}`);
    if (threshold !== null && below && clearAt <= threshold) add(key, `must be above the threshold (${threshold}) of a rule "when": "below", got ${clearAt}`);
  }
  for (const key of ['clear_for', 'flap_window', 'flap_stable'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
    if (ms === null) add(key, `must be a duration like "30s", "5m", got ${JSON.stringify(v)}`);
    else if (key !== 'clear_for' && ms <= 0) add(key, `must be longer than 0, got ${JSON.stringify(v)}`);
  }
  const changes = r['flap_changes'];
  if (changes !== undefined && !(Number.isInteger(changes) && (changes === 0 || ((changes as number) >= 2 && (changes as number) <= MAX_FLAP_CHANGES)))) {
    add('flap_changes', `must be a whole number from 2 to ${MAX_FLAP_CHANGES}, or 0 to never mark the alarm flapping, got ${JSON.stringify(changes)}`);
  }
}

function notifyProblems(n: Record<string, unknown>, add: (field: string, problem: string) => void): void {
  for (const key of Object.keys(n)) if (!NOTIFY_KEYS.includes(key)) add(`.${key}`, `unknown field; known: ${NOTIFY_KEYS.join(', ')}`);
  for (const key of ['webhook', 'ntfy'] as const) {
    if (n[key] === undefined) continue;
    const p = destinationProblem(n[key]);
    if (p) add(`.${key}`, p);
  }
  const channels = n['channels'];
  if (channels !== undefined) {
    if (!Array.isArray(channels) || channels.length > MAX_CHANNELS)
      add('.channels', `must be a list of at most ${MAX_CHANNELS} channel URLs, got ${JSON.stringify(channels)?.slice(0, 80)}`);
    else
      channels.forEach((c, i) => {
        for (const p of channelProblems(c)) add(`.channels[${i}]`, p);
      });
  }
  for (const key of ['group_wait', 'group_interval', 'min_interval', 'repeat_interval'] as const) {
    const v = n[key];
    if (v !== undefined && ((typeof v !== 'string' && typeof v !== 'number') || parseDuration(v) === null))
      add(`.${key}`, `must be a duration like "5m", got ${JSON.stringify(v)}`);
  }
  if (n['min_interval'] !== undefined && n['group_interval'] !== undefined) add('.min_interval', 'is the older name of group_interval: give one of them');
  const repeat = durationOr(n['repeat_interval'], RULE_DEFAULTS.repeat_interval);
  if (repeat !== null && repeat < MIN_REPEAT_MS) add('.repeat_interval', `must be at least 1m, got ${JSON.stringify(n['repeat_interval'])}`);
  if (n['send_resolved'] !== undefined && typeof n['send_resolved'] !== 'boolean')
    add('.send_resolved', `must be true or false, got ${JSON.stringify(n['send_resolved'])}`);
}

/** The compiled notifications of a valid rule: every channel once, every default filled in. */
function compileNotify(n: RuleNotify = {}): RuleNotifyCompiled {
  const channels = [...(n.channels ?? []), ...(n.webhook ? [n.webhook] : []), ...(n.ntfy ? [ntfyChannelUrl(n.ntfy)] : [])];
  const groupIntervalMs = parseDuration(n.group_interval ?? n.min_interval ?? RULE_DEFAULTS.group_interval)!;
  return {
    channels: [...new Set(channels)],
    // A wait longer than the interval would hold a burst past the time the rule asked for.
    groupWaitMs: n.group_wait === undefined ? Math.min(parseDuration(RULE_DEFAULTS.group_wait)!, groupIntervalMs) : parseDuration(n.group_wait)!,
    groupIntervalMs,
    repeatIntervalMs: parseDuration(n.repeat_interval ?? RULE_DEFAULTS.repeat_interval)!,
    sendResolved: n.send_resolved ?? true,
  };
}

/** Every problem of a rule list, duplicates ids included. */
export function validateRules(input: unknown): RuleProblem[] {
  if (!Array.isArray(input)) return [{ field: 'rules', problem: `must be a list of rules, got ${JSON.stringify(input)?.slice(0, 40)}` }];
  const problems = input.flatMap((rule, i) => validateRule(rule, `rules[${i}].`));
  const seen = new Set<string>();
  input.forEach((rule, i) => {
    const id = (rule as { id?: unknown })?.id;
    if (typeof id !== 'string') return;
    if (seen.has(id)) problems.push({ field: `rules[${i}].id`, problem: `duplicate id ${JSON.stringify(id)}` });
    seen.add(id);
  });
  return problems;
}

export function formatProblems(problems: RuleProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem)).join('; ');
}

function durationOr(value: unknown, fallback: string): number | null {
  if (value === undefined) return parseDuration(fallback);
  return typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
}

/** A percentage bound to 0–100 (a labelled one may pass it: a container's CPU of one core, eMMC wear past its rated life). */
export function isPercent(metric: string): boolean {
  return labelledSeries(metric) === null && (metric.endsWith('_pct') || metric.startsWith('fs_pct'));
}

export function isBooleanMetric(metric: string): boolean {
  return BOOLEAN_METRICS.includes(metric);
}

/** The compiled rule; throws a TypeError naming every problem when the input is invalid. */
export function compileRule(input: AlarmRuleInput): AlarmRule {
  const problems = validateRule(input);
  if (problems.length > 0) throw new TypeError(`alarm rule ${JSON.stringify(input?.id)}: ${formatProblems(problems)}`);
  const bool = isBooleanMetric(input.metric);
  const below = input.when === 'below';
  const threshold = input.threshold ?? (bool ? BIT_THRESHOLD : input.metric === 'clock_skew' ? CLOCK_TOLERANCE_MS / 1000 : 0);
  const forMs = parseDuration(input.for ?? (bool || STATE_METRICS.includes(input.metric) ? '0s' : RULE_DEFAULTS.for))!;
  return {
    id: input.id,
    metric: input.metric,
    threshold,
    forMs,
    windowMs: parseDuration(input.window ?? RULE_DEFAULTS.window)!,
    // A bit that is on or off has no trend worth extrapolating.
    horizonMs: bool || STATE_METRICS.includes(input.metric) ? 0 : parseDuration(input.horizon ?? RULE_DEFAULTS.horizon)!,
    trendWindowMs: parseDuration(input.trend_window ?? RULE_DEFAULTS.trend_window)!,
    below,
    clearAt: (below ? input.clear_above : input.clear_below) ?? defaultClearAt(threshold, below),
    clearForMs: input.clear_for === undefined ? defaultClearForMs(forMs) : parseDuration(input.clear_for)!,
    flapChanges: input.flap_changes ?? RULE_DEFAULTS.flap_changes,
    flapWindowMs: parseDuration(input.flap_window ?? RULE_DEFAULTS.flap_window)!,
    flapStableMs: parseDuration(input.flap_stable ?? RULE_DEFAULTS.flap_stable)!,
    series: labelledSeries(input.metric),
    labelMatchers: Object.entries(input.labels ?? {}).map(([name, glob]) => [name, globToRegExp(glob)] as const),
    nodes: input.nodes ?? null,
    nodePattern: input.node_pattern ? globToRegExp(input.node_pattern) : null,
    tags: input.tags ?? null,
    enabled: input.enabled ?? true,
    notify: compileNotify(input.notify),
    input,
  };
}

/**
 * Whether the rule judges `node`, which carries `nodeTags`: every target the rule gives must match
 * (listed in `nodes`, matching `node_pattern`, carrying one of `tags`); a rule with none judges all.
 */
export function ruleAppliesTo(rule: AlarmRule, node: string, nodeTags: readonly string[] = []): boolean {
  if (!rule.enabled) return false;
  if (rule.nodes && !rule.nodes.includes(node)) return false;
  if (rule.nodePattern && !rule.nodePattern.test(node)) return false;
  if (rule.tags && !rule.tags.some((t) => nodeTags.includes(t))) return false;
  return true;
}

/**
 * What a fresh hub ships with: 80 % on the utilisation metrics, as our users asked. Memory and disk
 * use move slowly and RED already judges a 1-minute mean, so a minute over is enough (5 minutes only
 * kept the first alarm, and the demo's, waiting); CPU is bursty and keeps its 5 minutes.
 */
export function defaultRules(): AlarmRuleInput[] {
  return [
    {
      id: 'cpu',
      metric: 'cpu_pct',
      threshold: 80,
      for: '5m',
      horizon: '0',
      description: 'CPU busy over 80 % for 5 minutes (no prediction: CPU load is too bursty to extrapolate)',
    },
    { id: 'memory', metric: 'mem_pct', threshold: 80, for: '1m', description: 'memory over 80 % for a minute, or predicted to be within 6 h' },
    { id: 'swap', metric: 'swap_pct', threshold: 80, description: 'swap over 80 %, or predicted to be within 6 h' },
    {
      id: 'disk',
      metric: 'fs_pct',
      threshold: 80,
      for: '1m',
      horizon: '24h',
      trend_window: '6h',
      description: 'each filesystem over 80 % for a minute, or predicted to fill to 80 % within 24 h',
    },
    {
      id: 'temperature',
      metric: 'temp_c',
      threshold: 80,
      for: '2m',
      horizon: '30m',
      trend_window: '10m',
      description: 'CPU over 80 °C (a Pi throttles from 80 °C)',
    },
    { id: 'offline', metric: 'offline', description: 'the node said offline or stopped sending' },
    {
      id: 'clock',
      metric: 'clock_skew',
      description: "the node's clock is off by more than 2 minutes: its samples are stored at the hub's time until it is set right",
    },
    { id: 'undervoltage', metric: 'undervoltage', for: '0s', description: 'Raspberry Pi power supply too weak (firmware under-voltage bit)' },
    { id: 'throttled', metric: 'throttled', for: '0s', description: 'Raspberry Pi firmware is throttling the CPU' },
    // One alarm per container, unit, mount or device (labelled metrics). The 0/1 values cross 0.5
    // once the condition held for most of the window; a level that steps has no trend to extrapolate.
    {
      id: 'container-memory',
      metric: 'container_mem_pct',
      threshold: 90,
      for: '1m',
      horizon: '0',
      description: 'a container over 90 % of its memory limit for a minute (the kernel kills it at 100 %)',
    },
    { id: 'unit-failed', metric: 'service_failed', threshold: 0.5, for: '0s', horizon: '0', description: 'a systemd unit failed' },
    {
      id: 'readonly-fs',
      metric: 'fs_readonly',
      threshold: 0.5,
      for: '0s',
      horizon: '0',
      description: 'a filesystem is read-only (the kernel remounts one so on I/O errors: a dying SD card)',
    },
    {
      id: 'storage-wear',
      metric: 'storage_wear_pct',
      threshold: 90,
      for: '0s',
      horizon: '0',
      description: 'an eMMC past 90 % of its rated erase cycles (its life_time level)',
    },
    // Below-rules: the agent sends container_running 0 for a container seen running that restarts,
    // pauses or exits, and smart_healthy 0 for a failed drive; 0.5 as for the bits above.
    {
      id: 'container-stopped',
      metric: 'container_running',
      when: 'below',
      threshold: 0.5,
      for: '1m',
      horizon: '0',
      description: 'a container not running (exited, paused or restarting) for a minute',
    },
    {
      id: 'smart-failed',
      metric: 'smart_healthy',
      when: 'below',
      threshold: 0.5,
      for: '0s',
      horizon: '0',
      description: 'a drive failed its S.M.A.R.T. overall health check',
    },
  ];
}
