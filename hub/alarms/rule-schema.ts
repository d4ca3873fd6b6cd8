// The rule schemas as the hub checks them (shared/alarm-rule-schema.ts), with where notifications
// may go judged here: each channel URL by its channel and host, each webhook and ntfy URL by its host.
import { alarmRuleSchema, ruleListSchema, rulesDocumentSchema, type DestinationSchemas } from '../../shared/alarm-rule-schema.ts';
import { ChannelUrlSchema } from './channels/index.ts';
import { DestinationUrlSchema } from './destination.ts';

const DESTINATIONS: DestinationSchemas = { channel: ChannelUrlSchema, destination: DestinationUrlSchema };

export const AlarmRuleSchema = alarmRuleSchema(DESTINATIONS);
export const RuleListSchema = ruleListSchema(DESTINATIONS);
export const RulesDocumentSchema = rulesDocumentSchema(DESTINATIONS);
