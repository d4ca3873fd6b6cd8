// What the alarms API needs of the engine: the engine (engine.ts) and the hub's own alarm
// (hub/hub-alarm.ts) implement it; web/alarm-routes.ts serves it.
import type { AlarmInfo, AlarmTransition, SilenceInfo, SilenceRequest } from '../../shared/alarm-types.ts';
import type { AlarmRuleInput } from './rules.ts';

/** Reads and changes of alarm state and rules, as the web routes call them. */
export interface AlarmsApi {
  active(): AlarmInfo[];
  history(fromMs: number): AlarmTransition[];
  listRules(): AlarmRuleInput[];
  addRule(input: unknown): AlarmRuleInput;
  replaceRule(id: string, input: unknown): AlarmRuleInput;
  deleteRule(id: string): void;
  ack(node: string, ruleId: string, subject: string, by: string | null): boolean;
  silence(req: SilenceRequest): SilenceInfo;
  silences(): SilenceInfo[];
  unsilence(id: number): boolean;
}
