// Shapes of the alarms API and of the retained `remonitor/<node>/alarms` payload, shared by the
// hub, the routes and the browser code.

export type AlarmLevel = 'ok' | 'amber' | 'red' | 'offline';

/** One alarm: one rule on one node (and one filesystem, for per-mount rules). */
export interface AlarmInfo {
  node: string;
  rule_id: string;
  /** The filesystem mount of a per-mount rule, else ''. */
  subject: string;
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
}

export interface AlarmTransition {
  id?: number;
  ts_ms: number;
  node: string;
  rule_id: string;
  subject: string;
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

export interface SilenceInfo {
  id: number;
  node: string | null;
  rule_id: string | null;
  subject: string | null;
  from_ms: number;
  until_ms: number;
  reason: string | null;
}

/** POST /api/alarms/ack body. */
export interface AckRequest {
  node: string;
  rule_id: string;
  subject?: string;
  by?: string;
}

/** POST /api/alarms/silence body: `for` is a duration ("1h"); absent node/rule_id match any. */
export interface SilenceRequest {
  node?: string;
  rule_id?: string;
  subject?: string;
  for: string;
  reason?: string;
}
