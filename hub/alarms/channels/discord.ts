// Discord webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook): one
// embed with the title, the text and the link; mentions switched off.
// `discord://discord.com/api/webhooks/ID/TOKEN`: the webhook URL Discord gives, scheme replaced.
import { postJson, renderText, schemeProblems, serviceUrl, type Channel } from './channel.ts';

const COLOR: Record<string, number> = { red: 0xd32f2f, offline: 0x616161, amber: 0xf9a825, ok: 0x2e7d32 };
/** Discord's limits on an embed's description and title, characters. */
const MAX_DESCRIPTION = 4096;
const MAX_TITLE = 256;

export const discordChannel: Channel = {
  schemes: ['discord'],
  validate(url) {
    const problems = schemeProblems(url);
    if (!/^\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+$/.test(url.pathname))
      problems.push("the path must be the webhook's: discord://discord.com/api/webhooks/ID/TOKEN");
    return problems;
  },
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
