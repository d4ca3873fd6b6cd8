// Discord webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook): one
// embed with the title, the text and the link; mentions switched off.
// `discord://discord.com/api/webhooks/ID/TOKEN`: the webhook URL Discord gives, scheme replaced.
import * as v from 'valibot';
import { channelUrl, postJson, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

const COLOR: Record<string, number> = { red: 0xd32f2f, offline: 0x616161, amber: 0xf9a825, ok: 0x2e7d32 };
/** Discord's limits on an embed's description and title, characters. */
const MAX_DESCRIPTION = 4096;
const MAX_TITLE = 256;

export const discordChannel: Channel = {
  schemes: ['discord'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), path: url.pathname }), {
    scheme: schemeParam,
    path: v.pipe(v.string(), v.regex(/^\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+$/, "the path must be the webhook's: discord://discord.com/api/webhooks/ID/TOKEN")),
  }),
  async send(url, message, ctx) {
    const embed = {
      title: message.title.slice(0, MAX_TITLE),
      description: renderText(message, MAX_DESCRIPTION, false),
      color: message.status === 'test' ? 0x1565c0 : COLOR[message.level],
      ...(message.url ? { url: message.url } : {}),
    };
    await postJson(serviceUrl(url), { embeds: [embed], allowed_mentions: { parse: [] } }, ctx);
  },
};
