// Generic webhook: the message as JSON, POSTed to the URL as written (http or https). The body
// keeps the fields of the one-transition form (`transition`, `rule`, `suppressed`) and adds the
// grouped form: every alarm of the burst, its status and a link.
import type { AlarmTransition } from '../../../shared/alarm-types.ts';
import { byLevel, channelUrl, postJson, renderText, type AlarmMessage, type Channel } from './channel.ts';

/** The JSON body of a webhook call about alarms. */
export interface WebhookBody {
  /** `alarm_transition` when the message holds one alarm, `alarm_group` for more. */
  type: 'alarm_transition' | 'alarm_group';
  /** The latest change among the message's alarms (the only one, for `alarm_transition`). */
  transition: AlarmTransition;
  rule: NonNullable<AlarmMessage['rule']>;
  /** Kept for receivers of the one-transition form: changes are grouped now, never dropped, so 0. */
  suppressed: number;
  status: 'firing' | 'resolved';
  /** Nothing changed since the group's last message: sent again because it still fires. */
  repeat: boolean;
  title: string;
  /** The message as the text channels send it. */
  text: string;
  /** The node's page for one node, the alarms page for more; null when no dashboard URL is set. */
  url: string | null;
  /** Every alarm of the rule firing now, worst first, and those back to OK since the last message. */
  firing: AlarmTransition[];
  resolved: AlarmTransition[];
}

/** The JSON body the test button sends. */
export interface WebhookTestBody {
  type: 'test';
  title: string;
  text: string;
  url: string | null;
}

export function webhookBody(message: AlarmMessage): WebhookBody | WebhookTestBody {
  const text = renderText(message, Number.POSITIVE_INFINITY, false);
  const all = [...message.firing, ...message.resolved];
  const latest = all.reduce<AlarmTransition | null>((a, t) => (a === null || t.ts_ms > a.ts_ms ? t : a), null);
  if (message.status === 'test' || latest === null || message.rule === null) return { type: 'test', title: message.title, text, url: message.url };
  return {
    type: all.length === 1 ? 'alarm_transition' : 'alarm_group',
    transition: latest,
    rule: message.rule,
    suppressed: 0,
    status: message.status,
    repeat: message.repeat,
    title: message.title,
    text,
    url: message.url,
    firing: [...message.firing].sort(byLevel),
    resolved: message.resolved,
  };
}

export const webhookChannel: Channel = {
  schemes: ['http', 'https'],
  // Any http(s) URL: its host is all there is to judge.
  url: channelUrl(() => ({}), {}),
  async send(url, message, ctx) {
    await postJson(url.href, webhookBody(message), ctx);
  },
};
