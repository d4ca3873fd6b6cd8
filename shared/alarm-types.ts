// Shapes of the alarms API and of the retained `remonitor/<node>/alarms` payload, shared by the
// hub, the routes and the browser code.

// A rule, its notifications and a silence request are described once, as schemas that give these types.
import type { AlarmRuleInput } from './alarm-rule-schema.ts';

export type { AlarmRuleInput, RuleNotify } from './alarm-rule-schema.ts';
export type { SilenceRequest } from './silence-schema.ts';

export type AlarmLevel = 'ok' | 'amber' | 'red' | 'offline';

/** One alarm: one rule on one node (and one filesystem, for per-mount rules; one label set, for labelled metrics). */
export interface AlarmInfo {
  node: string;
  rule_id: string;
  /** The filesystem mount of a per-mount rule, the label set of a labelled metric's (`container=web image=nginx`, labelsSubject), else ''. */
  subject: string;
  /** The label set of a labelled metric's alarm; absent for other rules. */
  labels?: Record<string, string>;
  metric: string;
  state: AlarmLevel;
  /** When this state was entered, ms. */
  since_ms: number;
  /** Mean over the rule's window, units of the metric; null without recent data. */
  value: number | null;
  threshold: number;
  /** Predicted ms until the threshold is crossed; 0 when over; null when no trend predicts it. */
  tt_ms: number | null;
  /** Trend slope in units per hour and its r², when a fit was made. */
  slope_per_h: number | null;
  r2: number | null;
  acked: boolean;
  /** Notifications are held until then (ms), when a silence matches. */
  silenced_until_ms: number | null;
  /**
   * It changed state too often of late (the rule's `flap_changes` within `flap_window`): its changes
   * are not notified until it has kept one state for `flap_stable`. Listed, like every alarm, while not OK.
   */
  flapping: boolean;
}

export interface AlarmTransition {
  id?: number;
  ts_ms: number;
  node: string;
  rule_id: string;
  subject: string;
  /** The label set of a labelled metric's alarm; absent for other rules. */
  labels?: Record<string, string>;
  metric: string;
  from: AlarmLevel;
  to: AlarmLevel;
  value: number | null;
  threshold: number | null;
  tt_ms: number | null;
}

/** GET /api/alarms: alarms not OK. With `?history=24h`, also the transitions of that period, newest first. */
export interface AlarmsResponse {
  alarms: AlarmInfo[];
  history?: AlarmTransition[];
}

/** Payload of the retained `remonitor/<node>/alarms` topic (JSON, UTF-8). */
export interface NodeAlarmsMessage {
  v: 1;
  node: string;
  ts_ms: number;
  /** The node's alarms that are not OK. */
  alarms: AlarmInfo[];
  /** The change that caused this message. */
  transition: AlarmTransition | null;
}

/** A silence: notifications of the alarms it matches are held until `until_ms`. */
export interface SilenceInfo {
  id: number;
  /** One node; null: see node_pattern and tag (all null: any node). */
  node: string | null;
  /** Node name glob (`pi-*`: `*` any run of characters, `?` one). */
  node_pattern: string | null;
  /** Nodes carrying this tag. */
  tag: string | null;
  /** One rule; null: any rule. */
  rule_id: string | null;
  /** One filesystem of a per-mount rule, or one label set of a labelled metric's (its alarm's subject); null: all. */
  subject: string | null;
  from_ms: number;
  until_ms: number;
  reason: string | null;
  /** Who made it (the signed-in user); null on a hub without logins. */
  created_by: string | null;
}

/** POST /api/alarms/ack body. */
export interface AckRequest {
  node: string;
  rule_id: string;
  subject?: string;
  by?: string;
}

/** One problem of a request, with the field it is about (`threshold`, `rules[3].nodes[0]`, `notify.channels[1]`). */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** The rules file as the hub sees it. */
export interface RulesFileStatus {
  path: string;
  /** When the version whose rules run was read or written, ms; null before the first. */
  loaded_at_ms: number | null;
  /** Problems of a newer version on disk, which was not applied (the hub runs the version before it); empty when none. */
  problems: FieldProblem[];
}

/** GET /api/alarms/rules: the rules in force as the file holds them (`version`, `rules`), and the file's state. */
export interface RulesResponse {
  version: 1;
  rules: AlarmRuleInput[];
  file: RulesFileStatus;
}

/**
 * What a rule may watch besides the registry's alarm metrics (protocol/metrics.ts), as
 * hub/alarms/rules.ts documents them; `param` forms take a mount or process name after the colon.
 */
export const SPECIAL_RULE_METRICS: readonly { metric: string; param?: string; description: string }[] = [
  { metric: 'offline', description: 'the node said offline or stopped sending' },
  { metric: 'clock_skew', description: "the node's clock is off by more than the threshold, s" },
  { metric: 'fs_pct', description: "each filesystem's use, % (one alarm per mount)" },
  { metric: 'fs_pct:', param: 'mount', description: "one filesystem's use, %" },
  { metric: 'proc_rss_bytes:', param: 'process name', description: 'resident memory of one process, bytes' },
  { metric: 'custom:', param: 'metric name', description: "a node's own metric (--textfile-dir, --exec), one alarm per label set" },
  { metric: 'undervoltage', description: 'Raspberry Pi under-voltage bit' },
  { metric: 'throttled', description: 'Raspberry Pi throttling bits' },
];

/** What a rule watches: a registry metric or one of the special forms (hub/alarms/rules.ts lists them). */
export type RuleMetric = string;

/** A label value is written bare in a subject unless it holds a space, `=`, `"` or a backslash, or is empty: then as a JSON string. */
const BARE_VALUE = /^[^\s="\\]+$/;

/**
 * The subject of a labelled metric's alarm: its labels in name order as `name=value`, one space
 * between (`container=web image=nginx`). One label set gives one subject and back (subjectLabels).
 */
export function labelsSubject(labels: Record<string, string>): string {
  let out = '';
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name]!;
    out += `${out ? ' ' : ''}${name}=${BARE_VALUE.test(value) ? value : JSON.stringify(value)}`;
  }
  return out;
}

/** The labels of a subject labelsSubject wrote; null for any other text. */
export function subjectLabels(subject: string): Record<string, string> | null {
  const labels: Record<string, string> = {};
  const part = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s="\\]+)(?: |$)/y;
  let at = 0;
  while (at < subject.length) {
    part.lastIndex = at;
    const m = part.exec(subject);
    if (!m) return null;
    labels[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    at = part.lastIndex;
  }
  return labels;
}
