// What the alarms API needs of the engine: the engine (engine.ts) and the hub's own alarm
// (hub/alarms/hub-alarm.ts) implement it; web/alarm-routes.ts serves it.
import type { AlarmInfo, AlarmTransition, RulesFileStatus, SilenceInfo } from '../../shared/alarm-types.ts';
import type { AlarmRuleInput } from './rules.ts';

/**
 * Reads and changes of alarm state and rules, as the web routes call them. Changes refused throw an
 * error carrying `problems` ({field, problem}) and a `status` (400, 404, 409).
 */
export interface AlarmsApi {
  active(): AlarmInfo[];
  /** Reads of the alarm state may wait for its database (PostgreSQL), so they and the changes are async. */
  history(fromMs: number): Promise<AlarmTransition[]>;
  listRules(): AlarmRuleInput[];
  rulesFileStatus(): RulesFileStatus;
  addRule(input: unknown): AlarmRuleInput;
  replaceRule(id: string, input: unknown): AlarmRuleInput;
  /** The whole set, as the rules file's JSON. */
  replaceRules(input: unknown): AlarmRuleInput[];
  deleteRule(id: string): void;
  ack(node: string, ruleId: string, subject: string, by: string | null): Promise<boolean>;
  /** `req` as POST /api/alarms/silence got it (SilenceRequest when valid); `by` the signed-in user. */
  silence(req: unknown, by: string | null): Promise<SilenceInfo>;
  silences(): Promise<SilenceInfo[]>;
  unsilence(id: number): Promise<boolean>;
}
