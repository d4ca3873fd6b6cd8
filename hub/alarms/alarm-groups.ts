// Grouping of alarm notifications, as Alertmanager does it: the transitions of one rule bound for
// one channel gather in a group, and the group speaks for them all in one message.
// - A group's first message waits `groupWaitMs` after its first change, so a burst (300 nodes
//   crossing a threshold within seconds) becomes one message that names them all.
// - Later changes wait until `groupIntervalMs` after the group's last message, and `groupWaitMs`
//   after the first of them, then go out together.
// - While something fires and nothing changes, the message is repeated every `repeatIntervalMs`.
// - Alarms back to OK are listed as resolved in the next message (when `sendResolved`); a group
//   with nothing firing any more is dropped after that message.
// - Each channel sends at most `limit.count` messages per `limit.windowMs` over all its groups; a
//   group that finds no room waits for it, gathering whatever changes meanwhile.
// Pure: time is what the caller passes in, so a table of cases runs without sleeping.
import type { AlarmLevel, AlarmTransition } from '../../shared/alarm-types.ts';
import { byLevel, worse, type AlarmMessage } from './channels/channel.ts';

export interface GroupTiming {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  sendResolved: boolean;
}

export interface GroupRule {
  id: string;
  metric: string;
  threshold: number;
  description: string | null;
}

export interface ChannelLimit {
  /** Messages per channel… */
  count: number;
  /** …per this window, ms. */
  windowMs: number;
}

export const DEFAULT_CHANNEL_LIMIT: ChannelLimit = { count: 10, windowMs: 60_000 };

interface Group {
  channel: string;
  rule: GroupRule;
  timing: GroupTiming;
  /** Each alarm's last transition, keyed `node \0 subject`. */
  alarms: Map<string, AlarmTransition>;
  /** When the first change not yet told happened; null when everything has been told. */
  changedSinceMs: number | null;
  lastSentMs: number | null;
  /** Waiting for room in its channel's rate limit. */
  held: boolean;
}

export interface OutgoingMessage {
  channel: string;
  message: AlarmMessage;
}

export class AlarmGroups {
  private readonly groups = new Map<string, Group>();
  /** Send times of each channel's recent messages, oldest first. */
  private readonly sent = new Map<string, number[]>();
  /** Messages put off because their channel had sent its limit (each counted once, however long it waits). */
  held = 0;

  constructor(
    private dashboardUrl: string | null = null,
    private readonly limit: ChannelLimit = DEFAULT_CHANNEL_LIMIT,
  ) {}

  setDashboardUrl(url: string): void {
    this.dashboardUrl = url;
  }

  /** Adds a transition to the group of its rule on each channel; cheap (no I/O). Returns when the earliest of those groups is due. */
  add(channels: readonly string[], rule: GroupRule, timing: GroupTiming, t: AlarmTransition, nowMs: number): number | null {
    const alarm = `${t.node}\u0000${t.subject}`;
    let earliest: number | null = null;
    for (const channel of channels) {
      const key = `${channel}\u0000${rule.id}`;
      let group = this.groups.get(key);
      if (!group) {
        group = { channel, rule, timing, alarms: new Map(), changedSinceMs: null, lastSentMs: null, held: false };
        this.groups.set(key, group);
      }
      group.rule = rule;
      group.timing = timing;
      group.alarms.set(alarm, t);
      group.changedSinceMs ??= nowMs;
      const due = this.dueMs(group);
      if (due !== null && (earliest === null || due < earliest)) earliest = due;
    }
    return earliest;
  }

  /** Forgets an alarm quietly (a silenced alarm that cleared): no "resolved" for it. */
  forget(channels: readonly string[], ruleId: string, node: string, subject: string): void {
    for (const channel of channels) {
      const key = `${channel}\u0000${ruleId}`;
      const group = this.groups.get(key);
      if (!group) continue;
      group.alarms.delete(`${node}\u0000${subject}`);
      if (group.alarms.size === 0) this.groups.delete(key);
    }
  }

  /** Drops, without a word, the groups `keep` refuses (a rule removed, a channel no longer listed): nothing repeats for them. */
  retain(keep: (channel: string, ruleId: string) => boolean): void {
    for (const [key, g] of this.groups) if (!keep(g.channel, g.rule.id)) this.groups.delete(key);
  }

  /** Forgets a node's alarms in every group without a word (a node removed from the fleet). */
  forgetNode(node: string): void {
    for (const [key, g] of this.groups) {
      for (const [alarm, t] of g.alarms) if (t.node === node) g.alarms.delete(alarm);
      if (g.alarms.size === 0) this.groups.delete(key);
    }
  }

  /** When the group's next message is due, or null when it has nothing to say. */
  private dueMs(g: Group): number | null {
    const firing = [...g.alarms.values()].some((t) => t.to !== 'ok');
    if (g.changedSinceMs !== null) {
      const wait = g.changedSinceMs + g.timing.groupWaitMs;
      return g.lastSentMs === null ? wait : Math.max(wait, g.lastSentMs + g.timing.groupIntervalMs);
    }
    if (firing && g.lastSentMs !== null) return g.lastSentMs + g.timing.repeatIntervalMs;
    return null;
  }

  /** The earliest time a message may be due, for a caller that sleeps until then; null when none. */
  nextDueMs(): number | null {
    let next: number | null = null;
    for (const g of this.groups.values()) {
      const due = this.dueMs(g);
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next;
  }

  /** The messages due at `nowMs`; with `everything`, every group with changes not yet told, due or not (the hub stops). */
  flush(nowMs: number, everything = false): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const [key, g] of this.groups) {
      const due = this.dueMs(g);
      if (due === null) {
        this.groups.delete(key);
        continue;
      }
      if (everything ? g.changedSinceMs === null : due > nowMs) continue; // everything untold, not repeats
      if (!everything && !this.room(g.channel, nowMs)) {
        if (!g.held) this.held++;
        g.held = true;
        continue;
      }
      g.held = false;
      const message = this.message(g);
      if (message) {
        out.push({ channel: g.channel, message });
        this.times(g.channel).push(nowMs);
      }
      if (everything) continue;
      for (const [alarm, t] of g.alarms) if (t.to === 'ok') g.alarms.delete(alarm);
      g.changedSinceMs = null;
      g.lastSentMs = nowMs;
      if (g.alarms.size === 0) this.groups.delete(key);
    }
    return out;
  }

  /** True when the channel may send one more message now. */
  private room(channel: string, nowMs: number): boolean {
    const times = this.times(channel);
    while (times.length > 0 && times[0]! <= nowMs - this.limit.windowMs) times.shift();
    return times.length < this.limit.count;
  }

  private times(channel: string): number[] {
    let times = this.sent.get(channel);
    if (!times) this.sent.set(channel, (times = []));
    return times;
  }

  private message(g: Group): AlarmMessage | null {
    const firing = [...g.alarms.values()].filter((t) => t.to !== 'ok').sort(byLevel);
    const resolved = g.timing.sendResolved ? [...g.alarms.values()].filter((t) => t.to === 'ok').sort(byLevel) : [];
    if (firing.length === 0 && resolved.length === 0) return null;
    const level = firing.reduce<AlarmLevel>((a, t) => worse(a, t.to), 'ok');
    const nodes = new Set([...firing, ...resolved].map((t) => t.node));
    const only = nodes.size === 1 ? [...nodes][0]! : null;
    const who = only ?? `${nodes.size} nodes`;
    const repeat = g.changedSinceMs === null && g.lastSentMs !== null;
    const title = firing.length > 0 ? `remonitor: ${who} ${g.rule.id} ${level.toUpperCase()}` : `remonitor: ${who} ${g.rule.id} OK`;
    const base = this.dashboardUrl?.replace(/\/+$/, '') ?? null;
    return {
      v: 1,
      status: firing.length > 0 ? 'firing' : 'resolved',
      level,
      repeat,
      title,
      rule: g.rule,
      firing,
      resolved,
      url: base === null ? null : only ? `${base}/nodes/${encodeURIComponent(only)}` : `${base}/alarms`,
    };
  }
}
