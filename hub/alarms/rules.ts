// Alarm rules: the compiled form the engine uses, and the defaults a fresh hub ships with. Their
// shape as people write them (JSON, durations as "5m") is one schema (shared/alarm-rule-schema.ts,
// hub/alarms/rule-schema.ts), which reports every problem at once with the field and the bad value.
import * as v from 'valibot';
import { CLOCK_TOLERANCE_MS, parseDuration } from '../../protocol/index.ts';
import { METRIC_SPECS } from '../../protocol/metrics.ts';
import {
  BIT_THRESHOLD,
  BOOLEAN_METRICS,
  isPercent,
  labelledSeries,
  RULE_DEFAULTS,
  STATE_METRICS,
  type AlarmRuleInput,
  type RuleNotify,
} from '../../shared/alarm-rule-schema.ts';
import type { FieldProblem, RuleMetric } from '../../shared/alarm-types.ts';
import { formatFieldProblems, problemsOf } from '../../shared/field-problems.ts';
import { ntfyChannelUrl } from './channels/index.ts';
import { defaultClearAt, defaultClearForMs } from './evaluator.ts';
import { AlarmRuleSchema, RuleListSchema } from './rule-schema.ts';

export { isPercent, labelledSeries, RULE_DEFAULTS };

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

/** One problem of a rule, at its field (`threshold`, `rules[3].labels.unit`, `notify.channels[1]`). */
export type RuleProblem = FieldProblem;

/** Label sets one rule judges on one node, at most: a label holding a request id would make a new one every sample. */
export const MAX_LABEL_SETS = 200;

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
  return problemsOf(v.safeParse(AlarmRuleSchema, input).issues, at);
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
  return problemsOf(v.safeParse(RuleListSchema, input).issues, 'rules');
}

export const formatProblems = formatFieldProblems;

export function isBooleanMetric(metric: string): boolean {
  return BOOLEAN_METRICS.includes(metric);
}

/** The compiled rule; throws a TypeError naming every problem when the input is invalid. */
export function compileRule(input: AlarmRuleInput): AlarmRule {
  const result = v.safeParse(AlarmRuleSchema, input);
  if (!result.success) throw new TypeError(`alarm rule ${JSON.stringify(input?.id)}: ${formatProblems(problemsOf(result.issues))}`);
  const rule = result.output;
  const bool = isBooleanMetric(rule.metric);
  const below = rule.when === 'below';
  const threshold = rule.threshold ?? (bool ? BIT_THRESHOLD : rule.metric === 'clock_skew' ? CLOCK_TOLERANCE_MS / 1000 : 0);
  const forMs = parseDuration(rule.for ?? (bool || STATE_METRICS.includes(rule.metric) ? '0s' : RULE_DEFAULTS.for))!;
  return {
    id: rule.id,
    metric: rule.metric,
    threshold,
    forMs,
    windowMs: parseDuration(rule.window ?? RULE_DEFAULTS.window)!,
    // A bit that is on or off has no trend worth extrapolating.
    horizonMs: bool || STATE_METRICS.includes(rule.metric) ? 0 : parseDuration(rule.horizon ?? RULE_DEFAULTS.horizon)!,
    trendWindowMs: parseDuration(rule.trend_window ?? RULE_DEFAULTS.trend_window)!,
    below,
    clearAt: (below ? rule.clear_above : rule.clear_below) ?? defaultClearAt(threshold, below),
    clearForMs: rule.clear_for === undefined ? defaultClearForMs(forMs) : parseDuration(rule.clear_for)!,
    flapChanges: rule.flap_changes ?? RULE_DEFAULTS.flap_changes,
    flapWindowMs: parseDuration(rule.flap_window ?? RULE_DEFAULTS.flap_window)!,
    flapStableMs: parseDuration(rule.flap_stable ?? RULE_DEFAULTS.flap_stable)!,
    series: labelledSeries(rule.metric),
    labelMatchers: Object.entries(rule.labels ?? {}).map(([name, glob]) => [name, globToRegExp(glob)] as const),
    nodes: rule.nodes ?? null,
    nodePattern: rule.node_pattern ? globToRegExp(rule.node_pattern) : null,
    tags: rule.tags ?? null,
    enabled: rule.enabled ?? true,
    notify: compileNotify(rule.notify),
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
 * What a fresh hub ships with: first the registry's default rule of each metric that has one
 * (protocol/metrics.ts, `defaultAlarm`: 80 % on the utilisation metrics, as our users asked), then
 * the rules on what is not a metric of the registry.
 */
export function defaultRules(): AlarmRuleInput[] {
  return [
    ...METRIC_SPECS.flatMap((m): AlarmRuleInput[] => {
      if (!m.defaultAlarm) return [];
      const { id, eachFilesystem, ...rest } = m.defaultAlarm;
      return [{ id, metric: eachFilesystem ? 'fs_pct' : m.name, ...rest }];
    }),
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
