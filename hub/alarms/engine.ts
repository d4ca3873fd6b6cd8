// The alarm engine: listens to the hub's live feed, keeps a bounded window per node, rule and
// subject, runs the pure evaluator on every sample, and on each transition stores it, republishes
// the node's retained `remonitor/<node>/alarms` topic and queues the notifications. Silence is
// watched by a timer: a node whose status says offline, or that sent nothing for
// `staleIntervals` of its own sample interval, raises its `offline` alarm. A node whose clock is
// off (the skew ingest measured on each live sample, hub/ingest/sample-time.ts) raises its `clock_skew` alarm.
// An alarm that changes state too often is marked flapping and its notifications wait until it
// settles (flapping.ts).
//
// A rule on a labelled metric (a container's memory, a unit's failure) makes one alarm per label
// set it matches, each judged on its own, at most MAX_LABEL_SETS a node and rule (the rest are not
// judged, said once in the log). A label set the node stops sending while it keeps sending others
// (a container removed, a unit gone) is cleared and forgotten once it has been missing for as long
// as a silent node takes to go offline; a node that is silent altogether keeps its alarms as they
// are, since its `offline` rule speaks for it.
//
// Times: windows and evaluation use the sample's own clock (ts_ms), so a node whose clock is off
// is still judged on consistent data; transitions are stamped with the hub's clock.
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectHubClient, firstConnect } from '../hub-mqtt.ts';
import { labelledMetricSpec, topics, type LabelledValue, type Sample } from '../../protocol/index.ts';
import type { Logger } from '../../shared/logger.ts';
import {
  labelsSubject,
  subjectLabels,
  type AlarmInfo,
  type AlarmTransition,
  type NodeAlarmsMessage,
  type RulesFileStatus,
  type SilenceInfo,
} from '../../shared/alarm-types.ts';
import { labelledValues } from '../storage/labelled-values.ts';
import type { SamplePoint } from '../../shared/api-types.ts';
import type { FeedEvent, LiveFeed } from '../live-feed.ts';
import { REMOVAL_GRACE_MS } from '../storage/store.ts';
import { AlarmStore } from '../storage/sqlite/sqlite-alarm-store.ts';
import { whenStored, type AlarmAck, type AnyAlarmState } from '../storage/alarm-state.ts';
import { evaluate, evaluateClockSkew, evaluateOffline, initialState, TREND_DEFAULTS, type AlarmState, type EvalRule, type TrendParams } from './evaluator.ts';
import { FlapTracker } from './flapping.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import { documentProblems, RULES_FILE, RulesFile } from './rule-file.ts';
import { RuleFileWatch, type RuleFileWatchOptions } from './rule-file-watch.ts';
import { checkSilence, SilenceMatcher } from './silences.ts';
import {
  compileRule,
  defaultRules,
  formatProblems,
  labelsMatch,
  MAX_LABEL_SETS,
  ruleAppliesTo,
  validateRule,
  type AlarmRule,
  type AlarmRuleInput,
  type RuleProblem,
} from './rules.ts';
import { AlarmWindow } from './series-window.ts';
import { NodeTagIndex } from './node-tag-index.ts';

export interface AlarmEngineOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  feed: LiveFeed;
  log: Logger;
  /**
   * Where transitions, acks, silences and the notification queue are kept (the storage driver's:
   * hub/storage/driver.ts); the caller closes it. Without it, a SQLite file at `dbPath`, opened and closed here.
   */
  state?: AnyAlarmState;
  dbPath?: string;
  /** Default `<dataDir>/alarm-rules.json`. */
  rulesFile: string;
  /** Written to the rules file when it does not exist yet. Default: the shipped defaults. */
  seedRules?: () => AlarmRuleInput[];
  /** How changes to the rules file are noticed while the engine runs (rule-file-watch.ts); false: not at all. */
  watchRules?: RuleFileWatchOptions | false;
  now?: () => number;
  /** How often silence is checked, ms. Default 5 s. */
  tickMs?: number;
  /** A node is offline after this many of its sample intervals without a sample. Default 5. */
  staleIntervals?: number;
  /** …and never sooner than this, ms. Default 10 s. */
  minStaleMs?: number;
  trend?: Partial<TrendParams>;
  notifier?: Partial<Omit<NotifierOptions, 'store' | 'log'>>;
}

/** Refused rule edits: every problem, with its field. */
export class RuleError extends Error {
  constructor(
    readonly problems: RuleProblem[],
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(formatProblems(problems));
    this.name = 'RuleError';
  }
}

/**
 * A rule as samples meet it, made once when the rules change rather than once per rule and sample
 * (ingest's hot path evaluates every rule on every sample), and shared by every node it applies to:
 * a few objects that stay in the CPU's cache, not one per node that each evaluation waits for.
 */
interface PreparedRule {
  rule: AlarmRule;
  /** The rule as the evaluator takes it. */
  evalRule: EvalRule;
  /** Its alarm's key when it has no subject (all but per-filesystem rules). */
  key: string;
  /** The value is a field of the sample's point (no per-filesystem, per-process or bit lookup). */
  fromPoint: boolean;
  /** A labelled metric read from the sample's lists (per core, mount, interface) rather than its `series` field. */
  fromList: boolean;
}

function prepareRule(rule: AlarmRule): PreparedRule {
  const spec = rule.series === null ? undefined : labelledMetricSpec(rule.series);
  return {
    rule,
    evalRule: rule,
    key: alarmKey(rule.id, ''),
    fromPoint: isPointMetric(rule.metric),
    fromList: spec !== undefined && spec.source !== 'series' && !rule.metric.startsWith('custom:'),
  };
}

interface Alarm {
  rule: AlarmRule;
  subject: string;
  /** The label set of a labelled rule's alarm, else null. */
  labels: Record<string, string> | null;
  window: AlarmWindow | null;
  state: AlarmState;
  /** Made at its first change: most alarms never change, and every sample reads this field. */
  flap: FlapTracker | null;
}

interface NodeAlarms {
  name: string;
  /** Hub clock when the last sample arrived. */
  lastSampleMs: number;
  lastSampleTs: number;
  /** Typical spacing of the node's samples, ms (moving average). */
  intervalMs: number;
  statusOffline: boolean;
  alarms: Map<string, Alarm>;
  rulesVersion: number;
  /** The rules that apply to the node: judged on its samples, its `offline` rules, its `clock_skew` rules. */
  rules: PreparedRule[];
  offlineRules: PreparedRule[];
  clockRules: PreparedRule[];
  /** The rules on labelled metrics that apply to it, judged on its samples' labelled values. */
  labelledRules: PreparedRule[];
  /** Label sets judged per labelled rule (by rule id), bounded by MAX_LABEL_SETS. */
  labelSets: Map<string, number>;
  /** Rules whose label sets past the bound were logged, so once each. */
  overLimitLogged: Set<string>;
}

/** Points a trend window holds at most: samples closer than trend_window / this are averaged. */
export const TREND_POINTS = 720;

export function defaultRulesFile(dataDir: string): string {
  return join(dataDir, RULES_FILE);
}

/** Metrics read straight from the sample's point, under their own name. */
function isPointMetric(metric: string): boolean {
  return !(metric === 'fs_pct' || metric.startsWith('fs_pct:') || metric.startsWith('proc_rss_bytes:') || metric === 'undervoltage' || metric === 'throttled');
}

/** The values a sample gives one rule, by subject ('' unless per filesystem). */
export function extractValues(metric: string, sample: Sample | undefined, point: SamplePoint): [string, number][] {
  if (metric === 'fs_pct') return (sample?.filesystems ?? []).map((f) => [f.mount, f.used_pct]);
  if (metric.startsWith('fs_pct:')) {
    const mount = metric.slice('fs_pct:'.length);
    const fs = sample?.filesystems?.find((f) => f.mount === mount);
    return fs ? [['', fs.used_pct]] : [];
  }
  if (metric.startsWith('proc_rss_bytes:')) {
    const name = metric.slice('proc_rss_bytes:'.length);
    if (!sample?.top_cpu && !sample?.top_mem) return [];
    const byPid = new Map<number, number>();
    for (const p of [...(sample.top_cpu ?? []), ...(sample.top_mem ?? [])]) if (p.name === name) byPid.set(p.pid, p.rss_bytes);
    return byPid.size ? [['', [...byPid.values()].reduce((a, b) => a + b, 0)]] : [];
  }
  if (metric === 'undervoltage' || metric === 'throttled') {
    const bits = sample?.throttled;
    if (bits === undefined) return [];
    // Bit 0: under-voltage now. Bits 1–3: frequency capped, throttled, soft temperature limit now.
    return [['', metric === 'undervoltage' ? bits & 1 : (bits & 0b1110) !== 0 ? 1 : 0]];
  }
  const v = (point as Record<string, number | undefined>)[metric];
  return v === undefined ? [] : [['', v]];
}

export class AlarmEngine {
  readonly store: AnyAlarmState;
  /** The store was opened here (from `dbPath`), so stop() closes it. */
  private readonly ownsStore: boolean;
  /** The acknowledgements, by `node \0 rule \0 subject`: read once at start, then kept with the store. */
  private acked = new Map<string, string>();
  /** Writes of transitions and acks, in order: a store that answers later still gets them as they happened. */
  private writes: Promise<void> = Promise.resolve();
  private writesPending = 0;
  readonly notifier: Notifier;
  private readonly now: () => number;
  private readonly trend: TrendParams;
  private inputs: AlarmRuleInput[] = [];
  private rules: PreparedRule[] = [];
  private rulesVersion = 0;
  private readonly nodes = new Map<string, NodeAlarms>();
  private silenceMatcher = new SilenceMatcher([]);
  private readonly rulesFile: RulesFile;
  private rulesWatch: RuleFileWatch | null = null;
  /** Last stored state of each alarm, so a restarted hub goes on where it was instead of raising everything again. */
  private restored = new Map<string, { state: AlarmState['state']; ts_ms: number }>();
  /** Removed nodes (forgetNode), with when: their events are ignored until a sample past the grace. */
  private readonly removed = new Map<string, number>();
  private client: MqttClient | null = null;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly stats = { evaluations: 0, transitions: 0, errors: 0 };
  /** Each node's tags, which rules may target: its rules are worked out again when they change. */
  readonly tags = new NodeTagIndex((node) => this.tagsChanged(node));

  constructor(private readonly options: AlarmEngineOptions) {
    this.now = options.now ?? Date.now;
    this.trend = { ...TREND_DEFAULTS, ...options.trend };
    // Fail fast: a broken rules file stops the hub at start, with every problem.
    this.rulesFile = new RulesFile(options.rulesFile, this.now);
    this.setRules(this.rulesFile.load(options.seedRules ?? defaultRules));
    if (options.state) this.store = options.state;
    else if (options.dbPath) this.store = new AlarmStore(options.dbPath);
    else throw new Error('the alarm engine needs its state: a store, or the SQLite file to keep it in');
    this.ownsStore = !options.state;
    this.notifier = new Notifier({ store: this.store, log: options.log, now: this.now, ...options.notifier });
  }

  async start(): Promise<void> {
    const { brokerUrl, log } = this.options;
    const client = connectHubClient('alarms', { brokerUrl, username: this.options.username, password: this.options.password });
    this.client = client;
    client.on('error', (err) => log.warn({ err: err.message }, 'alarms mqtt error'));
    // A broker that restarted has lost the retained sets: publish them all again on every connect.
    client.on('connect', () => {
      for (const node of this.nodes.values()) this.publish(node, null);
    });
    await firstConnect(client, 'alarms', brokerUrl);
    this.tags.follow(client, log);
    // Where the last engine left off (this hub before a restart, or the group's coordinator before this one).
    await this.refreshSilences(this.now());
    this.restored = await this.store.lastStates();
    this.acked = new Map((await this.store.acks()).map((a: AlarmAck) => [ackKey(a.node, a.rule_id, a.subject), a.state]));
    if (this.options.watchRules !== false) {
      this.rulesWatch = new RuleFileWatch(this.options.rulesFile, () => this.reloadRules(), log, this.options.watchRules);
      this.rulesWatch.start();
    }
    this.unsubscribe = this.options.feed.subscribe((event) => this.onEvent(event));
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 5000);
    this.notifier.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.rulesWatch?.stop();
    this.rulesWatch = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.notifier.stop();
    await this.client?.endAsync();
    this.client = null;
    await this.writes;
    if (this.ownsStore) await this.store.close();
  }

  // ---- rules ---------------------------------------------------------------------------------

  private setRules(inputs: AlarmRuleInput[]): void {
    this.rules = inputs.map((input) => prepareRule(compileRule(input)));
    this.inputs = inputs;
    this.rulesVersion++;
    this.notifier?.rulesChanged(this.rules.map((p) => p.rule)); // absent while the constructor loads the first rules
  }

  listRules(): AlarmRuleInput[] {
    return this.inputs;
  }

  /** The rules file: its path, when the rules in force were read, and the problems of a version refused since. */
  rulesFileStatus(): RulesFileStatus {
    return this.rulesFile.status();
  }

  /**
   * Reads the rules file again when it changed on disk: a valid version replaces the rules, one with
   * problems is not applied (the rules in force stay) and each problem is logged with the file.
   */
  reloadRules(): void {
    const file = this.options.rulesFile;
    try {
      const read = this.rulesFile.check();
      if (read === null) return;
      if ('problems' in read) {
        for (const p of read.problems)
          this.options.log.error(
            { file, field: p.field || undefined, problem: p.problem },
            'alarm rules file has a problem: not applied, the rules in force stay',
          );
        return;
      }
      const before = new Map(this.inputs.map((r) => [r.id, JSON.stringify(r)]));
      const changed = read.rules.filter((r) => before.get(r.id) !== JSON.stringify(r)).map((r) => r.id);
      const removed = [...before.keys()].filter((id) => !read.rules.some((r) => r.id === id));
      this.applyRules(read.rules, [...changed, ...removed]);
      this.options.log.info(
        { file, rules: read.rules.length, changed: changed.length, removed: removed.length },
        'alarm rules file changed: its rules are in force',
      );
    } catch (err) {
      this.options.log.error({ file, err: (err as Error).message }, 'could not reload the alarm rules file');
    }
  }

  /** PUT /api/alarms/rules: the whole set, `{version: 1, rules: [...]}`, checked like the file. */
  replaceRules(input: unknown): AlarmRuleInput[] {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new RuleError([{ field: '', problem: 'the body must be the rules file\'s JSON: {"version": 1, "rules": [...]}' }]);
    const problems = documentProblems(input as Record<string, unknown>);
    if (problems.length) throw new RuleError(problems);
    const next = (input as { rules: AlarmRuleInput[] }).rules;
    const ids = new Set([...this.inputs, ...next].map((r) => r.id));
    this.commitRules(next, [...ids]);
    return next;
  }

  private commitRules(next: AlarmRuleInput[], changedIds: string[]): void {
    this.rulesFile.write(next); // refuses (409) when the file holds an edit not yet applied
    this.applyRules(next, changedIds);
  }

  private applyRules(next: AlarmRuleInput[], changedIds: string[]): void {
    this.setRules(next);
    // Alarms of a changed or removed rule start afresh (their windows may no longer fit the rule).
    for (const node of this.nodes.values()) {
      let dropped = false;
      for (const [key, alarm] of node.alarms) {
        if (changedIds.includes(alarm.rule.id)) {
          dropAlarm(node, key, alarm);
          dropped = true;
        }
      }
      if (dropped) this.publish(node, null);
    }
  }

  addRule(input: unknown): AlarmRuleInput {
    const problems = validateRule(input);
    if (problems.length) throw new RuleError(problems);
    const rule = input as AlarmRuleInput;
    if (this.inputs.some((r) => r.id === rule.id))
      throw new RuleError([{ field: 'id', problem: `a rule with id ${JSON.stringify(rule.id)} exists; use PUT to change it` }], 409);
    this.commitRules([...this.inputs, rule], [rule.id]);
    return rule;
  }

  replaceRule(id: string, input: unknown): AlarmRuleInput {
    const index = this.inputs.findIndex((r) => r.id === id);
    if (index < 0) throw new RuleError([{ field: 'id', problem: `no rule with id ${JSON.stringify(id)}` }], 404);
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? { id, ...(input as object) } : input;
    const problems = validateRule(body);
    if ((body as { id?: unknown })?.id !== id) problems.push({ field: 'id', problem: `must stay ${JSON.stringify(id)} (the id is in the URL)` });
    if (problems.length) throw new RuleError(problems);
    const next = [...this.inputs];
    next[index] = body as AlarmRuleInput;
    this.commitRules(next, [id]);
    return body as AlarmRuleInput;
  }

  deleteRule(id: string): void {
    if (!this.inputs.some((r) => r.id === id)) throw new RuleError([{ field: 'id', problem: `no rule with id ${JSON.stringify(id)}` }], 404);
    this.commitRules(
      this.inputs.filter((r) => r.id !== id),
      [id],
    );
  }

  // ---- acks and silences ---------------------------------------------------------------------

  /** Acknowledges an alarm that is not OK; false when there is none. */
  async ack(node: string, ruleId: string, subject: string, by: string | null): Promise<boolean> {
    const alarm = this.nodes.get(node)?.alarms.get(alarmKey(ruleId, subject));
    if (!alarm || alarm.state.state === 'ok') return false;
    const state = alarm.state.state;
    await this.persist('an alarm acknowledgement', () => this.store.ack(node, ruleId, subject, state, this.now(), by), true);
    this.acked.set(ackKey(node, ruleId, subject), state);
    const current = this.nodes.get(node);
    if (current) this.publish(current, null);
    return true;
  }

  /** A new silence, `by` the signed-in user; throws a RuleError with every problem of the request. */
  async silence(req: unknown, by: string | null = null): Promise<SilenceInfo> {
    const now = this.now();
    const checked = checkSilence(req, { now, ruleIds: this.inputs.map((r) => r.id) });
    if ('problems' in checked) throw new RuleError(checked.problems);
    const s: Omit<SilenceInfo, 'id'> = { ...checked.silence, created_by: by };
    const id = await this.store.addSilence(s);
    await this.refreshSilences(now);
    return { id, ...s };
  }

  async silences(): Promise<SilenceInfo[]> {
    return this.store.silences(this.now());
  }

  async unsilence(id: number): Promise<boolean> {
    const ok = await this.store.deleteSilence(id);
    await this.refreshSilences(this.now());
    return ok;
  }

  /**
   * Silences by tag see a node's new tags at the next refresh (each tick); so do silences another
   * hub of a group made. A synchronous store's are in force before this returns.
   */
  private async refreshSilences(now: number): Promise<void> {
    await whenStored(
      () => this.store.silences(now),
      (silences) => (this.silenceMatcher = new SilenceMatcher(silences, (node) => this.tags.tagsOf(node))),
      (err) => this.options.log.warn({ err: err.message }, 'could not read the alarm silences; the ones read before stay in force'),
    );
  }

  /**
   * Runs a write after those before it. A synchronous store's runs at once when none waits. A
   * failure is logged, or thrown to the caller when `rethrow` (an API call that must answer).
   */
  private persist<T>(what: string, write: () => T | Promise<T>, rethrow = false, then?: (value: T) => void): Promise<void> {
    let error: Error | null = null;
    const failed = (err: Error) => {
      if (rethrow) error = err;
      else this.options.log.error({ err: err.message }, `could not store ${what}`);
    };
    const run = () => whenStored(write, (v) => then?.(v), failed);
    const settle = () => {
      if (error) throw error;
    };
    if (this.writesPending === 0) {
      const started = run();
      if (!started) return Promise.resolve().then(settle);
      return this.track(started).then(settle);
    }
    return this.track(this.writes.then(run)).then(settle);
  }

  private track(write: Promise<unknown>): Promise<void> {
    this.writesPending++;
    const done = write.then(
      () => undefined,
      () => undefined,
    );
    this.writes = done.finally(() => this.writesPending--);
    return this.writes;
  }

  private silencedUntil(node: string, ruleId: string, subject: string, now: number): number | null {
    return this.silenceMatcher.until(node, ruleId, subject, now);
  }

  // ---- state ---------------------------------------------------------------------------------

  /** Every alarm that is not OK, RED first. */
  active(): AlarmInfo[] {
    const now = this.now();
    const out: AlarmInfo[] = [];
    for (const node of this.nodes.values()) {
      for (const alarm of node.alarms.values()) {
        if (alarm.state.state === 'ok') continue;
        out.push(this.info(node.name, alarm, now));
      }
    }
    const rank = { red: 0, offline: 1, amber: 2, ok: 3 } as const;
    return out.sort((a, b) => rank[a.state] - rank[b.state] || a.node.localeCompare(b.node) || a.rule_id.localeCompare(b.rule_id));
  }

  async history(fromMs: number): Promise<AlarmTransition[]> {
    // Transitions already decided are in it, even while a busy database holds their writes back.
    await this.writes;
    const labelled = new Set(this.rules.filter((p) => p.rule.series !== null).map((p) => p.rule.id));
    return (await this.store.transitionsSince(fromMs)).map((t) => {
      // A labelled rule's subject is its label set (labelsSubject): given back as labels too.
      const labels = labelled.has(t.rule_id) ? subjectLabels(t.subject) : null;
      return labels ? { ...t, labels } : t;
    });
  }

  private info(node: string, alarm: Alarm, now: number): AlarmInfo {
    const s = alarm.state;
    return {
      node,
      rule_id: alarm.rule.id,
      subject: alarm.subject,
      ...(alarm.labels ? { labels: alarm.labels } : {}),
      metric: alarm.rule.metric,
      state: s.state,
      since_ms: s.since_ms,
      value: s.value,
      threshold: alarm.rule.threshold,
      tt_ms: s.tt_ms === null ? null : Math.round(s.tt_ms),
      slope_per_h: s.slope_per_h,
      r2: s.r2,
      flapping: alarm.flap?.flapping ?? false,
      acked: this.acked.get(ackKey(node, alarm.rule.id, alarm.subject)) === s.state,
      silenced_until_ms: this.silencedUntil(node, alarm.rule.id, alarm.subject, now),
    };
  }

  /**
   * A removed node: its alarms leave the active list (no transition is stored or notified), its
   * retained alarm set, status and birth record (and `alsoClear`) are cleared on the broker so that
   * neither Home Assistant nor a restarted hub sees it again, and its status is ignored from now
   * on, its samples for REMOVAL_GRACE_MS after `atMs` (a later one brings it back).
   */
  forgetNode(node: string, atMs: number, alsoClear: readonly string[] = []): void {
    this.nodes.delete(node);
    this.removed.set(node, atMs);
    this.notifier.forgetNode(node); // its alarms leave their notification groups without a "resolved"
    for (const topic of [topics.alarms(node), topics.status(node), topics.info(node), ...alsoClear]) {
      // An empty retained payload deletes the retained message [MQTT-3.3.1-10].
      this.client?.publish(topic, '', { qos: 1, retain: true }, (err) => {
        if (err) this.options.log.warn({ node, topic, err: err.message }, "could not clear a removed node's retained message");
      });
    }
  }

  /** False for an event of a removed node; a sample past the grace brings the node back. */
  private follows(node: string, event: FeedEvent['type']): boolean {
    const removedMs = this.removed.get(node);
    if (removedMs === undefined) return true;
    if (event !== 'sample' || this.now() <= removedMs + REMOVAL_GRACE_MS) return false;
    this.removed.delete(node);
    return true;
  }

  // ---- feed ----------------------------------------------------------------------------------

  private onEvent(event: FeedEvent): void {
    // Never let a bug here reach ingest, which publishes to the feed.
    try {
      if ((event.type === 'sample' || event.type === 'status') && this.removed.size > 0 && !this.follows(event.node, event.type)) return;
      // Replayed backlog (historical) is old news: alarms judge the present only.
      if (event.type === 'sample') {
        if (!event.sample?.historical) this.onSample(event.node, event.sample, event.point, event.clock_skew_s);
      } else if (event.type === 'status') this.onStatus(event.node, event.status === 'offline');
    } catch (err) {
      this.stats.errors++;
      if (this.stats.errors <= 5) this.options.log.error({ err: (err as Error).stack }, 'alarm evaluation failed');
    }
  }

  private nodeState(name: string): NodeAlarms {
    let node = this.nodes.get(name);
    if (!node) {
      node = {
        name,
        lastSampleMs: this.now(),
        lastSampleTs: -Infinity,
        intervalMs: 0,
        statusOffline: false,
        alarms: new Map(),
        rulesVersion: -1,
        rules: [],
        offlineRules: [],
        clockRules: [],
        labelledRules: [],
        labelSets: new Map(),
        overLimitLogged: new Set(),
      };
      this.nodes.set(name, node);
    }
    if (node.rulesVersion !== this.rulesVersion) {
      const applying = this.rules.filter((r) => ruleAppliesTo(r.rule, name, this.tags.tagsOf(name)));
      node.rules = applying.filter((r) => r.rule.metric !== 'offline' && r.rule.metric !== 'clock_skew' && r.rule.series === null);
      node.labelledRules = applying.filter((r) => r.rule.series !== null);
      node.offlineRules = applying.filter((r) => r.rule.metric === 'offline');
      node.clockRules = applying.filter((r) => r.rule.metric === 'clock_skew');
      node.rulesVersion = this.rulesVersion;
    }
    return node;
  }

  /** A node's tags changed: its rules again, and the alarms of rules that no longer apply dropped. */
  private tagsChanged(name: string): void {
    const node = this.nodes.get(name);
    if (!node) return;
    node.rulesVersion = -1;
    const applying = new Set(
      this.nodeState(name)
        .rules.concat(node.offlineRules, node.clockRules, node.labelledRules)
        .map((r) => r.rule.id),
    );
    let dropped = false;
    for (const [key, alarm] of node.alarms) {
      if (applying.has(alarm.rule.id)) continue;
      dropAlarm(node, key, alarm);
      dropped = true;
    }
    if (dropped) this.publish(node, null);
  }

  private onSample(name: string, sample: Sample | undefined, point: SamplePoint, clockSkewS: number | undefined): void {
    const node = this.nodeState(name);
    // Its status usually comes first and makes its state, so "new" means "not sampled yet".
    const isNew = node.lastSampleTs === -Infinity;
    const ts = point.ts_ms;
    if (ts <= node.lastSampleTs) return; // a duplicate or a late re-send: already judged
    if (Number.isFinite(node.lastSampleTs)) {
      const gap = ts - node.lastSampleTs;
      // Moving average of the spacing, ignoring long silences (those are what we detect).
      if (node.intervalMs === 0) node.intervalMs = gap;
      else if (gap < node.intervalMs * 10) node.intervalMs = node.intervalMs * 0.9 + gap * 0.1;
    }
    node.lastSampleTs = ts;
    node.lastSampleMs = this.now();
    let changed = false;
    if (!node.statusOffline) changed = this.setOffline(node, false) || changed;
    if (clockSkewS !== undefined) changed = this.judgeClock(node, clockSkewS) || changed;
    for (const r of node.rules) {
      if (r.fromPoint) {
        const value = (point as Record<string, number | undefined>)[r.rule.metric];
        if (value !== undefined) changed = this.judge(node, r, r.key, '', ts, value) || changed;
        continue;
      }
      for (const [subject, value] of extractValues(r.rule.metric, sample, point)) {
        changed = this.judge(node, r, subject === '' ? r.key : alarmKey(r.rule.id, subject), subject, ts, value) || changed;
      }
    }
    if (node.labelledRules.length > 0 && sample) changed = this.judgeLabelled(node, sample, ts) || changed;
    if (isNew && !changed) this.publish(node, null); // every node has a retained set from its first sample
  }

  /** Judges each label set the node's labelled rules match in this sample; true on a transition. */
  private judgeLabelled(node: NodeAlarms, sample: Sample, ts: number): boolean {
    let changed = false;
    // Most rules read the `series` field as it came; the lists' values are made only when a rule asks.
    let listed: LabelledValue[] | null = null;
    for (const r of node.labelledRules) {
      const values = r.fromList
        ? (listed ??= labelledValues({ cpu_core_pct: sample.cpu_core_pct, filesystems: sample.filesystems, net: sample.net }))
        : sample.series;
      if (!values) continue;
      for (const v of values) {
        if (v.name !== r.rule.series || !labelsMatch(r.rule, v.labels)) continue;
        const subject = labelsSubject(v.labels);
        const key = alarmKey(r.rule.id, subject);
        if (!node.alarms.has(key)) {
          const count = node.labelSets.get(r.rule.id) ?? 0;
          if (count >= MAX_LABEL_SETS) {
            if (!node.overLimitLogged.has(r.rule.id)) {
              node.overLimitLogged.add(r.rule.id);
              this.options.log.warn(
                { node: node.name, rule: r.rule.id, metric: r.rule.metric, limit: MAX_LABEL_SETS },
                'alarm rule matches more label sets on this node than are judged: the others are not (narrow it with labels)',
              );
            }
            continue;
          }
          node.labelSets.set(r.rule.id, count + 1);
        }
        changed = this.judge(node, r, key, subject, ts, v.value, v.labels) || changed;
      }
    }
    return changed;
  }

  /**
   * Label sets the node stopped sending while it sends others (a container removed, a unit gone):
   * after `staleMs` of its own clock without one, the alarm clears (a transition to OK when it was
   * not OK) and is forgotten. True when any was.
   */
  private forgetGoneLabelSets(node: NodeAlarms, staleMs: number): boolean {
    let dropped = false;
    for (const [key, alarm] of node.alarms) {
      if (alarm.labels === null || node.lastSampleTs - alarm.window!.lastT <= staleMs) continue;
      const from = alarm.state.state;
      if (from !== 'ok') {
        Object.assign(alarm.state, initialState(this.now()));
        this.transitioned(node, alarm, from);
      }
      dropAlarm(node, key, alarm);
      dropped = true;
    }
    return dropped;
  }

  /** Adds a value to its alarm's window and evaluates the alarm; true on a transition. */
  private judge(
    node: NodeAlarms,
    r: PreparedRule,
    key: string,
    subject: string,
    ts: number,
    value: number,
    labels: Record<string, string> | null = null,
  ): boolean {
    let alarm = node.alarms.get(key);
    if (!alarm) {
      const { rule } = r;
      // Without a horizon only the short window is needed; with one, the trend window in at most
      // TREND_POINTS buckets (memory stays bounded whatever the sample rate).
      const window = new AlarmWindow(rule.windowMs, rule.horizonMs > 0 ? rule.trendWindowMs : null, TREND_POINTS);
      alarm = { rule, subject, labels, window, state: this.startState(node.name, rule.id, subject, ts), flap: null };
      node.alarms.set(key, alarm);
    }
    alarm.window!.push(ts, value);
    this.stats.evaluations++;
    const from = alarm.state.state;
    evaluate(alarm.window!, r.evalRule, alarm.state, ts, this.trend, alarm.state); // in place: see evaluate()
    if (alarm.state.state !== from) return this.transitioned(node, alarm, from);
    if (alarm.flap?.flapping) this.settleFlapping(node, alarm);
    return false;
  }

  private onStatus(name: string, offline: boolean): void {
    const node = this.nodeState(name);
    node.statusOffline = offline;
    if (!offline) node.lastSampleMs = this.now(); // back: give it a full stale period to send
    this.setOffline(node, offline);
  }

  /** The node's alarm for a rule with no subject (offline, clock skew), made on first use. */
  private nodeAlarm(node: NodeAlarms, rule: PreparedRule['rule'], key: string) {
    let alarm = node.alarms.get(key);
    if (!alarm) {
      alarm = { rule, subject: '', labels: null, window: null, state: this.startState(node.name, rule.id, '', this.now()), flap: null };
      node.alarms.set(key, alarm);
    }
    return alarm;
  }

  /** Applies the node's offline condition to its `offline` rules; true on a transition. */
  private setOffline(node: NodeAlarms, offline: boolean): boolean {
    let changed = false;
    for (const { rule, key } of node.offlineRules) {
      const alarm = this.nodeAlarm(node, rule, key);
      const isOffline = alarm.state.state === 'offline';
      // Nothing to do unless the condition changed or a `for` is under way.
      if (isOffline === offline && (isOffline || alarm.state.overSince === null)) continue;
      const from = alarm.state.state;
      alarm.state = evaluateOffline(alarm.state, offline, this.now(), rule.forMs);
      changed = (alarm.state.state !== from && this.transitioned(node, alarm, from)) || changed;
    }
    return changed;
  }

  /** Applies the clock skew of a live sample, s, to the node's `clock_skew` rules; true on a transition. */
  private judgeClock(node: NodeAlarms, skewS: number): boolean {
    let changed = false;
    for (const { rule, key } of node.clockRules) {
      const alarm = this.nodeAlarm(node, rule, key);
      const from = alarm.state.state;
      evaluateClockSkew(alarm.state, skewS, rule.threshold, this.now(), alarm.state, rule.forMs);
      changed = (alarm.state.state !== from && this.transitioned(node, alarm, from)) || changed;
    }
    return changed;
  }

  /** A new alarm starts in its last stored state (a hub restart), else OK. */
  private startState(node: string, ruleId: string, subject: string, now: number): AlarmState {
    const key = `${node}\u0000${ruleId}\u0000${subject}`;
    const last = this.restored.get(key);
    this.restored.delete(key);
    const state = initialState(now);
    if (!last || last.state === 'ok') return state;
    // RED and AMBER are kept until the data says otherwise; the timers start afresh.
    return { ...state, state: last.state, since_ms: last.ts_ms };
  }

  /** Silence: nodes that stopped sending without saying so (power cut, network gone). */
  private tick(): void {
    const now = this.now();
    try {
      void this.refreshSilences(now);
      for (const node of this.nodes.values()) {
        const staleMs = Math.max(this.options.minStaleMs ?? 10_000, (this.options.staleIntervals ?? 5) * node.intervalMs);
        // Also for a node that said offline: its offline rules' `for` runs on.
        if (node.statusOffline || now - node.lastSampleMs > staleMs) this.setOffline(node, true);
        else if (node.labelSets.size > 0 && this.forgetGoneLabelSets(node, staleMs)) this.publish(node, null);
        // Alarms that settle with no sample to judge (an offline alarm, a silent node) settle here.
        for (const alarm of node.alarms.values()) if (alarm.flap?.flapping) this.settleFlapping(node, alarm);
      }
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'alarm tick failed');
    }
  }

  /** The alarm's state has left `from`: stores the transition, republishes and notifies. True. */
  private transitioned(node: NodeAlarms, alarm: Alarm, from: AlarmState['state']): true {
    const next = alarm.state;
    const now = this.now();
    const transition: AlarmTransition = {
      ts_ms: now,
      node: node.name,
      rule_id: alarm.rule.id,
      subject: alarm.subject,
      ...(alarm.labels ? { labels: alarm.labels } : {}),
      metric: alarm.rule.metric,
      from,
      to: next.state,
      value: next.value,
      threshold: alarm.rule.metric === 'offline' ? null : alarm.rule.threshold,
      tt_ms: next.tt_ms === null ? null : Math.round(next.tt_ms),
    };
    this.stats.transitions++;
    // `from` is what was last told: a new alarm's OK, or a restored alarm's state, told before the restart.
    alarm.flap ??= new FlapTracker(from);
    const tell = alarm.flap.change(next.state, now, alarm.rule);
    // A synchronous store gives the id before the set is published; one that answers later, after.
    void this.persist(
      'an alarm transition',
      () => this.store.addTransition(transition),
      false,
      (id) => (transition.id = id),
    );
    // An ack holds for the state it was given in.
    this.acked.delete(ackKey(node.name, alarm.rule.id, alarm.subject));
    void this.persist('an alarm transition', () => this.store.clearAck(node.name, alarm.rule.id, alarm.subject));
    this.options.log.info(
      {
        node: node.name,
        rule: alarm.rule.id,
        subject: alarm.subject || undefined,
        from,
        to: next.state,
        value: next.value,
        tt_ms: transition.tt_ms,
        flapping: alarm.flap.flapping || undefined,
      },
      'alarm',
    );
    this.publish(node, transition);
    if (tell) this.notifier.notify(alarm.rule, transition, this.silencedUntil(node.name, alarm.rule.id, alarm.subject, now) !== null);
    return true;
  }

  /** A flapping alarm that kept its state for the rule's `flap_stable`: no longer flapping, its state told once. */
  private settleFlapping(node: NodeAlarms, alarm: Alarm): void {
    const now = this.now();
    const told = alarm.flap!.settle(alarm.state.state, now, alarm.rule);
    if (told === null) return;
    const s = alarm.state;
    this.options.log.info({ node: node.name, rule: alarm.rule.id, subject: alarm.subject || undefined, state: s.state }, 'alarm no longer flapping');
    this.publish(node, null);
    // Told even when it settled where the last message left it: that message is long past and
    // changes went untold since. `from` is the state last told.
    const transition: AlarmTransition = {
      ts_ms: now,
      node: node.name,
      rule_id: alarm.rule.id,
      subject: alarm.subject,
      ...(alarm.labels ? { labels: alarm.labels } : {}),
      metric: alarm.rule.metric,
      from: told,
      to: s.state,
      value: s.value,
      threshold: alarm.rule.metric === 'offline' ? null : alarm.rule.threshold,
      tt_ms: s.tt_ms === null ? null : Math.round(s.tt_ms),
    };
    this.notifier.notify(alarm.rule, transition, this.silencedUntil(node.name, alarm.rule.id, alarm.subject, now) !== null);
  }

  /** The node's alarm set, retained, with the transition that changed it. */
  private publish(node: NodeAlarms, transition: AlarmTransition | null): void {
    if (!this.client?.connected) return; // republished on (re)connect
    const now = this.now();
    const message: NodeAlarmsMessage = {
      v: 1,
      node: node.name,
      ts_ms: now,
      alarms: [...node.alarms.values()].filter((a) => a.state.state !== 'ok').map((a) => this.info(node.name, a, now)),
      transition,
    };
    this.client.publish(topics.alarms(node.name), JSON.stringify(message), { qos: 1, retain: true }, (err) => {
      if (err) this.options.log.warn({ node: node.name, err: err.message }, 'could not publish the alarm set');
    });
  }
}

function alarmKey(ruleId: string, subject: string): string {
  return `${ruleId}\u0000${subject}`;
}

function ackKey(node: string, ruleId: string, subject: string): string {
  return `${node}\u0000${ruleId}\u0000${subject}`;
}

/** Removes an alarm from its node, and its label set from the rule's count. */
function dropAlarm(node: NodeAlarms, key: string, alarm: Alarm): void {
  node.alarms.delete(key);
  if (alarm.labels === null) return;
  const left = (node.labelSets.get(alarm.rule.id) ?? 1) - 1;
  if (left > 0) node.labelSets.set(alarm.rule.id, left);
  else node.labelSets.delete(alarm.rule.id);
}
