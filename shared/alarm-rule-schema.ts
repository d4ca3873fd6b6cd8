// An alarm rule as people write it (the rules file, the API, the dashboard's editor), described once:
// the schema gives the TypeScript types and every problem at once, each at its field and with the
// bad value. Where a notification may go is the hub's to judge (a channel URL's own fields, its
// host), so the schema takes those two checks as schemas of their own (alarmRuleSchema).
import * as v from 'valibot';
import {
  LABELLED_METRICS,
  labelledMetricSpec,
  MAX_SERIES_LABELS,
  MAX_TAGS,
  METRICS,
  nodeNameProblem,
  parseDuration,
  SERIES_NAME,
  tagProblem,
} from '../protocol/index.ts';
import { across, closedObject, plainObject, shown } from './field-problems.ts';

export const RULE_DEFAULTS = {
  for: '5m',
  window: '1m',
  horizon: '6h',
  // A third of the horizon: long enough that wander is not taken for a trend (hub/alarms/evaluator.ts).
  trend_window: '2h',
  // Four changes in half an hour is two full cycles: no real fault comes and goes that fast.
  flap_changes: 4,
  flap_window: '30m',
  flap_stable: '10m',
  group_wait: '10s',
  group_interval: '5m',
  repeat_interval: '4h',
} as const;

/** Channels one rule may list. */
const MAX_CHANNELS = 20;
/** Repeats no more often than this, so a typo cannot make a pager of every channel. */
const MIN_REPEAT_MS = 60_000;
/** The state changes one alarm remembers for flapping, at most. */
const MAX_FLAP_CHANGES = 100;
/** A label's glob, at most as long as a label value may be on the wire. */
const MAX_GLOB_CHARS = 256;
const MAX_DESCRIPTION = 500;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NODE_GLOB = /^[A-Za-z0-9._*?-]{1,64}$/;

export const BOOLEAN_METRICS: readonly string[] = ['undervoltage', 'throttled'];
/** Firmware bits are 0 or 1: the mean over the window passes 0.5 when the bit was on most of it. */
export const BIT_THRESHOLD = 0.5;
/** Metrics judged by a rule of their own rather than on a series (no window or trend; `for` delays them, default 0). */
export const STATE_METRICS: readonly string[] = ['offline', 'clock_skew'];
/** The registry's metrics that rules may watch. */
const ALARM_SERIES: readonly string[] = METRICS.filter((m) => m.alarms).map((m) => m.name);
const SPECIAL = ['offline', 'clock_skew', 'fs_pct', ...BOOLEAN_METRICS];
/** `custom:NAME`: a node's own metric, named as the agent sends it. */
const CUSTOM_PREFIX = 'custom:';

/** Why `metric` is no metric a rule may watch, or null (the forms are listed in hub/alarms/rules.ts). */
export function metricProblem(metric: string): string | null {
  if (ALARM_SERIES.includes(metric) || SPECIAL.includes(metric)) return null;
  if (/^fs_pct:\/\S{0,255}$/.test(metric)) return null;
  if (/^proc_rss_bytes:[^\s]{1,64}$/.test(metric)) return null;
  if (labelledMetricSpec(metric)) return null;
  if (metric.startsWith(CUSTOM_PREFIX)) {
    const name = metric.slice(CUSTOM_PREFIX.length);
    return SERIES_NAME.test(name) ? null : `custom:NAME takes a metric name of letters, digits and _ (as the agent sends it), got ${shown(name)}`;
  }
  return `unknown metric ${shown(metric)}; known: ${[...ALARM_SERIES, ...SPECIAL].join(', ')}, fs_pct:/MOUNT, proc_rss_bytes:NAME, the labelled ${LABELLED_METRICS.map((m) => m.name).join(', ')}, custom:NAME`;
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

/** A percentage bound to 0–100 (a labelled one may pass it: a container's CPU of one core, eMMC wear past its rated life). */
export function isPercent(metric: string): boolean {
  return labelledSeries(metric) === null && (metric.endsWith('_pct') || metric.startsWith('fs_pct'));
}

// ---- fields --------------------------------------------------------------------------------

const finiteNumber = v.pipe(
  v.number((i) => `must be a finite number, got ${shown(i.input)}`),
  v.finite((i) => `must be a finite number, got ${shown(i.input)}`),
);

const trueOrFalse = v.boolean((i) => `must be true or false, got ${shown(i.input)}`);

/** "5m", "30s" (a number of ms is read too, and kept as text); `examples` ends "must be a duration like". */
const duration = (examples: string) =>
  v.pipe(
    v.custom<string | number>(
      (d) => (typeof d === 'string' || typeof d === 'number') && parseDuration(d) !== null,
      (i) => `must be a duration like ${examples}, got ${shown(i.input)}`,
    ),
    v.transform(String),
  );

const ms = (d: string) => parseDuration(d) ?? 0;

const longerThanZero = (examples: string) =>
  v.pipe(
    duration(examples),
    v.check(
      (d) => ms(d) > 0,
      (i) => `must be longer than 0, got ${shown(i.input)}`,
    ),
  );

const metric = v.pipe(
  v.string((i) => `must be a metric name, got ${shown(i.input)}`),
  v.nonEmpty('must be a metric name, got ""'),
  v.check(
    (m) => m === '' || metricProblem(m) === null,
    (i) => metricProblem(i.input as string) ?? '',
  ),
);

const glob = v.pipe(
  v.string((i) => `must be a glob of 1–${MAX_GLOB_CHARS} printable characters (* any run, ? one), got ${shown(i.input, 80)}`),
  v.check(
    (g) => g !== '' && g.length <= MAX_GLOB_CHARS && !/\p{Cc}/u.test(g),
    (i) => `must be a glob of 1–${MAX_GLOB_CHARS} printable characters (* any run, ? one), got ${shown(i.input, 80)}`,
  ),
);

const labelsProblem = (input: unknown) => `must be an object of label: glob, e.g. {"container": "web*"}, got ${shown(input, 80)}`;

const labels = v.pipe(
  plainObject(labelsProblem),
  v.record(v.string(), glob, (i) => labelsProblem(i.input)),
  v.check(
    (l) => Object.keys(l).length <= MAX_SERIES_LABELS,
    (i) => `may name at most ${MAX_SERIES_LABELS} labels, got ${Object.keys(i.input as object).length}`,
  ),
);

const nodeName = v.custom<string>(
  (n) => nodeNameProblem(n) === null,
  (i) => nodeNameProblem(i.input) ?? '',
);

const tag = v.custom<string>(
  (t) => tagProblem(t) === null,
  (i) => tagProblem(i.input) ?? '',
);

const tagsProblem = (i: v.BaseIssue<unknown>) => `must be a list of 1–${MAX_TAGS} tags, got ${shown(i.input, 80)}`;

/** Where the notifications of a rule may go, as the hub judges them. */
export interface DestinationSchemas {
  /** A channel URL (`ntfy://…`, `https://…`, …). */
  channel: v.GenericSchema<unknown, string>;
  /** An http(s) URL: the `webhook` and `ntfy` fields. */
  destination: v.GenericSchema<unknown, string>;
}

function notifySchema(urls: DestinationSchemas) {
  const entries = {
    /** Channel URLs, chosen by scheme: `https://…` (webhook), `ntfy://`, `gotify://`, `telegram://`, `discord://`, `slack://`, `pushover://`, `smtp://`, `smtps://`. */
    channels: v.optional(
      v.pipe(
        v.array(urls.channel, (i) => `must be a list of at most ${MAX_CHANNELS} channel URLs, got ${shown(i.input, 80)}`),
        v.maxLength(MAX_CHANNELS, (i) => `must be a list of at most ${MAX_CHANNELS} channel URLs, got ${shown(i.input, 80)}`),
      ),
    ),
    /** URL that gets a JSON POST (the same as listing it in `channels`). */
    webhook: v.optional(urls.destination),
    /** ntfy-compatible topic URL (`https://ntfy.sh/my-topic`; the same as `ntfy://ntfy.sh/my-topic` in `channels`). */
    ntfy: v.optional(urls.destination),
    /** A burst's first message waits this long for the rest of it ("10s"; never longer than group_interval). */
    group_wait: v.optional(duration('"5m"')),
    /** Changes after a group's message wait at least this long after it ("5m"). */
    group_interval: v.optional(duration('"5m"')),
    /** The older name of group_interval, still read from rule files. */
    min_interval: v.optional(duration('"5m"')),
    /** While alarms fire and nothing changes, the message is sent again this often ("4h"). */
    repeat_interval: v.optional(
      v.pipe(
        duration('"5m"'),
        v.check(
          (d) => ms(d) >= MIN_REPEAT_MS,
          (i) => `must be at least 1m, got ${shown(i.input)}`,
        ),
      ),
    ),
    /** Alarms back to OK are listed in the next message (default true). */
    send_resolved: v.optional(trueOrFalse),
  };
  return v.pipe(
    closedObject(entries, (input) => `must be an object, got ${shown(input)}`),
    across(['min_interval', 'group_interval'], (n, report) => {
      if (n.min_interval !== undefined && n.group_interval !== undefined) report(['min_interval'], 'is the older name of group_interval: give one of them');
    }),
  );
}

/**
 * A rule: its fields, each checked alone, then the checks across them (a threshold a metric needs,
 * the side a clear level is on, labels the metric carries), each run once the fields it reads are valid.
 */
export function alarmRuleSchema(urls: DestinationSchemas) {
  const entries = {
    id: v.pipe(
      v.string((i) => `must be 1–64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${shown(i.input)}`),
      v.regex(ID, (i) => `must be 1–64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${shown(i.input)}`),
    ),
    /** What it watches: a registry metric or one of the special forms (hub/alarms/rules.ts lists them). */
    metric,
    /** RED above this value (below it with `"when": "below"`), units of the metric. Not used by `offline`. */
    threshold: v.optional(finiteNumber),
    /** Which side of the threshold fires: "above" (the default) or "below" (a container not running, a weak signal). */
    when: v.optional(v.picklist(['above', 'below'], (i) => `must be "above" or "below", got ${shown(i.input, 80)}`)),
    /** How long the condition must hold before the state changes ("5m"). */
    for: v.optional(duration('"30s", "5m", "6h"')),
    /** RED compares the mean over this window, so one spike cannot raise it ("1m"). */
    window: v.optional(
      v.pipe(
        duration('"30s", "5m", "6h"'),
        v.check((d) => ms(d) > 0, 'must be longer than 0'),
      ),
    ),
    /** AMBER when the trend predicts crossing within this ("6h"); "0" turns AMBER off. */
    horizon: v.optional(duration('"30s", "5m", "6h"')),
    /** The least-squares fit uses the data of this window ("2h"); predictions reach at most 4× it. */
    trend_window: v.optional(duration('"30s", "5m", "6h"')),
    /** RED clears only below this value ("hysteresis"; default the threshold less 5 % of it)… */
    clear_below: v.optional(finiteNumber),
    /** …or, for a rule `"when": "below"`, only above this one (default the threshold plus 5 % of it; clear_below is refused there)… */
    clear_above: v.optional(finiteNumber),
    /** …once it has stayed there this long ("1m"; default `for`, at most 1 minute). AMBER leaves after this long without a prediction. */
    clear_for: v.optional(duration('"30s", "5m"')),
    /** An alarm that changes state this often within `flap_window` is flapping and not notified (default 4; 0: never). */
    flap_changes: v.optional(
      v.custom<number>(
        (n) => Number.isInteger(n) && (n === 0 || ((n as number) >= 2 && (n as number) <= MAX_FLAP_CHANGES)),
        (i) => `must be a whole number from 2 to ${MAX_FLAP_CHANGES}, or 0 to never mark the alarm flapping, got ${shown(i.input)}`,
      ),
    ),
    /** Default "30m". */
    flap_window: v.optional(longerThanZero('"30s", "5m"')),
    /** A flapping alarm is notified again, once, in its state at the time, after this long without a change (default "10m"). */
    flap_stable: v.optional(longerThanZero('"30s", "5m"')),
    /**
     * A labelled metric's label sets to judge, each label given by a glob (`{"container": "web*"}`:
     * `*` any run of characters, `?` one); absent: every label set. Each label set is an alarm of its own.
     */
    labels: v.optional(labels),
    /** Where it applies: all nodes when `nodes`, `node_pattern` and `tags` are absent. */
    nodes: v.optional(v.array(nodeName, (i) => `must be a list of node names, got ${shown(i.input)}`)),
    /** Node name glob: `*` any run of characters, `?` one (`pi-*`). */
    node_pattern: v.optional(
      v.pipe(
        v.string((i) => `must be a node name glob of A-Z a-z 0-9 . _ - * ?, got ${shown(i.input)}`),
        v.regex(NODE_GLOB, (i) => `must be a node name glob of A-Z a-z 0-9 . _ - * ?, got ${shown(i.input)}`),
      ),
    ),
    /** Only nodes carrying one of these tags (`ci`, `room:kitchen`); with `nodes` or `node_pattern`, a node must match each given. */
    tags: v.optional(v.pipe(v.array(tag, tagsProblem), v.minLength(1, tagsProblem), v.maxLength(MAX_TAGS, tagsProblem))),
    enabled: v.optional(trueOrFalse),
    notify: v.optional(notifySchema(urls)),
    description: v.optional(
      v.pipe(
        v.string(`must be a text of at most ${MAX_DESCRIPTION} characters`),
        v.maxLength(MAX_DESCRIPTION, `must be a text of at most ${MAX_DESCRIPTION} characters`),
      ),
    ),
  };
  const bool = (m: string) => BOOLEAN_METRICS.includes(m);
  const state = (m: string) => STATE_METRICS.includes(m);
  return v.pipe(
    closedObject(entries, (input) => `a rule must be a JSON object, got ${Array.isArray(input) ? 'an array' : shown(input)}`),
    across(['metric', 'threshold'], (r, report) => {
      const t = r.threshold;
      if (t === undefined && !state(r.metric) && !bool(r.metric)) report(['threshold'], `is required for metric ${shown(r.metric)}`);
      if (t !== undefined && r.metric === 'clock_skew' && t <= 0) report(['threshold'], `seconds of clock skew must be above 0, got ${t}`);
      if (t !== undefined && isPercent(r.metric) && (t <= 0 || t > 100)) report(['threshold'], `a percentage must be above 0 and at most 100, got ${t}`);
    }),
    across(['metric', 'labels'], (r, report) => {
      if (r.labels === undefined) return;
      const series = labelledSeries(r.metric);
      if (series === null) {
        report(['labels'], `is only for a labelled metric (${LABELLED_METRICS.map((m) => m.name).join(', ')}, custom:NAME); ${shown(r.metric)} has no labels`);
        return;
      }
      const carried = carriedLabels(series, r.metric);
      for (const name of Object.keys(r.labels)) {
        if (carried === null && !SERIES_NAME.test(name)) report(['labels', name], 'a label name is letters, digits and _, not starting with a digit or __');
        else if (carried !== null && !carried.includes(name))
          report(
            ['labels', name],
            carried.length
              ? `${r.metric} carries the label${carried.length > 1 ? 's' : ''} ${carried.join(', ')}, not ${shown(name)}`
              : `${r.metric} carries no labels, not ${shown(name)}`,
          );
      }
    }),
    across(['metric', 'when'], (r, report) => {
      // offline and clock_skew are judged by rules of their own, the firmware bits are on when set.
      if (r.when === 'below' && (state(r.metric) || bool(r.metric)))
        report(['when'], `"below" is not for metric ${shown(r.metric)}, which fires when its condition is on`);
    }),
    across(['metric', 'threshold', 'when', 'clear_below', 'clear_above', 'clear_for'], (r, report) => {
      if (state(r.metric)) {
        // offline and clock_skew have no series to average: nothing for these to judge.
        for (const key of ['clear_below', 'clear_above', 'clear_for'] as const)
          if (r[key] !== undefined) report([key], `is not used by metric ${shown(r.metric)}, got ${shown(r[key])}`);
        return;
      }
      // One clear level, named for the side it is on: an above-rule clears below, a below-rule above.
      const below = r.when === 'below';
      if (below && r.clear_below !== undefined)
        report(
          ['clear_below'],
          `is for a rule that fires above its threshold; this one is "when": "below" and clears above clear_above, got ${shown(r.clear_below)}`,
        );
      if (!below && r.clear_above !== undefined)
        report(['clear_above'], `is for a rule "when": "below"; this one fires above its threshold and clears below clear_below, got ${shown(r.clear_above)}`);
      const clearAt = below ? r.clear_above : r.clear_below;
      const threshold = r.threshold ?? (bool(r.metric) ? BIT_THRESHOLD : null);
      if (clearAt === undefined || threshold === null) return;
      if (!below && clearAt >= threshold) report(['clear_below'], `must be below the threshold (${threshold}), got ${clearAt}`);
      if (below && clearAt <= threshold) report(['clear_above'], `must be above the threshold (${threshold}) of a rule "when": "below", got ${clearAt}`);
    }),
    across(['window', 'trend_window'], (r, report) => {
      const window = ms(r.window ?? RULE_DEFAULTS.window);
      const trend = ms(r.trend_window ?? RULE_DEFAULTS.trend_window);
      if (trend < window * 2) report(['trend_window'], `must be at least twice the window (${window} ms), got ${trend} ms`);
    }),
  );
}

/** A rule as written in the rules file and sent to the API. */
export type AlarmRuleInput = v.InferOutput<ReturnType<typeof alarmRuleSchema>>;

/** Notifications of one rule, grouped per burst and channel (hub/alarms/alarm-groups.ts). */
export type RuleNotify = NonNullable<AlarmRuleInput['notify']>;

/** A list of rules, each id once. */
export function ruleListSchema(urls: DestinationSchemas) {
  return v.pipe(
    v.array(alarmRuleSchema(urls), (i) => `must be a list of rules, got ${shown(i.input, 40)}`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!Array.isArray(dataset.value)) return;
      const seen = new Set<string>();
      (dataset.value as unknown[]).forEach((rule, index) => {
        const id = (rule as { id?: unknown } | null)?.id;
        if (typeof id !== 'string') return;
        if (seen.has(id))
          addIssue({
            message: `duplicate id ${shown(id)}`,
            path: [
              { type: 'array', origin: 'value', input: dataset.value as unknown[], key: index, value: rule },
              { type: 'object', origin: 'value', input: rule as Record<string, unknown>, key: 'id', value: id },
            ],
          });
        seen.add(id);
      });
    }),
  );
}

/** The rules file's content, and the body of PUT /api/alarms/rules: `{"version": 1, "rules": [...]}`. */
export function rulesDocumentSchema(urls: DestinationSchemas) {
  return closedObject(
    {
      /** Format of the file; bumped only if it ever changes incompatibly. */
      version: v.optional(v.literal(1, (i) => `must be 1, got ${shown(i.input)}`)),
      rules: ruleListSchema(urls),
    },
    () => 'must be a JSON object {"version": 1, "rules": [...]}',
  );
}
