// Slack incoming webhook (https://api.slack.com/messaging/webhooks): `text` in mrkdwn, the link as
// <url|label>; &, < and > escaped as Slack asks.
// `slack://hooks.slack.com/services/T…/B…/X…`: the webhook URL Slack gives, scheme replaced.
import * as v from 'valibot';
import { channelUrl, postJson, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

/** Slack truncates `text` past this many characters. */
const MAX_CHARS = 3000;

const escapeMrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const slackChannel: Channel = {
  schemes: ['slack'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), path: url.pathname }), {
    scheme: schemeParam,
    path: v.pipe(
      v.string(),
      v.regex(/^\/services\/[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9]+$/, "the path must be the webhook's: slack://hooks.slack.com/services/T…/B…/X…"),
    ),
  }),
  async send(url, message, ctx) {
    const link = message.url ? `\n<${message.url}|Open in remonitor>` : '';
    const text = `*${escapeMrkdwn(message.title)}*\n${escapeMrkdwn(renderText(message, MAX_CHARS - message.title.length - 200, false))}${link}`;
    await postJson(serviceUrl(url), { text }, ctx);
  },
};
