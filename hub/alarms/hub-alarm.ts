// The hub's own alarm: each problem of hub/hub-health.ts (a store that refuses writes, the broker
// out of reach, ingest behind) is a RED alarm among the nodes' on /api/alarms and the alarms page,
// under the pseudo-node "(hub)" (a name no node can have, so it is never taken for one) with the
// problem as its subject. Its raising and clearing go to the alarm history, written once the store
// is well again: on the main thread, a write to a locked database would hold up the whole hub
// until the lock went, /healthz with it. It sends no notification: notifications belong to rules,
// and no rule is about the hub.
import type { Logger } from '../../shared/logger.ts';
import type { AlarmInfo, AlarmLevel, AlarmTransition } from '../../shared/alarm-types.ts';
import type { AlarmsApi } from './alarms-api.ts';
import { whenStored } from '../storage/alarm-state.ts';
import type { AlarmEngine } from './engine.ts';
import type { HealthProblem, HealthSubject } from '../hub-health.ts';

export const HUB_ALARM_NODE = '(hub)';
export const HUB_ALARM_RULE = 'hub_health';

interface Raised {
  sinceMs: number;
  acked: boolean;
}

/** Transitions kept for the history while the store is unwell, at most (the oldest go first). */
const MAX_UNRECORDED = 100;
/** Problems of the database itself: no transition is written while one lasts. */
const STORE_PROBLEMS: readonly HealthSubject[] = ['store', 'ingest'];

export class HubAlarm {
  private readonly raised = new Map<HealthSubject, Raised>();
  /** Transitions not yet in the database, oldest first; the history shows them meanwhile. */
  private unrecorded: AlarmTransition[] = [];
  /** A write to a store that answers later is under way: the next waits for it, to keep the order. */
  private recording = false;

  constructor(
    private readonly engine: AlarmEngine,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Raises an alarm for each new problem and clears those of problems that ended. */
  update(problems: readonly HealthProblem[]): void {
    for (const p of problems) {
      if (this.raised.has(p.what)) continue;
      this.raised.set(p.what, { sinceMs: p.since_ms, acked: false });
      this.transition(p.what, 'ok', 'red');
    }
    for (const what of this.raised.keys()) {
      if (problems.some((p) => p.what === what)) continue;
      this.raised.delete(what);
      this.transition(what, 'red', 'ok');
    }
    if (!problems.some((p) => STORE_PROBLEMS.includes(p.what))) this.record();
  }

  private transition(subject: HealthSubject, from: AlarmLevel, to: AlarmLevel): void {
    this.unrecorded.push({
      ts_ms: this.now(),
      node: HUB_ALARM_NODE,
      rule_id: HUB_ALARM_RULE,
      subject,
      metric: HUB_ALARM_RULE,
      from,
      to,
      value: null,
      threshold: null,
      tt_ms: null,
    });
    if (this.unrecorded.length > MAX_UNRECORDED) this.unrecorded.shift();
  }

  /** Writes the kept transitions, oldest first, stopping at the first the database refuses. */
  private record(): void {
    while (this.unrecorded.length > 0 && !this.recording) {
      const next = this.unrecorded[0]!;
      let failed = false;
      const written = whenStored(
        () => this.engine.store.addTransition(next),
        () => {
          const i = this.unrecorded.indexOf(next); // the oldest may have gone past the cap meanwhile
          if (i >= 0) this.unrecorded.splice(i, 1);
        },
        (err) => {
          failed = true;
          this.log.warn({ err: err.message }, "could not store the hub alarm's transitions; kept for the next change");
        },
      );
      if (written) {
        this.recording = true;
        void written.finally(() => {
          this.recording = false;
          if (!failed) this.record();
        });
        return;
      }
      if (failed) return;
    }
  }

  active(): AlarmInfo[] {
    return [...this.raised].map(([subject, r]) => ({
      node: HUB_ALARM_NODE,
      rule_id: HUB_ALARM_RULE,
      subject,
      metric: HUB_ALARM_RULE,
      state: 'red',
      since_ms: r.sinceMs,
      value: null,
      threshold: 0,
      tt_ms: null,
      slope_per_h: null,
      r2: null,
      acked: r.acked,
      silenced_until_ms: null,
      flapping: false,
    }));
  }

  /** The engine's API for the routes, with the hub's alarms first among the active ones. */
  api(): AlarmsApi {
    const engine = this.engine;
    return {
      active: () => [...this.active(), ...engine.active()],
      history: async (fromMs) => [...this.unrecorded.filter((t) => t.ts_ms >= fromMs).reverse(), ...(await engine.history(fromMs))],
      listRules: () => engine.listRules(),
      rulesFileStatus: () => engine.rulesFileStatus(),
      addRule: (input) => engine.addRule(input),
      replaceRule: (id, input) => engine.replaceRule(id, input),
      replaceRules: (input) => engine.replaceRules(input),
      deleteRule: (id) => engine.deleteRule(id),
      ack: async (node, ruleId, subject, by) => {
        if (node !== HUB_ALARM_NODE) return engine.ack(node, ruleId, subject, by);
        const r = ruleId === HUB_ALARM_RULE ? this.raised.get(subject as HealthSubject) : undefined;
        if (r) r.acked = true;
        return r !== undefined;
      },
      silence: (req, by) => engine.silence(req, by),
      silences: () => engine.silences(),
      unsilence: (id) => engine.unsilence(id),
    };
  }
}
